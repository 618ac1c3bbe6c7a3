"""The streaming pipeline: Kafka orders in; fraud alerts, metrics, dead letters and an archive out.

`pipeline` builds and runs it, `options` declares its options, `output_encoding` shapes the
records it writes to Kafka; `python -m pipelines.streaming` runs it."""
