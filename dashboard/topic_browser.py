"""The topic browser's reads: topics with partitions and end offsets, and a topic's latest
records, decoded.

Each call opens its own short-lived group-less consumer (a person clicking, not a stream), so
a browse never disturbs the watcher. Failures raise `TopicNotFound` or `BrokerUnreachable`
with a sentence for the page.
"""

import base64
import datetime
from typing import Any, Dict, List, NamedTuple, Optional

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from dashboard.kafka_access import BrokerUnreachable, KafkaAccess, unreachable_message
from dashboard.record_kinds import decode_value

READ_DEADLINE_MS = 5_000
"""Longest a browse waits for the records it expects."""


class TopicSummary(NamedTuple):
    """A topic as the browser lists it."""

    name: str
    partitions: int
    end_offsets: Dict[int, int]
    """partition -> the offset the next record will get."""

    @property
    def records(self) -> int:
        """Sum of the end offsets: records ever written (less any deleted by retention)."""
        return sum(self.end_offsets.values())


class BrowsedRecord(NamedTuple):
    """One record as the browser shows it."""

    partition: int
    offset: int
    timestamp_ms: int
    key: Optional[str]
    kind: str
    encoding: str
    fields: Optional[Dict[str, Any]]
    error: Optional[str]

    @property
    def time(self) -> str:
        """The record's Kafka timestamp, ISO 8601 UTC to the millisecond."""
        moment = datetime.datetime.fromtimestamp(self.timestamp_ms / 1000, datetime.timezone.utc)
        return moment.isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def list_topics(access: KafkaAccess) -> List[TopicSummary]:
    """Every topic but Kafka's internal ones, with its partitions' end offsets, by name."""
    partitions = access.topics()
    names = [name for name, parts in partitions.items() if parts]
    ends = access.end_offsets(names) if names else {}
    return [
        TopicSummary(
            name, len(partitions[name]), {p: ends.get((name, p), 0) for p in partitions[name]}
        )
        for name in sorted(partitions)
    ]


def latest_records(
    access: KafkaAccess, topic: str, limit: int, kind_hint: Optional[str] = None
) -> List[BrowsedRecord]:
    """The last `limit` records of `topic` over all partitions, newest first.

    The last `limit` of each partition are read, merged by timestamp, and the newest `limit`
    kept. Raises TopicNotFound or BrokerUnreachable.
    """
    if limit < 1:
        raise ValueError(f'limit must be at least 1, got {limit}')
    ends = access.end_offsets([topic])
    consumer = None
    try:
        consumer = KafkaConsumer(**access.client_config(enable_auto_commit=False))
        records = _read_tails(consumer, ends, limit)
    except (KafkaError, OSError) as error:
        raise BrokerUnreachable(unreachable_message(access.bootstrap, error)) from None
    finally:
        if consumer is not None:
            consumer.close()
    records.sort(key=lambda r: (r.timestamp, r.partition, r.offset), reverse=True)
    return [_browsed(record, kind_hint) for record in records[:limit]]


def _read_tails(consumer: KafkaConsumer, ends: Dict, limit: int) -> list:
    wanted = {}
    for (topic, partition), end in ends.items():
        if end > 0:
            wanted[TopicPartition(topic, partition)] = end
    if not wanted:
        return []
    consumer.assign(list(wanted))
    begins = consumer.beginning_offsets(list(wanted))
    for tp, end in wanted.items():
        consumer.seek(tp, max(begins[tp], end - limit))
    records, pending = [], {tp for tp in wanted if begins[tp] < wanted[tp]}
    deadline_polls = max(1, READ_DEADLINE_MS // 200)
    for _ in range(deadline_polls):
        if not pending:
            break
        for tp, batch in consumer.poll(timeout_ms=200).items():
            records += [r for r in batch if r.offset < wanted[tp]]
            if batch and batch[-1].offset >= wanted[tp] - 1:
                pending.discard(tp)
    return records


def _browsed(record, kind_hint: Optional[str]) -> BrowsedRecord:
    value = decode_value(record.value, kind_hint)
    return BrowsedRecord(
        record.partition,
        record.offset,
        record.timestamp,
        _key_text(record.key),
        value.kind,
        value.encoding,
        value.fields,
        value.error,
    )


def _key_text(key: Optional[bytes]) -> Optional[str]:
    if key is None:
        return None
    try:
        return key.decode('utf-8')
    except UnicodeDecodeError:
        return 'base64:' + base64.b64encode(key).decode()
