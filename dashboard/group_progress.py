"""Whether the streaming job keeps up: consumer-group lag, throughput and a plain verdict.

`GroupProgress` takes successive `OffsetReading`s of the orders topic (end offsets and the
group's committed offsets) and gives lag per partition, orders/s in (end offsets moving) and out
(committed offsets moving), and a `Verdict`:

- `not_running`: the group has committed nothing on the topic, or its offsets have not moved
  for `stall_s` while orders wait (Beam's Kafka reader commits without joining the group, so
  "no members" alone does not mean stopped);
- `lagging`: the total lag is over the warning threshold;
- `ok` otherwise (caught up, or moving).

Pure logic: the caller reads Kafka and passes the clock.
"""

import collections
from typing import Dict, List, NamedTuple, Optional, Tuple

OK, LAGGING, NOT_RUNNING, UNREACHABLE = 'ok', 'lagging', 'not_running', 'broker_unreachable'
RATE_WINDOW_S = 10.0
"""Throughput is averaged over the readings of this many seconds."""

Partition = Tuple[str, int]


class OffsetReading(NamedTuple):
    """One look at the topic and the group.

    Attributes:
      at_s: Monotonic clock of the reading, seconds.
      end_offsets: (topic, partition) -> the offset the next record will get.
      committed: (topic, partition) -> the group's committed offset, for the partitions where
        it has one.
      members: Members of the group (None when unknown).
      group_state: The coordinator's state of the group, e.g. 'Empty', 'Stable' (None when
        unknown).
    """

    at_s: float
    end_offsets: Dict[Partition, int]
    committed: Dict[Partition, int]
    members: Optional[int] = None
    group_state: Optional[str] = None


class Verdict(NamedTuple):
    """A status for people: `code` (OK, LAGGING, NOT_RUNNING, UNREACHABLE) and a sentence."""

    code: str
    message: str


class GroupProgress:
    """Lag, throughput and verdict from successive readings (see the module docstring).

    Args:
      group: The consumer group's id, for messages.
      lag_warning: Total lag (records) over which the verdict is LAGGING.
      stall_s: Seconds without committed offsets moving, while lag > 0, before NOT_RUNNING.

    Raises:
      ValueError: a negative threshold or a stall time that is not positive.
    """

    def __init__(self, group: str, lag_warning: int = 1000, stall_s: float = 30.0) -> None:
        if lag_warning < 0:
            raise ValueError(f'the lag warning threshold must be >= 0, got {lag_warning}')
        if stall_s <= 0:
            raise ValueError(f'the stall time must be > 0 s, got {stall_s}')
        self.group, self.lag_warning, self.stall_s = group, lag_warning, stall_s
        self._readings: collections.deque = collections.deque()
        self._last_move_s: Optional[float] = None
        self.orders_in = 0
        """Records appended to the topic since the first reading (a counter)."""
        self.orders_out = 0
        """Records the group's committed offsets moved over since the first reading."""

    @property
    def latest(self) -> Optional[OffsetReading]:
        return self._readings[-1] if self._readings else None

    def add(self, reading: OffsetReading) -> None:
        """Takes a reading; offsets that go back (a reset, a re-created topic) count nothing."""
        previous = self.latest
        if previous is not None:
            self.orders_in += _moved(previous.end_offsets, reading.end_offsets)
            moved_out = _moved(previous.committed, reading.committed)
            self.orders_out += moved_out
            if moved_out or reading.committed.keys() - previous.committed.keys():
                self._last_move_s = reading.at_s
        if self._last_move_s is None:
            self._last_move_s = reading.at_s
        self._readings.append(reading)
        while reading.at_s - self._readings[0].at_s > RATE_WINDOW_S and len(self._readings) > 2:
            self._readings.popleft()

    def partitions(self) -> List[Dict]:
        """Per partition: topic, partition, end offset, committed offset (None if none), lag."""
        reading = self.latest
        if reading is None:
            return []
        rows = []
        for (topic, partition), end in sorted(reading.end_offsets.items()):
            committed = reading.committed.get((topic, partition))
            rows.append(
                {
                    'topic': topic,
                    'partition': partition,
                    'end_offset': end,
                    'committed': committed,
                    'lag': end - (committed if committed is not None else 0),
                }
            )
        return rows

    def total_lag(self) -> int:
        return sum(row['lag'] for row in self.partitions())

    def rates(self) -> Tuple[float, float]:
        """(orders/s in, orders/s out) over the last `RATE_WINDOW_S` of readings."""
        if len(self._readings) < 2:
            return 0.0, 0.0
        first, last = self._readings[0], self._readings[-1]
        elapsed = last.at_s - first.at_s
        if elapsed <= 0:
            return 0.0, 0.0
        return (
            _moved(first.end_offsets, last.end_offsets) / elapsed,
            _moved(first.committed, last.committed) / elapsed,
        )

    def verdict(self) -> Verdict:
        """The status of the group now (see the module docstring)."""
        reading = self.latest
        if reading is None:
            return Verdict(NOT_RUNNING, 'No reading of the consumer group yet.')
        lag = self.total_lag()
        if not reading.committed:
            return Verdict(
                NOT_RUNNING,
                (
                    f'The pipeline is not running: consumer group {self.group!r} has committed no '
                    f'offsets on this topic ({lag:,} orders wait). Start the streaming pipeline '
                    f'with --consumer_group={self.group}, or watch the group it uses (--group).'
                ),
            )
        still_s = reading.at_s - (reading.at_s if self._last_move_s is None else self._last_move_s)
        if lag > 0 and still_s >= self.stall_s:
            return Verdict(
                NOT_RUNNING,
                (
                    f'The pipeline is not running (or is stuck): group {self.group!r} has not '
                    f'committed for {still_s:,.0f} s while {lag:,} orders wait.'
                ),
            )
        if lag > self.lag_warning:
            return Verdict(
                LAGGING,
                (
                    f'The pipeline is lagging: {lag:,} orders behind (warning above '
                    f'{self.lag_warning:,}).'
                ),
            )
        if lag == 0:
            return Verdict(OK, 'The pipeline has caught up: every order is read.')
        return Verdict(OK, f'The pipeline keeps up: {lag:,} orders in flight.')


def _moved(before: Dict[Partition, int], after: Dict[Partition, int]) -> int:
    """Records the offsets moved over, partition by partition; a partition going back or
    new since `before` counts 0."""
    return sum(max(0, offset - before[p]) for p, offset in after.items() if p in before)
