"""ReadFromKafka: a pure-Python Kafka source for Beam on kafka-python.

A splittable DoFn with one restriction per topic-partition, real on every portable runner:
unbounded by default (it self-checkpoints and resumes after a delay when there is nothing to
read), or bounded for tests and back-fills. Offsets are committed to the consumer group only
when the runner finalizes the bundle that read them.

An unbounded read rides out a broker that is down or restarting: it connects on its first
read, not at set-up, and a read that meets a connection error claims nothing more, drops its
consumer and resumes later with a new one, from the first offset it did not emit. (A bundle
that failed instead would fail the whole job on Prism, which does not retry bundles.)
"""

import logging
import time
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Type, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Duration, Timestamp
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from connectors.kafka_config import KafkaConnection, checked_topics
from connectors.kafka_partitions import (
    COMMITTED,
    EARLIEST,
    LATEST,
    PartitionRead,
    StartFrom,
    StopAt,
    check_start_and_stop,
    plan_partition_reads,
)
from connectors.kafka_record import KafkaHeader, KafkaRecord
from connectors.kafka_restriction import (
    UNBOUNDED_STOP,
    EventTimeWatermarkProvider,
    PartitionRestrictionProvider,
)
from connectors.kafka_security import KafkaSecurity

_LOG = logging.getLogger(__name__)


def kafka_timestamp_ms(record: KafkaRecord) -> int:
    """The default event time: the record's Kafka timestamp."""
    return record.timestamp_ms


class ReadFromKafka(beam.PTransform):
    """Reads Kafka topics as a PCollection of `KafkaRecord`.

    Input: the pipeline root. Output: one `KafkaRecord` per Kafka record (key, value, topic,
    partition, offset, Kafka timestamp, headers), timestamped with `event_time_ms(record)`.
    Unbounded (`stop_at=None`, the default): the output is unbounded and its watermark, per
    partition, is the largest event time seen less `max_out_of_orderness_s`; a partition with
    no records for `idle_timeout_s` stops holding the watermark back. Bounded (`stop_at='end'`
    or an epoch-millis time): it reads up to the end offsets seen at start, or the records in
    `[start_from, stop_at)` by Kafka timestamp, then finishes. Output is in the global window.

    Delivery: at least once. With a `group_id`, a partition's offset is committed to the
    group when the runner finalizes the bundle that read up to it, never earlier.
    """

    def __init__(
        self,
        bootstrap_servers: Union[str, Sequence[str]],
        topics: Sequence[str],
        group_id: Optional[str] = None,
        start_from: StartFrom = COMMITTED,
        stop_at: StopAt = None,
        commit_offsets: Optional[bool] = None,
        committed_fallback: str = EARLIEST,
        event_time_ms: Callable[[KafkaRecord], Optional[int]] = kafka_timestamp_ms,
        max_out_of_orderness_s: float = 5.0,
        idle_timeout_s: float = 10.0,
        poll_timeout_ms: int = 200,
        resume_delay_s: float = 0.5,
        max_read_time_s: float = 1.0,
        security_protocol: str = 'PLAINTEXT',
        client_options: Optional[dict] = None,
        security: Optional[KafkaSecurity] = None,
        commit_start: bool = False,
        replay_s: float = 0.0,
    ):
        """Checks the configuration; raises ValueError saying what to fix.

        Args:
          bootstrap_servers: brokers as `host:port` (list or comma-separated string).
          topics: topic names to read; every partition of each becomes a restriction.
          group_id: consumer group; needed to start from or commit offsets.
          start_from: 'committed' (the group's offsets; `committed_fallback` where it has
            none), 'earliest', 'latest', or an epoch-millis Kafka timestamp.
          stop_at: None (unbounded), 'end' (the end offsets seen at start) or an epoch-millis
            Kafka timestamp (exclusive end of a time range).
          commit_offsets: commit read offsets to `group_id` in bundle finalization. By
            default True for unbounded reads with a group_id and False for bounded ones (the
            portable Flink runner cannot finalize bundles of batch pipelines).
          committed_fallback: 'earliest' or 'latest', for partitions the group never committed.
          event_time_ms: a record's event time in epoch millis, or None when the record has
            none worth trusting (an undecodable value). Such a record (and one for which the
            function raises) is counted as `records_without_event_time` and stamped with the
            timestamp of the record before it in its partition (kept in the watermark
            estimator's state, so a resumed or restarted read stamps it alike; else the
            watermark, else its Kafka timestamp), so it never moves the watermark.
          max_out_of_orderness_s: how far behind the largest event time the watermark stays.
          idle_timeout_s: quiet time after which a partition stops holding the watermark.
          poll_timeout_ms: how long one poll waits for records.
          resume_delay_s: unbounded, nothing to read: resume after this delay.
          max_read_time_s: a read stops (self-checkpoints) after this long, so bundles end.
          security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
          client_options: more kafka-python consumer options (SASL, SSL, tuning).
          security: how to authenticate and encrypt (what every command line's Kafka
            security options give); the password is read on the worker, when its client is
            made, from the variable or file the settings name. Instead of `security_protocol`
            and the SASL/SSL `client_options`.
          commit_start: when the job starts, move the group's committed offset of each
            partition to where the read starts if it has none or is behind: the anchor of
            ``connectors.kafka_commit.CommitDurableOffsets``, which then commits instead of
            this source (pass `commit_offsets=False`).
          replay_s: starting from committed offsets (a restart), first read again the
            records of this many seconds (Kafka time) before each partition's committed
            offset, marked ``KafkaRecord.replayed``: a stateful job rebuilds its state from
            them and sends none of their outputs again.
        """
        super().__init__()
        self._connection = KafkaConnection.of(
            bootstrap_servers, security_protocol, client_options, security
        )
        self._topics = checked_topics(topics)
        check_start_and_stop(start_from, stop_at)
        if committed_fallback not in (EARLIEST, LATEST):
            raise ValueError(
                f"committed_fallback must be 'earliest' or 'latest', got {committed_fallback!r}"
            )
        if commit_offsets is None:
            commit_offsets = stop_at is None and group_id is not None
        if (start_from == COMMITTED or commit_offsets or commit_start) and not group_id:
            raise ValueError(
                'a group_id is needed to start from committed offsets or to '
                "commit offsets; pass group_id=..., or start_from='earliest' "
                'and commit_offsets=False'
            )
        for name, value in (
            ('max_out_of_orderness_s', max_out_of_orderness_s),
            ('resume_delay_s', resume_delay_s),
        ):
            if not value >= 0:
                raise ValueError(f'{name} must be >= 0, got {value!r}')
        for name, value in (
            ('idle_timeout_s', idle_timeout_s),
            ('poll_timeout_ms', poll_timeout_ms),
            ('max_read_time_s', max_read_time_s),
        ):
            if not value > 0:
                raise ValueError(f'{name} must be > 0, got {value!r}')
        if not callable(event_time_ms):
            raise ValueError('event_time_ms must be a function of a KafkaRecord')
        self._group_id = group_id
        self._start_from = start_from
        self._stop_at = stop_at
        self._committed_fallback = committed_fallback
        self._commit_offsets = commit_offsets
        self._commit_start = commit_start
        if not replay_s >= 0:
            raise ValueError(f'replay_s must be >= 0, got {replay_s!r}')
        self._replay_s = replay_s
        self._reader_args = (
            self._connection,
            group_id if commit_offsets else None,
            event_time_ms,
            poll_timeout_ms,
            resume_delay_s,
            max_read_time_s,
        )
        # A bounded read holds the watermark until it is done, as a batch source does: its
        # records are never late, whatever order they come in.
        self._watermarks = EventTimeWatermarkProvider(
            Duration.of(max_out_of_orderness_s), idle_timeout_s, hold=stop_at is not None
        )

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[KafkaRecord]:
        reader_fn: Type[_ReadPartition]
        if self._stop_at is None:
            reader_fn = _ReadPartitionUnbounded
        elif self._commit_offsets:
            reader_fn = _ReadPartitionCommitting
        else:
            reader_fn = _ReadPartition
        reader = reader_fn(*self._reader_args, watermarks=self._watermarks)
        return (
            pbegin
            | 'Start' >> beam.Impulse()
            | 'PlanPartitionReads'
            >> beam.ParDo(
                _PlanPartitionReads(
                    self._connection,
                    self._topics,
                    self._group_id,
                    self._start_from,
                    self._stop_at,
                    self._committed_fallback,
                    self._commit_start,
                    self._replay_s,
                )
            )
            | 'SpreadPartitions' >> beam.Reshuffle()
            | 'ReadPartitions' >> beam.ParDo(reader).with_output_types(KafkaRecord)
        )


class _PlanPartitionReads(beam.DoFn):
    """Impulse in, one PartitionRead per partition of the topics out (when the job starts)."""

    def __init__(
        self,
        connection,
        topics,
        group_id,
        start_from,
        stop_at,
        committed_fallback,
        commit_start=False,
        replay_s=0.0,
    ):
        self._args = (
            connection,
            topics,
            group_id,
            start_from,
            stop_at,
            committed_fallback,
            commit_start,
            replay_s,
        )

    def process(self, unused_impulse) -> Iterable[PartitionRead]:
        yield from plan_partition_reads(*self._args)


# Records one poll hands over. The deadline of a read (`max_read_time_s`) is checked between
# polls, and everything downstream of the read runs in the same bundle, so a poll of kafka-
# python's default 500 records made a 0.25 s read last 1-2 s on a busy machine; the rest of a
# fetch stays buffered in the consumer for the next poll.
POLL_MAX_RECORDS = 100
# How long the broker holds a fetch that finds nothing new (kafka-python's default is 500 ms).
# A consumer has one fetch in flight per broker, so a read of one partition waits for the
# fetch the previous read (of another partition) left waiting; short, it keeps that wait
# short. `client_options` may set another.
FETCH_MAX_WAIT_MS = 100


class _ReadPartition(beam.DoFn):
    """The splittable DoFn: a PartitionRead in, its records out (bounded ranges)."""

    _restrictions = PartitionRestrictionProvider()

    def __init__(
        self,
        connection: KafkaConnection,
        commit_group: Optional[str],
        event_time_ms,
        poll_timeout_ms: int,
        resume_delay_s: float,
        max_read_time_s: float,
        watermarks: Optional[EventTimeWatermarkProvider] = None,
    ):
        self._connection = connection
        self._commit_group = commit_group
        self._event_time_ms = event_time_ms
        self._poll_timeout_ms = poll_timeout_ms
        self._resume_delay = Duration.of(resume_delay_s)
        self._outage_delay_s = max(1.0, resume_delay_s)
        self._max_read_time_s = max_read_time_s
        self._watermarks: Any = watermarks  # None only where unit tests read without a runner
        self._consumer: Any = None  # kafka-python's clients, made in setup
        self._committer: Any = None
        self._committed: Dict[Any, int] = {}
        self._records_read = Metrics.counter('ReadFromKafka', 'records_read')
        self._broker_unavailable = Metrics.counter('ReadFromKafka', 'reads_broker_unavailable')
        self._commit_failures = Metrics.counter('ReadFromKafka', 'commit_failures')
        self._without_event_time = Metrics.counter('ReadFromKafka', 'records_without_event_time')

    # The DoFn is its own watermark estimator provider, so the bound and idle timeout are the
    # ones this instance was configured with.
    def initial_estimator_state(self, element, restriction):
        return self._watermarks.initial_estimator_state(element, restriction)

    def create_watermark_estimator(self, estimator_state):
        return self._watermarks.create_watermark_estimator(estimator_state)

    def estimator_state_coder(self):
        return self._watermarks.estimator_state_coder()

    def setup(self):
        self._consumer = self._committer = None  # connected on first use

    def teardown(self):
        self._drop_consumer()
        self._drop_committer()

    def _connected_consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                **self._connection.consumer_config(
                    defaults={'fetch_max_wait_ms': FETCH_MAX_WAIT_MS},
                    enable_auto_commit=False,
                    client_id='goldstream-reader',
                )
            )
        return self._consumer

    def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        _close_quietly(consumer)

    def _drop_committer(self) -> None:
        committer, self._committer = self._committer, None
        _close_quietly(committer)

    def process(
        self,
        element: PartitionRead,
        tracker=beam.DoFn.RestrictionParam(_restrictions),
        watermark=beam.DoFn.WatermarkEstimatorParam(),
    ) -> Iterable[KafkaRecord]:
        yield from self._read(element, tracker, watermark, None)

    def _read(self, element: PartitionRead, tracker, watermark, finalizer):
        restriction = tracker.current_restriction()
        if restriction.start >= restriction.stop:
            return
        tp = TopicPartition(element.topic, element.partition)
        progress = _ReadProgress(restriction.start)
        try:
            try:
                yield from self._read_records(
                    tp, restriction, tracker, watermark, progress, element.replay_until
                )
            except KafkaError as error:
                if restriction.stop != UNBOUNDED_STOP or not _broker_away(error):
                    # A bounded read (a batch job) fails, for its runner to retry; so does a
                    # refusal no wait can cure (a wrong password, a topic not allowed).
                    raise
                # The broker is down or restarting: nothing more is claimed; a new consumer
                # resumes from the first offset not emitted.
                self._broker_unavailable.inc()
                _LOG.warning(
                    'Kafka read of %s paused (%s: %s); resuming in %.1f s',
                    tp,
                    type(error).__name__,
                    error,
                    self._outage_delay_s,
                )
                self._drop_consumer()
                tracker.defer_remainder(Duration.of(self._outage_delay_s))
        finally:
            # The records emitted, not those polled: a batch can run past the restriction's
            # stop (a bounded read by time, a split).
            self._records_read.inc(progress.emitted)
            # Registered even when nothing was read: Prism asks every bundle of a stage that
            # declares a finalizer to finalize, and fails those the SDK has already released.
            self._commit_when_finalized(finalizer, tp, progress.next_offset)

    def _read_records(
        self,
        tp: TopicPartition,
        restriction,
        tracker,
        watermark,
        progress: '_ReadProgress',
        replay_until: int = 0,
    ) -> Iterable[TimestampedValue]:
        consumer = self._connected_consumer()
        self._seek(consumer, tp, restriction.start)
        deadline = time.monotonic() + self._max_read_time_s
        while True:
            batch = consumer.poll(
                timeout_ms=self._poll_timeout_ms, max_records=POLL_MAX_RECORDS
            ).get(tp, ())
            for message in batch:
                if not tracker.try_claim(message.offset):
                    return
                record = _to_record(message, message.offset < replay_until)
                yield TimestampedValue(record, self._event_time(record, watermark))
                progress.emitted += 1
                progress.next_offset = message.offset + 1
            if not batch:
                if restriction.stop != UNBOUNDED_STOP:
                    if consumer.position(tp) >= restriction.stop:
                        tracker.try_claim(restriction.stop)  # only gaps were left: done
                        return
                elif _caught_up(consumer, tp):
                    tracker.defer_remainder(self._resume_delay)
                    return
                # Else the broker has not answered for this partition yet: kafka-python
                # sends one fetch per broker at a time, and the one in flight may still be
                # waiting on the partition this consumer read before. Poll again (until
                # the deadline): deferring now starves a partition whose turn keeps coming
                # while another's fetch waits.
            if time.monotonic() >= deadline:
                tracker.defer_remainder()
                return

    @staticmethod
    def _seek(consumer: KafkaConsumer, tp: TopicPartition, offset: int) -> None:
        if consumer.assignment() == {tp} and consumer.position(tp) == offset:
            return  # keeps what the consumer already fetched ahead
        consumer.assign([tp])
        consumer.seek(tp, offset)

    def _event_time(self, record: KafkaRecord, watermark) -> Timestamp:
        try:
            millis = self._event_time_ms(record)
        except Exception:  # pylint: disable=broad-except  # documented fallback, counted
            millis = None
        if millis is not None:
            return Timestamp(micros=int(millis) * 1000)
        self._without_event_time.inc()
        # The previous record's timestamp, from the watermark estimator's state rather than
        # this DoFn instance: a restriction resumed (or split off) in another instance, or
        # after a restart, must stamp the same record the same way.
        previous = watermark.last_timestamp()
        if previous > MIN_TIMESTAMP:
            return previous
        current = watermark.current_watermark()
        if current > MIN_TIMESTAMP:
            return current
        return Timestamp(micros=record.timestamp_ms * 1000)

    def _commit_when_finalized(self, finalizer, tp: TopicPartition, next_offset: int) -> None:
        if self._commit_group is None or finalizer is None:
            return
        self._committed.setdefault(tp, -1)
        finalizer.register(lambda: self._commit(tp, next_offset))

    def _commit(self, tp: TopicPartition, next_offset: int) -> None:
        if self._committed.get(tp, -1) >= next_offset:
            return  # nothing new, or a later bundle's commit already went through
        try:
            if self._committer is None:
                self._committer = KafkaConsumer(
                    **self._connection.consumer_config(
                        group_id=self._commit_group,
                        enable_auto_commit=False,
                        client_id='goldstream-committer',
                    )
                )
            self._committer.commit({tp: OffsetAndMetadata(next_offset, '', -1)})
        except KafkaError:
            # The broker is away: a later bundle's finalization commits a later offset.
            self._commit_failures.inc()
            self._drop_committer()
            return
        self._committed[tp] = next_offset


class _ReadPartitionCommitting(_ReadPartition):
    """The bounded reader that commits offsets in bundle finalization.

    A separate class because declaring a bundle finalizer at all makes the portable Flink
    runner refuse batch pipelines (apache/beam#19526).
    """

    # Beam reads the parameters by name: the finalizer comes in beside the base's two. (Laid
    # out as ruff format lays it, so the ignore stays on the line mypy reports.)
    def process(  # type: ignore[override]
        self,
        element: PartitionRead,
        finalizer=beam.DoFn.BundleFinalizerParam,
        tracker=beam.DoFn.RestrictionParam(_ReadPartition._restrictions),
        watermark=beam.DoFn.WatermarkEstimatorParam(),
    ) -> Iterable[KafkaRecord]:
        yield from self._read(element, tracker, watermark, finalizer)


class _ReadPartitionUnbounded(_ReadPartition):
    """The reader of open offset ranges: unbounded output, offsets committed in bundle
    finalization when there is a commit group."""

    @beam.DoFn.unbounded_per_element()
    def process(
        self,
        element: PartitionRead,
        finalizer=beam.DoFn.BundleFinalizerParam,
        tracker=beam.DoFn.RestrictionParam(_ReadPartition._restrictions),
        watermark=beam.DoFn.WatermarkEstimatorParam(),
    ) -> Iterable[KafkaRecord]:
        yield from self._read(element, tracker, watermark, finalizer)


def _caught_up(consumer: KafkaConsumer, tp: TopicPartition) -> bool:
    """Whether the broker said, since `tp` was assigned, that nothing is past the position."""
    highwater = consumer.highwater(tp)  # None until a fetch of tp was answered
    return highwater is not None and consumer.position(tp) >= highwater


def _broker_away(error: KafkaError) -> bool:
    """Whether the error says the broker is down or restarting (retriable), as opposed to a
    refusal that waiting cannot cure."""
    return bool(getattr(error, 'retriable', False))


class _ReadProgress:
    """What one read emitted so far: how many records, and the offset after the last."""

    __slots__ = ('emitted', 'next_offset')

    def __init__(self, start: int) -> None:
        self.emitted = 0
        self.next_offset = start


def _close_quietly(client) -> None:
    if client is None:
        return
    try:
        client.close()
    except (KafkaError, OSError):
        pass  # closing a client of a broker that is gone; nothing to keep


def _to_record(message, replayed: bool = False) -> KafkaRecord:
    headers = [KafkaHeader(key, value) for key, value in (message.headers or ())]
    return KafkaRecord(
        message.key,
        message.value,
        message.topic,
        message.partition,
        message.offset,
        message.timestamp,
        headers,
        replayed,
    )
