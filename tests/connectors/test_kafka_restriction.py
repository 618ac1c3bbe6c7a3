"""Offset restrictions and the event-time watermark of ReadFromKafka, without a broker."""

import time

from apache_beam.io.restriction_trackers import OffsetRange
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Duration, Timestamp

from connectors.kafka_partitions import PartitionRead
from connectors.kafka_restriction import (
    UNBOUNDED_STOP,
    EventTimeWatermark,
    EventTimeWatermarkProvider,
    PartitionRestrictionProvider,
)

PROVIDER = PartitionRestrictionProvider()
BOUNDED = PartitionRead('orders', 0, 10, 110)
UNBOUNDED = PartitionRead('orders', 1, 10, None)


def test_one_restriction_per_partition_open_ended_when_unbounded():
    assert PROVIDER.initial_restriction(BOUNDED) == OffsetRange(10, 110)
    assert PROVIDER.initial_restriction(UNBOUNDED) == OffsetRange(10, UNBOUNDED_STOP)
    assert list(PROVIDER.split(BOUNDED, OffsetRange(10, 110))) == [OffsetRange(10, 110)]


def test_unbounded_tracker_only_splits_to_checkpoint():
    tracker = PROVIDER.create_tracker(PROVIDER.initial_restriction(UNBOUNDED))
    assert not tracker.is_bounded()
    assert tracker.try_claim(10) and tracker.try_claim(11)
    assert tracker.try_split(0.5) is None
    primary, residual = tracker.try_split(0)
    assert primary == OffsetRange(10, 12) and residual == OffsetRange(12, UNBOUNDED_STOP)
    tracker.check_done()


def test_bounded_tracker_is_bounded_and_splits_its_remainder():
    tracker = PROVIDER.create_tracker(OffsetRange(10, 110))
    assert tracker.is_bounded()
    assert tracker.try_claim(10)
    primary, residual = tracker.try_split(0.5)
    assert primary.stop == residual.start and residual.stop == 110


def test_sizes_and_drain():
    assert PROVIDER.restriction_size(BOUNDED, OffsetRange(10, 110)) == 100
    assert PROVIDER.restriction_size(UNBOUNDED, OffsetRange(10, UNBOUNDED_STOP)) == 1
    assert PROVIDER.truncate(UNBOUNDED, OffsetRange(10, UNBOUNDED_STOP)) is None
    assert PROVIDER.truncate(BOUNDED, OffsetRange(10, 110)) == OffsetRange(10, 110)


def seconds(value):
    return Timestamp(seconds=value)


def test_watermark_is_largest_event_time_less_the_bound_and_never_goes_back():
    estimator = EventTimeWatermark(
        (MIN_TIMESTAMP, MIN_TIMESTAMP, time.time(), MIN_TIMESTAMP),
        Duration(seconds=5),
        idle_timeout_s=3600,
    )
    assert estimator.current_watermark() == MIN_TIMESTAMP
    estimator.observe_timestamp(seconds(1_000))
    estimator.observe_timestamp(seconds(990))  # out of order: does not pull it back
    assert estimator.current_watermark() == seconds(995)
    estimator.observe_timestamp(seconds(1_010))
    assert estimator.current_watermark() == seconds(1_005)


def test_idle_partition_moves_its_watermark_to_wall_clock_less_the_bound():
    long_ago = time.time() - 60
    estimator = EventTimeWatermark(
        (MIN_TIMESTAMP, seconds(1_000), long_ago, seconds(1_000)),
        Duration(seconds=5),
        idle_timeout_s=10,
    )
    before = Timestamp.now()
    watermark = estimator.current_watermark()
    assert before - Duration(seconds=5) <= watermark <= Timestamp.now()


def test_watermark_state_survives_a_checkpoint():
    provider = EventTimeWatermarkProvider(Duration(seconds=1), idle_timeout_s=3600)
    estimator = provider.create_watermark_estimator(
        provider.initial_estimator_state(UNBOUNDED, None)
    )
    estimator.observe_timestamp(seconds(500))
    estimator.current_watermark()
    coder = provider.estimator_state_coder()
    state = coder.decode(coder.encode(estimator.get_estimator_state()))
    resumed = provider.create_watermark_estimator(state)
    assert resumed.current_watermark() == seconds(499)
    assert resumed.last_timestamp() == seconds(500)


def test_bounded_reads_hold_the_watermark_until_done():
    long_ago = time.time() - 60  # idle: an unbounded read would move to wall clock by now
    provider = EventTimeWatermarkProvider(Duration(seconds=1), idle_timeout_s=10, hold=True)
    estimator = provider.create_watermark_estimator(
        (MIN_TIMESTAMP, seconds(500), long_ago, seconds(500))
    )
    estimator.observe_timestamp(seconds(600))
    assert estimator.current_watermark() == MIN_TIMESTAMP
