"""Writing test records straight into one partition of a topic on the test broker."""

from typing import Optional, Sequence

from kafka import KafkaProducer


def produce_to_partition(
    bootstrap: str,
    topic: str,
    partition: int,
    values: Sequence[bytes],
    timestamps_ms: Optional[Sequence[int]] = None,
) -> None:
    """Sends `values` (with Kafka timestamps `timestamps_ms`, else the broker's clock) to
    `partition` and returns once the broker acknowledged them all."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', linger_ms=20)
    try:
        for n, value in enumerate(values):
            timestamp_ms = None if timestamps_ms is None else timestamps_ms[n]
            producer.send(topic, value=value, partition=partition, timestamp_ms=timestamp_ms)
        producer.flush()
    finally:
        producer.close()
