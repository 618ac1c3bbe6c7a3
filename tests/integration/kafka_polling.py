"""Polling a topic until a condition holds, with a deadline (no sleeps)."""

import time
from typing import Callable, List, Tuple

from kafka import KafkaConsumer

Records = List[Tuple[bytes, bytes]]


def poll_topic_until(
    bootstrap: str, topic: str, done: Callable[[Records], bool], timeout_s: float = 120.0
) -> Records:
    """Reads `topic` from the beginning, collecting (key, value), until `done(records)`.

    Raises:
      AssertionError: the deadline passed first (the message says how many were seen).
    """
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset='earliest',
        enable_auto_commit=False,
        client_id='goldstream-test-poller',
    )
    records: Records = []
    try:
        deadline = time.monotonic() + timeout_s
        while not done(records):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f'{topic}: condition not met within {timeout_s:.0f} s; '
                    f'{len(records)} records seen'
                )
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend((r.key, r.value) for r in batch)
        return records
    finally:
        consumer.close()
