"""The daily report: one UTC day of orders in; JSON, CSV and HTML figures out.

`pipeline` builds and runs it and `options` declares its options; `kafka_source` reads a day of
the orders topic, `figures` computes the figures, `assemble` turns them into the report dict and
`writers` and `html` write it. `python -m pipelines.daily_report` runs it."""
