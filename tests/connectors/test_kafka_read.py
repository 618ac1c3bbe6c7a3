"""The partition reader of ReadFromKafka over a fake consumer: what a read emits and counts."""

import collections

from apache_beam.io.restriction_trackers import OffsetRange
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker
from apache_beam.utils.timestamp import Duration
from kafka import TopicPartition

from connectors.kafka_config import KafkaConnection
from connectors.kafka_partitions import PartitionRead
from connectors.kafka_read import (
    POLL_MAX_RECORDS,
    _ReadPartition,
    _ReadPartitionUnbounded,
    kafka_timestamp_ms,
)
from connectors.kafka_restriction import (
    UNBOUNDED_STOP,
    EventTimeWatermarkProvider,
    KafkaOffsetTracker,
)

Message = collections.namedtuple('Message', 'topic partition offset timestamp key value headers')
BASE_MS = 1_780_000_000_000


class FakeConsumer:
    """One partition's log; each poll returns everything from the position on (at most
    `max_records`), and moves the position past what it returned, to the log's end (past
    gaps such as transaction markers) once it returned everything, as Kafka's fetch does."""

    def __init__(self, offsets, end):
        self._log = [
            Message('orders', 0, offset, BASE_MS + offset, None, b'%d' % offset, [])
            for offset in offsets
        ]
        self._end = end
        self._tp = TopicPartition('orders', 0)
        self._position = 0
        self._assigned = set()
        self.polls = 0
        self.unanswered_polls = 0  # polls before the broker answers a fetch of the partition
        self._highwater = None

    def assignment(self):
        return self._assigned

    def assign(self, partitions):
        self._assigned = set(partitions)

    def seek(self, tp, offset):
        self._position = offset

    def position(self, tp):
        return self._position

    def highwater(self, tp):
        return self._highwater

    def poll(self, timeout_ms, max_records=None):
        self.polled_at_most = max_records
        self.polls += 1
        if self.polls <= self.unanswered_polls:
            return {}  # another partition's fetch still holds the line to the broker
        self._highwater = self._end
        pending = [m for m in self._log if m.offset >= self._position]
        batch = pending[:max_records]
        if len(batch) < len(pending):
            self._position = batch[-1].offset + 1  # the rest stays buffered, as in kafka-python
        else:
            self._position = max(self._position, self._end)
        return {self._tp: batch} if batch else {}


class FakeCounter:
    def __init__(self):
        self.value = 0

    def inc(self, n=1):
        self.value += n


def new_reader(reader_class, watermarks, event_time_ms=kafka_timestamp_ms):
    """A reader with short polls, a long read deadline and a resume delay of 0.5 s."""
    return reader_class(
        KafkaConnection.of('127.0.0.1:9092'),
        None,
        event_time_ms,
        poll_timeout_ms=10,
        resume_delay_s=0.5,
        max_read_time_s=30.0,
        watermarks=watermarks,
    )


def read(offsets, end, start, stop):
    """Runs the reader over [start, stop) of a fake log of `offsets` that ends at `end`;
    returns (offsets emitted, records counted)."""
    watermarks = EventTimeWatermarkProvider(Duration.of(5), 10.0, hold=True)
    reader = new_reader(_ReadPartition, watermarks)
    reader._consumer = FakeConsumer(offsets, end)  # pylint: disable=protected-access
    reader._records_read = FakeCounter()  # pylint: disable=protected-access
    element = PartitionRead('orders', 0, start, stop)
    tracker = KafkaOffsetTracker(OffsetRange(start, stop))
    estimator = watermarks.create_watermark_estimator(
        watermarks.initial_estimator_state(element, tracker.current_restriction())
    )
    emitted = [
        value.value.offset
        for value in reader.process(element, tracker=tracker, watermark=estimator)
    ]
    tracker.check_done()
    return emitted, reader._records_read.value  # pylint: disable=protected-access


def test_a_batch_running_past_the_stop_emits_and_counts_only_the_range():
    # A bounded read by time stops inside the log: the poll returns records past the stop.
    assert read(range(10), 10, 2, 6) == ([2, 3, 4, 5], 4)


def test_gaps_in_the_offsets_end_the_read_at_the_stop():
    assert read([0, 1, 3, 4, 7], 8, 0, 6) == ([0, 1, 3, 4], 4)
    assert read([0, 1, 3], 6, 0, 6) == ([0, 1, 3], 3)  # the last offsets are markers


def test_a_poll_hands_over_a_bounded_batch_and_the_read_goes_on_with_the_rest():
    # The read's deadline is checked between polls: a poll must not hand over a whole fetch.
    offsets = range(2 * POLL_MAX_RECORDS + 50)
    assert read(offsets, len(offsets), 0, len(offsets)) == (list(offsets), len(offsets))


def test_the_reader_asks_for_at_most_poll_max_records():
    watermarks = EventTimeWatermarkProvider(Duration.of(5), 10.0, hold=True)
    reader = reader_over(range(10), kafka_timestamp_ms, watermarks)
    estimator = watermarks.create_watermark_estimator(
        watermarks.initial_estimator_state(PartitionRead('orders', 0, 0, 10), OffsetRange(0, 10))
    )
    stamped(reader, estimator, 0, 10)
    assert reader._consumer.polled_at_most == POLL_MAX_RECORDS == 100  # pylint: disable=protected-access


def reader_over(log, event_time_ms, watermarks):
    reader = new_reader(_ReadPartition, watermarks, event_time_ms)
    reader._consumer = FakeConsumer(log, len(log))  # pylint: disable=protected-access
    reader._records_read = FakeCounter()  # pylint: disable=protected-access
    reader._without_event_time = FakeCounter()  # pylint: disable=protected-access
    return reader


def stamped(reader, estimator, start, stop):
    """(offset, timestamp) of each record read from [start, stop), telling the estimator of
    each output as the SDK harness does."""
    tracker = KafkaOffsetTracker(OffsetRange(start, stop))
    out = []
    for value in reader.process(
        PartitionRead('orders', 0, start, stop), tracker=tracker, watermark=estimator
    ):
        estimator.observe_timestamp(value.timestamp)
        out.append((value.value.offset, value.timestamp.micros // 1000))
    return out


def test_a_record_without_event_time_takes_the_previous_records_time_even_after_a_resume():
    # Offset 3 is undecodable. Its read resumes in another DoFn instance (a checkpoint, a
    # split, a restart): it must still be stamped like the record before it, not with its
    # Kafka timestamp (which may be another day, and so another archive folder).
    def event_time_ms(record):
        return None if record.offset == 3 else BASE_MS + 60_000 * record.offset

    watermarks = EventTimeWatermarkProvider(Duration.of(5), 10.0, hold=True)
    first = watermarks.create_watermark_estimator(watermarks.initial_estimator_state(None, None))
    assert stamped(reader_over(range(5), event_time_ms, watermarks), first, 0, 3) == [
        (0, BASE_MS),
        (1, BASE_MS + 60_000),
        (2, BASE_MS + 120_000),
    ]
    coder = watermarks.estimator_state_coder()
    resumed = watermarks.create_watermark_estimator(
        coder.decode(coder.encode(first.get_estimator_state()))
    )
    another = reader_over(range(5), event_time_ms, watermarks)
    assert stamped(another, resumed, 3, 5) == [(3, BASE_MS + 120_000), (4, BASE_MS + 240_000)]
    assert another._without_event_time.value == 1  # pylint: disable=protected-access


def read_unbounded(log, start, unanswered_polls):
    """One unbounded read from `start` of a fake log whose first `unanswered_polls` polls
    come back empty; returns (offsets emitted, polls made, (residual, resume delay))."""
    watermarks = EventTimeWatermarkProvider(Duration.of(5), 10.0)
    reader = new_reader(_ReadPartitionUnbounded, watermarks)
    consumer = FakeConsumer(log, len(log))
    consumer.unanswered_polls = unanswered_polls
    reader._consumer = consumer  # pylint: disable=protected-access
    restriction = OffsetRange(start, UNBOUNDED_STOP)
    element = PartitionRead('orders', 0, start, UNBOUNDED_STOP)
    tracker = ThreadsafeRestrictionTracker(KafkaOffsetTracker(restriction))
    estimator = watermarks.create_watermark_estimator(
        watermarks.initial_estimator_state(element, restriction)
    )
    emitted = [
        value.value.offset
        for value in reader.process(
            element, finalizer=None, tracker=RestrictionTrackerView(tracker), watermark=estimator
        )
    ]
    return emitted, consumer.polls, tracker.deferred_status()


def test_an_unbounded_read_polls_on_until_the_broker_answered_for_its_partition():
    # Empty polls before any answer for this partition say nothing about the partition (the
    # consumer's one fetch may still wait on another): taking them for "caught up" starved
    # a partition on Prism.
    emitted, polls, (residual, _) = read_unbounded(range(5), 0, unanswered_polls=3)
    assert emitted == [0, 1, 2, 3, 4]
    assert polls == 5  # three unanswered, one with the records, one that finds the end
    assert residual.start == 5


def test_a_caught_up_unbounded_read_defers_by_the_resume_delay_after_one_empty_poll():
    emitted, polls, (residual, delay) = read_unbounded(range(5), 5, unanswered_polls=0)
    assert (emitted, polls) == ([], 1)
    assert residual.start == 5
    assert Duration.of(0) < delay <= Duration.of(0.5)
