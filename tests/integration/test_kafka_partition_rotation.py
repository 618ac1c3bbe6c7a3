"""One reader, several partitions in turn, as Prism hands restrictions to a DoFn instance:
every partition is read to its end.

kafka-python sends one fetch per broker at a time. A read of an idle partition leaves its
fetch waiting on the broker (up to `fetch_max_wait_ms`), so the next partition's first polls
come back empty; a reader that took an empty poll for "nothing to read" starved that
partition for good (the Prism restart test stalled this way).
"""

import time

from apache_beam.io.restriction_trackers import OffsetRange
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker
from apache_beam.utils.timestamp import Duration

from connectors.kafka_config import KafkaConnection
from connectors.kafka_partitions import PartitionRead
from connectors.kafka_read import _ReadPartitionUnbounded, kafka_timestamp_ms
from connectors.kafka_restriction import (
    UNBOUNDED_STOP,
    EventTimeWatermarkProvider,
    KafkaOffsetTracker,
)
from connectors.kafka_topics import ensure_topics
from tests.integration.kafka_records import produce_to_partition

RECORDS = 500
DEADLINE_S = 60.0


class PartitionReads:
    """Unbounded reads of a topic's partitions by one reader instance, from where each left
    off, as a runner resumes deferred restrictions."""

    def __init__(self, bootstrap, topic):
        self.topic = topic
        self.watermarks = EventTimeWatermarkProvider(Duration.of(5), 10.0)
        self.reader = _ReadPartitionUnbounded(
            # kafka-python's default wait, longer than a poll: the read must not rely on the
            # short wait it sets by default.
            KafkaConnection.of(bootstrap, client_options={'fetch_max_wait_ms': 500}),
            None,
            kafka_timestamp_ms,
            poll_timeout_ms=200,
            resume_delay_s=0.5,
            max_read_time_s=1.0,
            watermarks=self.watermarks,
        )
        self.reader.setup()
        self.next_offset = {}
        self.deferrals = {}

    def read(self, partition):
        """One read (one bundle's worth) of `partition`; returns the offsets it emitted."""
        start = self.next_offset.get(partition, 0)
        element = PartitionRead(self.topic, partition, start, UNBOUNDED_STOP)
        tracker = ThreadsafeRestrictionTracker(
            KafkaOffsetTracker(OffsetRange(start, UNBOUNDED_STOP))
        )
        estimator = self.watermarks.create_watermark_estimator(
            self.watermarks.initial_estimator_state(element, OffsetRange(start, UNBOUNDED_STOP))
        )
        emitted = [
            value.value.offset
            for value in self.reader.process(
                element,
                finalizer=None,
                tracker=RestrictionTrackerView(tracker),
                watermark=estimator,
            )
        ]
        if emitted:
            self.next_offset[partition] = emitted[-1] + 1
        self.deferrals[partition] = tracker.deferred_status()
        return emitted

    def close(self):
        self.reader.teardown()


def test_partitions_read_in_turn_by_two_readers_are_all_read_to_the_end(
    kafka_bootstrap, topic_name
):
    # Prism's pattern: two DoFn instances take turns over the three partitions. Before the
    # fix, partition 1 was never read: its turn always came while partition 0's fetch waited.
    ensure_topics(kafka_bootstrap, {topic_name: 3})
    readers = [PartitionReads(kafka_bootstrap, topic_name) for _ in range(2)]
    readers[1].next_offset = readers[0].next_offset  # one runner's view of the restrictions
    try:
        for partition in range(3):
            assert readers[0].read(partition) == []  # each read once while empty
        for partition in range(3):
            values = [b'record-%d' % n for n in range(RECORDS)]
            produce_to_partition(kafka_bootstrap, topic_name, partition, values)
        turns = 0
        deadline = time.monotonic() + DEADLINE_S
        while any(readers[0].next_offset.get(p, 0) < RECORDS for p in range(3)):
            assert time.monotonic() < deadline, (
                f'stalled after {turns} turns at {readers[0].next_offset}'
            )
            for partition in range(3):
                readers[turns % 2].read(partition)
            turns += 1
        assert readers[0].next_offset == {0: RECORDS, 1: RECORDS, 2: RECORDS}
        # Caught up, a read of a quiet partition ends and asks to resume after the reader's
        # delay, rather than spinning.
        assert readers[0].read(2) == []
        residual, delay = readers[0].deferrals[2]
        assert residual is not None and Duration.of(0) < delay <= Duration.of(0.5)
    finally:
        for reader in readers:
            reader.close()
