"""Commit a consumer group's offsets only once what the records produced is durable.

Each record read must be acknowledged twice, by two kinds of outputs (docs/delivery.md):

* ``STORED``: the record is in the archive (its file renamed into place), as an order or as
  a dead letter;
* ``DELIVERED``: what the record sends on is acknowledged by Kafka: a valid order's fraud
  check, with the alerts it raised, or a dead letter on the dead-letter topic.

The steps that make outputs durable emit ``Acknowledged`` marks (runs of offsets of one
partition); ``CommitDurableOffsets`` gathers them per partition and commits the first offset
that is not yet both stored and delivered, so a job killed at any moment restarts from
records whose outputs may be missing, never after them. Duplicates after a restart are
possible; every output has a deterministic id.

Offsets are assumed contiguous (no transaction markers or compacted-away records: the
commit would stop at such a gap, losing nothing but replaying more after a restart).
"""

import bisect
import time
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import apache_beam as beam
from apache_beam.coders import FastPrimitivesCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.transforms.window import GlobalWindows
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from connectors.kafka_config import KafkaConnection

STORED = 'stored'
DELIVERED = 'delivered'
KINDS = (STORED, DELIVERED)

Run = Tuple[int, int]
"""Offsets ``[start, stop)`` of one partition."""
Origin = Tuple[Optional[str], Optional[int], Optional[int]]
"""(topic, partition, offset) a record was read from; None parts: not read from Kafka."""


class Acknowledged(NamedTuple):
    """Offsets of one topic-partition whose outputs of one kind are durable.

    Attributes:
        topic: The topic read.
        partition: Its partition.
        kind: ``STORED`` or ``DELIVERED``.
        runs: Sorted, disjoint ``[start, stop)`` runs of offsets.
    """

    topic: str
    partition: int
    kind: str
    runs: Tuple[Run, ...]


def runs_of(offsets: Iterable[int]) -> Tuple[Run, ...]:
    """Offsets (any order, repeats allowed) as sorted, disjoint, merged runs."""
    runs: List[List[int]] = []
    for offset in sorted(set(offsets)):
        if runs and runs[-1][1] == offset:
            runs[-1][1] = offset + 1
        else:
            runs.append([offset, offset + 1])
    return tuple((start, stop) for start, stop in runs)


def acknowledged_of(kind: str, origins: Iterable[Origin]) -> List[Acknowledged]:
    """``Acknowledged`` marks of ``kind`` for (topic, partition, offset) origins; origins
    without a Kafka position (plain-bytes input) are skipped."""
    by_partition: Dict[Tuple[str, int], List[int]] = {}
    for topic, partition, offset in origins:
        if topic is None or partition is None or offset is None:
            continue
        by_partition.setdefault((topic, partition), []).append(offset)
    return [
        Acknowledged(topic, partition, kind, runs_of(offsets))
        for (topic, partition), offsets in sorted(by_partition.items())
    ]


def add_runs(runs: Sequence[Run], more: Sequence[Run]) -> List[Run]:
    """The union of two sorted run lists, merged."""
    merged: List[List[int]] = []
    for start, stop in sorted([*runs, *more]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return [(start, stop) for start, stop in merged]


def covered_until(runs: Sequence[Run], start: int) -> int:
    """The first offset at or after ``start`` not in ``runs`` (``start`` itself if none)."""
    at = bisect.bisect_right(runs, (start, float('inf'))) - 1
    if at >= 0 and runs[at][0] <= start < runs[at][1]:
        return runs[at][1]
    return start


def dropped_before(runs: Sequence[Run], offset: int) -> List[Run]:
    """``runs`` without the offsets before ``offset``."""
    return [(max(start, offset), stop) for start, stop in runs if stop > offset]


class PartitionProgress(NamedTuple):
    """What ``CommitDurableOffsets`` keeps per partition: the next offset to commit and the
    acknowledged runs after it, per kind."""

    next_offset: int
    stored: Tuple[Run, ...]
    delivered: Tuple[Run, ...]

    def with_marks(self, kind: str, runs: Sequence[Run]) -> 'PartitionProgress':
        if kind == STORED:
            return self._replace(stored=tuple(add_runs(self.stored, runs)))
        return self._replace(delivered=tuple(add_runs(self.delivered, runs)))

    def advanced(self) -> 'PartitionProgress':
        """Moves ``next_offset`` past every offset both stored and delivered."""
        offset = self.next_offset
        while True:
            after = min(covered_until(self.stored, offset), covered_until(self.delivered, offset))
            if after == offset:
                break
            offset = after
        return PartitionProgress(
            offset,
            tuple(dropped_before(self.stored, offset)),
            tuple(dropped_before(self.delivered, offset)),
        )


class CommitDurableOffsets(beam.PTransform):
    """``Acknowledged`` marks in; each partition's durable prefix committed to ``group_id``.

    The prefix starts at the group's committed offset when the job first sees the partition
    (``ReadFromKafka(commit_start=True)`` commits where reading starts for a new group).
    Commits happen at the end of each bundle that moved a partition forward. Counters
    (namespace ``CommitDurableOffsets``): ``commits``, ``commit_failures`` (the broker was
    away: a later bundle commits a later offset), ``marks_before_start`` (acknowledged offsets
    already committed: replays after a restart).
    """

    def __init__(self, connection: KafkaConnection, group_id: str) -> None:
        super().__init__()
        self._connection = connection
        self._group_id = group_id

    def expand(self, marks) -> beam.PCollection:
        """``marks``: one PCollection of ``Acknowledged``, or several (one per kind of
        output). Several are keyed each on its own and merged right before the commit step,
        so that on Prism the merge does not become a stage of its own."""
        inputs = tuple(marks) if isinstance(marks, (tuple, list)) else (marks,)
        keyed = [
            pcoll
            | f'GlobalWindow{suffix}' >> beam.WindowInto(GlobalWindows())
            | f'KeyByPartition{suffix}'
            >> beam.Map(_keyed_by_partition).with_output_types(Tuple[Tuple[str, int], Any])
            for pcoll, suffix in (
                (pcoll, '' if len(inputs) == 1 else str(index))
                for index, pcoll in enumerate(inputs)
            )
        ]
        merged = keyed[0] if len(keyed) == 1 else tuple(keyed) | 'MergeMarks' >> beam.Flatten()
        return merged | 'Commit' >> beam.ParDo(_CommitFn(self._connection, self._group_id))


def _keyed_by_partition(mark: Acknowledged) -> Tuple[Tuple[str, int], Acknowledged]:
    return (mark.topic, mark.partition), mark


class _CommitFn(beam.DoFn):
    PROGRESS = ReadModifyWriteStateSpec('progress', FastPrimitivesCoder())

    def __init__(self, connection: KafkaConnection, group_id: str) -> None:
        self._connection = connection
        self._group_id = group_id

    def setup(self) -> None:
        self._client: Optional[KafkaConsumer] = None
        self._commits = Metrics.counter('CommitDurableOffsets', 'commits')
        self._failures = Metrics.counter('CommitDurableOffsets', 'commit_failures')
        self._early = Metrics.counter('CommitDurableOffsets', 'marks_before_start')

    def teardown(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except (KafkaError, OSError):
                pass

    def start_bundle(self) -> None:
        self._to_commit: Dict[Tuple[str, int], int] = {}

    def process(
        self,
        element: Tuple[Tuple[str, int], Acknowledged],
        progress_state=beam.DoFn.StateParam(PROGRESS),
    ) -> None:
        (topic, partition), mark = element
        stored = progress_state.read()
        if stored is None:
            progress = PartitionProgress(self._committed(topic, partition), (), ())
        else:
            progress = PartitionProgress(stored[0], tuple(stored[1]), tuple(stored[2]))
        runs = [run for run in mark.runs if run[1] > progress.next_offset]
        if len(runs) < len(mark.runs):
            self._early.inc()
        before = progress.next_offset
        progress = progress.with_marks(mark.kind, dropped_before(runs, before)).advanced()
        progress_state.write(tuple(progress))
        if progress.next_offset > before:
            self._to_commit[(topic, partition)] = progress.next_offset

    def finish_bundle(self) -> None:
        if not self._to_commit:
            return
        offsets = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, '', -1)
            for (topic, partition), offset in self._to_commit.items()
        }
        try:
            self._connected().commit(offsets)
        except KafkaError:
            self._failures.inc()
            self.teardown()
            return
        self._commits.inc()

    def _connected(self) -> KafkaConsumer:
        if self._client is None:
            self._client = KafkaConsumer(
                **self._connection.consumer_config(
                    group_id=self._group_id,
                    enable_auto_commit=False,
                    client_id='goldstream-durable-committer',
                )
            )
        return self._client

    def _committed(self, topic: str, partition: int) -> int:
        """The group's committed offset; 0 when it has none (the source commits its start
        position for a new group, so this is only a fallback). A broker that is away is
        waited for (Prism fails the whole job on a failed bundle), up to a few minutes."""
        deadline = time.monotonic() + BROKER_WAIT_S
        while True:
            try:
                committed = self._connected().committed(TopicPartition(topic, partition))
                return committed if committed is not None else 0
            except KafkaError as error:
                self.teardown()
                if not getattr(error, 'retriable', False) or time.monotonic() > deadline:
                    raise
                time.sleep(1.0)  # bounded by the deadline above


BROKER_WAIT_S = 300.0
"""How long the commit step waits for an absent broker before its bundle fails."""
