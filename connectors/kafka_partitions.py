"""Planning a Kafka read: which partitions, from which offset, up to which offset.

Runs when the pipeline starts (inside the source's first step), so partitions are those the
topics have then, and the start offsets come from the consumer group, the log's ends, or a
timestamp.
"""

import dataclasses
from typing import Dict, Iterable, List, Optional, Sequence, TypeGuard, Union

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from connectors.kafka_config import KafkaConnection

EARLIEST = 'earliest'
LATEST = 'latest'
COMMITTED = 'committed'
START_POSITIONS = (COMMITTED, EARLIEST, LATEST)
END_AT_START = 'end'  # bounded read: stop at the end offsets seen when the read starts

StartFrom = Union[str, int]  # one of START_POSITIONS, or a timestamp in epoch millis
StopAt = Union[None, str, int]  # None (unbounded), END_AT_START, or a timestamp (exclusive)


@dataclasses.dataclass(frozen=True)
class PartitionRead:
    """The work of one restriction: offsets `[start_offset, stop_offset)` of one partition.

    `stop_offset` None means unbounded: read whatever arrives, forever.
    """

    topic: str
    partition: int
    start_offset: int
    stop_offset: Optional[int]
    replay_until: int = 0
    """Records before this offset are read again only to rebuild state
    (``KafkaRecord.replayed``)."""


def check_start_and_stop(start_from: StartFrom, stop_at: StopAt) -> None:
    """Raises ValueError, saying what is allowed, for a start or stop the source can't use."""
    if not (start_from in START_POSITIONS or _is_millis(start_from)):
        raise ValueError(
            f'start_from must be one of {", ".join(START_POSITIONS)} or a '
            f'timestamp in epoch millis (int >= 0); got {start_from!r}'
        )
    if not (stop_at is None or stop_at == END_AT_START or _is_millis(stop_at)):
        raise ValueError(
            f'stop_at must be None (unbounded), {END_AT_START!r} or a timestamp '
            f'in epoch millis (int >= 0); got {stop_at!r}'
        )
    if _is_millis(start_from) and _is_millis(stop_at) and stop_at < start_from:
        raise ValueError(
            f'the time range is empty: stop_at {stop_at} is before start_from {start_from}'
        )


def _is_millis(value) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def plan_partition_reads(
    connection: KafkaConnection,
    topics: Sequence[str],
    group_id: Optional[str],
    start_from: StartFrom,
    stop_at: StopAt,
    committed_fallback: str = EARLIEST,
    commit_start: bool = False,
    replay_s: float = 0.0,
) -> List[PartitionRead]:
    """Asks the brokers for the topics' partitions and resolves their start and stop offsets.

    With `commit_start`, the group's committed offset of a partition is moved to where the
    read starts when it has none or is behind it (the read skips those records on purpose):
    ``connectors.kafka_commit.CommitDurableOffsets`` counts the durable prefix from there.

    With `replay_s` and `start_from='committed'`, a partition the group committed (a restart)
    is read from the records of the `replay_s` (Kafka time) before its committed offset; those
    records are marked replayed (`PartitionRead.replay_until`), for a job to rebuild its state.

    Raises:
      RuntimeError: no broker answered (the message names the servers to check).
      ValueError: a topic does not exist.
    """
    try:
        consumer = KafkaConsumer(
            **connection.consumer_config(
                group_id=group_id, enable_auto_commit=False, client_id='goldstream-planner'
            )
        )
    except KafkaError as err:
        raise RuntimeError(
            f'no Kafka broker answered at {connection.describe()}: check bootstrap_servers, '
            f'that the broker runs, and the security settings ({err})'
        ) from err
    try:
        partitions = _partitions(consumer, topics, connection)
        starts = _start_offsets(consumer, partitions, start_from, committed_fallback)
        stops = _stop_offsets(consumer, partitions, stop_at)
        if commit_start:
            _commit_start(consumer, starts)
        replays = {}
        if replay_s > 0 and start_from == COMMITTED:
            replays = _replay_starts(consumer, partitions, int(replay_s * 1000))
    except KafkaError as err:
        raise RuntimeError(
            f'Kafka at {connection.describe()} refused to plan the read of {list(topics)}: {err}'
        ) from err
    finally:
        consumer.close()
    reads = []
    for tp in partitions:
        stop = stops.get(tp)
        start = starts[tp] if stop is None else min(starts[tp], stop)
        replay_from = min(replays.get(tp, start), start)
        reads.append(PartitionRead(tp.topic, tp.partition, replay_from, stop, start))
    return reads


def _replay_starts(
    consumer: KafkaConsumer, partitions: List[TopicPartition], replay_ms: int
) -> Dict[TopicPartition, int]:
    """Per committed partition: the first offset of the `replay_ms` (Kafka timestamps)
    before the record just before the committed offset."""
    beginnings = consumer.beginning_offsets(partitions)
    lasts = {}
    for tp in partitions:
        committed = consumer.committed(tp)
        if committed is not None and committed > beginnings[tp]:
            lasts[tp] = committed - 1
    times = {}
    for tp, offset in lasts.items():
        consumer.assign([tp])
        consumer.seek(tp, offset)
        records = consumer.poll(timeout_ms=5000, max_records=1).get(tp, [])
        if records:
            times[tp] = max(0, records[0].timestamp - replay_ms)
    found = consumer.offsets_for_times(times) if times else {}
    return {tp: found[tp].offset for tp in times if found.get(tp) is not None}


def _partitions(
    consumer: KafkaConsumer, topics: Iterable[str], connection: KafkaConnection
) -> List[TopicPartition]:
    existing = consumer.topics()
    partitions: List[TopicPartition] = []
    for topic in topics:
        ids = consumer.partitions_for_topic(topic) if topic in existing else None
        if not ids:
            raise ValueError(
                f'topic {topic!r} does not exist on {connection.describe()}: '
                f'create it first or fix the topic name'
            )
        partitions.extend(TopicPartition(topic, p) for p in sorted(ids))
    return partitions


def _start_offsets(
    consumer: KafkaConsumer,
    partitions: List[TopicPartition],
    start_from: StartFrom,
    committed_fallback: str,
) -> Dict[TopicPartition, int]:
    if start_from == EARLIEST:
        return consumer.beginning_offsets(partitions)
    if start_from == LATEST:
        return consumer.end_offsets(partitions)
    if start_from == COMMITTED:
        fallback = _start_offsets(consumer, partitions, committed_fallback, committed_fallback)
        offsets = {}
        for tp in partitions:
            committed = consumer.committed(tp)
            offsets[tp] = committed if committed is not None else fallback[tp]
        return offsets
    assert _is_millis(start_from)  # check_start_and_stop let no other string through
    return _offsets_at_time(consumer, partitions, start_from)


def _commit_start(consumer: KafkaConsumer, starts: Dict[TopicPartition, int]) -> None:
    ahead = {}
    for tp, start in starts.items():
        committed = consumer.committed(tp)
        if committed is None or committed < start:
            ahead[tp] = OffsetAndMetadata(start, '', -1)
    if ahead:
        consumer.commit(ahead)


def _stop_offsets(
    consumer: KafkaConsumer, partitions: List[TopicPartition], stop_at: StopAt
) -> Dict[TopicPartition, int]:
    if stop_at is None:
        return {}
    if stop_at == END_AT_START:
        return consumer.end_offsets(partitions)
    assert _is_millis(stop_at)  # check_start_and_stop let no other string through
    return _offsets_at_time(consumer, partitions, stop_at)


def _offsets_at_time(
    consumer: KafkaConsumer, partitions: List[TopicPartition], millis: int
) -> Dict[TopicPartition, int]:
    """The first offset whose timestamp is >= millis; the end offset when there is none."""
    found = consumer.offsets_for_times({tp: millis for tp in partitions})
    ends = consumer.end_offsets(partitions)
    return {tp: found[tp].offset if found.get(tp) is not None else ends[tp] for tp in partitions}
