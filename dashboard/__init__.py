"""The live view of a running goldstream pipeline: a page updated by server-sent events, a
topic browser and a Prometheus endpoint, all read from Kafka (output topics and the consumer
group's offsets), so it works beside any runner. Start it with `python -m dashboard`."""
