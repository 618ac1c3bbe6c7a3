"""Generated order traffic with its ground truth: plan, produce, and know what must come out.

`config` says what to generate, `plan` plans every record (`orders`, `scenarios`, `malformed`,
`reference_data`), `ground_truth` is what the pipeline must output for it, `producer` sends it
to Kafka and `simple` makes plain valid orders. `python -m pipelines.generator` runs it."""
