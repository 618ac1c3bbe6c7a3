"""The splittable-DoFn pieces of ReadFromKafka: offset restrictions and the watermark.

One restriction per topic-partition: an offset range, open at the end when the read is
unbounded. The watermark of a partition is the largest event time seen less an
out-of-orderness bound; a partition with no records for `idle_timeout` stops holding the
watermark back (its own watermark moves to wall-clock time less the bound).
"""

import sys
import time
from typing import Optional, Tuple

from apache_beam import coders
from apache_beam.io.iobase import WatermarkEstimator
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.transforms.core import RestrictionProvider, WatermarkEstimatorProvider
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Duration, Timestamp

from connectors.kafka_partitions import PartitionRead

UNBOUNDED_STOP = sys.maxsize  # the end of an unbounded partition's offset range


class KafkaOffsetTracker(OffsetRestrictionTracker):
    """An offset tracker that knows an open-ended range is unbounded.

    An unbounded range only splits for checkpoints (fraction 0): splitting it elsewhere would
    hand a reader offsets that Kafka will not have for centuries.
    """

    def is_bounded(self) -> bool:
        return self._range.stop != UNBOUNDED_STOP

    def try_split(self, fraction_of_remainder):
        if not self.is_bounded() and fraction_of_remainder != 0:
            return None
        return super().try_split(fraction_of_remainder)


class PartitionRestrictionProvider(RestrictionProvider):
    """Restrictions over a PartitionRead: the whole offset range, never split up front."""

    def initial_restriction(self, element: PartitionRead) -> OffsetRange:
        stop = UNBOUNDED_STOP if element.stop_offset is None else element.stop_offset
        return OffsetRange(element.start_offset, stop)

    def create_tracker(self, restriction: OffsetRange) -> KafkaOffsetTracker:
        return KafkaOffsetTracker(restriction)

    def split(self, element, restriction):
        yield restriction  # the unit of parallelism is the partition

    def restriction_size(self, element, restriction: OffsetRange) -> int:
        if restriction.stop == UNBOUNDED_STOP:
            return 1  # unknown backlog; a small size keeps runners from splitting for it
        return restriction.size()

    def truncate(self, element, restriction: OffsetRange) -> Optional[OffsetRange]:
        if restriction.stop == UNBOUNDED_STOP:
            return None  # on drain an unbounded partition simply stops
        return restriction


# Estimator state: (watermark, largest event time seen, wall-clock seconds of the last record,
# timestamp of the last record)
WatermarkState = Tuple[Timestamp, Timestamp, float, Timestamp]


class EventTimeWatermark(WatermarkEstimator):
    """Largest event time seen less `bound`; after `idle_timeout` without records, wall
    clock less `bound`. Never moves backwards. With `hold` (bounded reads) it reports the
    minimum until the read is done, so no record of a bounded read is ever late."""

    def __init__(
        self, state: WatermarkState, bound: Duration, idle_timeout_s: float, hold: bool = False
    ):
        self._watermark, self._max_event_time, self._last_record_at, self._last_timestamp = state
        self._bound = bound
        self._idle_timeout_s = idle_timeout_s
        self._hold = hold

    def observe_timestamp(self, timestamp: Timestamp) -> None:
        if timestamp > self._max_event_time:
            self._max_event_time = timestamp
        self._last_record_at = time.time()
        self._last_timestamp = timestamp

    def last_timestamp(self) -> Timestamp:
        """The timestamp of the restriction's last record (MIN before its first). It is part of
        the estimator state, so it survives a checkpoint, a split and a resume."""
        return self._last_timestamp

    def current_watermark(self) -> Timestamp:
        candidate = MIN_TIMESTAMP
        if self._max_event_time > MIN_TIMESTAMP:
            candidate = self._max_event_time - self._bound
        if time.time() - self._last_record_at >= self._idle_timeout_s:
            candidate = max(candidate, Timestamp.now() - self._bound)
        if candidate > self._watermark:
            self._watermark = candidate
        return MIN_TIMESTAMP if self._hold else self._watermark

    def get_estimator_state(self) -> WatermarkState:
        return self._watermark, self._max_event_time, self._last_record_at, self._last_timestamp


class EventTimeWatermarkProvider(WatermarkEstimatorProvider):
    """Creates an EventTimeWatermark per restriction."""

    def __init__(self, out_of_orderness: Duration, idle_timeout_s: float, hold: bool = False):
        self._bound = out_of_orderness
        self._idle_timeout_s = idle_timeout_s
        self._hold = hold

    def initial_estimator_state(self, element, restriction) -> WatermarkState:
        return MIN_TIMESTAMP, MIN_TIMESTAMP, time.time(), MIN_TIMESTAMP

    def create_watermark_estimator(self, estimator_state: WatermarkState) -> EventTimeWatermark:
        return EventTimeWatermark(estimator_state, self._bound, self._idle_timeout_s, self._hold)

    def estimator_state_coder(self):
        return coders.PickleCoder()
