"""The typed record ReadFromKafka emits: one Kafka record and where it came from."""

from typing import List, NamedTuple, Optional


class KafkaHeader(NamedTuple):
    """One Kafka record header."""

    key: str
    value: Optional[bytes]


class KafkaRecord(NamedTuple):
    """A record read from Kafka, with its origin (a Beam schema type).

    Attributes:
      key: the record key, or None.
      value: the record value, or None for a tombstone.
      topic, partition, offset: where the record was read; together they identify it.
      timestamp_ms: the record's Kafka timestamp (create or log-append time), epoch millis.
      headers: the record headers, in order.
      replayed: read again after a restart only to rebuild state: its outputs were already
        made durable before the group's committed offset (``PartitionRead.replay_until``).
    """

    key: Optional[bytes]
    value: Optional[bytes]
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    headers: List[KafkaHeader]
    replayed: bool = False
