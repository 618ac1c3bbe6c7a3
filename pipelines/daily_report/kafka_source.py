"""The daily report's Kafka source: one UTC day of the orders topic, read by Kafka time.

`ReadKafkaDay` is `--source=kafka` of `pipelines.daily_report`: a bounded `ReadFromKafka` of
the records whose Kafka timestamp is in the day widened by a margin, then `IngestKafkaDay`:
the streaming pipeline's `IngestOrders` and a cut to the day. It gives what
`report_figures.ArchivedOrders` gives for the archive: the day's orders at their event time
and the day's dead letters.

Which records belong to the day:

* an order, by its event time (its `timestamp` field), whatever its Kafka timestamp, as
  long as that timestamp is within the margin of the day (so the order was read);
* a record that is not a valid order (a dead letter), by its Kafka timestamp: it has no
  event time to trust.

An order whose event time is in another day (read because of the margin, or early or late
in the day's range) is not a dead letter, and neither it nor a dead letter stamped in
another day is dropped silently: both belong to another day's report, and are counted as
`DailyReport/orders_of_other_days` and `DailyReport/dead_letters_of_other_days`.
"""

import datetime
from typing import Iterable, Optional, Sequence, Tuple, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.timestamp import Timestamp

from connectors.kafka_read import ReadFromKafka
from connectors.kafka_record import KafkaRecord
from connectors.kafka_security import KafkaSecurity
from pipelines.daily_report.figures import day_bounds_ms
from transforms.order_ingest import IngestOrders
from transforms.records import DEAD_LETTER, VALID


def kafka_time_range_ms(day: datetime.date, margin_s: float) -> Tuple[int, int]:
    """The range of Kafka timestamps the report of `day` reads: [start, stop), epoch millis.

    The UTC day widened by `margin_s` on both sides (never before the epoch).

    Raises:
        ValueError: If `margin_s` is negative.
    """
    if not margin_s >= 0:
        raise ValueError(f'margin_s must be 0 or more seconds, got {margin_s!r}')
    start_ms, end_ms = day_bounds_ms(day)
    margin_ms = round(margin_s * 1000)
    return max(0, start_ms - margin_ms), end_ms + margin_ms


class DayEndClock:
    """A picklable clock stuck at the end of the report's day, seconds since the epoch.

    `ValidateOrders` judges "at most one day in the future" against it, as
    `ArchivedOrders` does: an order of the day is never after it, and a re-run of the
    report next year gives the same dead letters.
    """

    def __init__(self, day: datetime.date):
        self._end_s = day_bounds_ms(day)[1] / 1000

    def __call__(self) -> float:
        return self._end_s


class IngestKafkaDay(beam.PTransform):
    """Raw order records at their Kafka time in; the day's orders and dead letters out.

    Input: a bounded PCollection of `KafkaRecord`, each timestamped with its Kafka
    timestamp (what `ReadFromKafka` gives by default), in the global window.

    Output: `{VALID: PCollection[Order], DEAD_LETTER: PCollection[DeadLetter]}`, as
    `report_figures.ArchivedOrders` gives: the orders whose event time is in `day`, at their
    event time, and the dead letters of `IngestOrders` whose record's Kafka timestamp is in
    `day`, at that timestamp. The rest is counted (see the module docstring), never a dead
    letter. The "at most one day in the future" rule is judged at the end of `day`
    (`DayEndClock`).
    """

    def __init__(self, day: datetime.date):
        super().__init__()
        if not isinstance(day, datetime.date):
            raise ValueError(f'day must be a datetime.date, got {day!r}')
        self._day = day

    def expand(self, records: beam.PCollection[KafkaRecord]):  # a dict: see the class
        start_ms, end_ms = day_bounds_ms(self._day)
        ingested = records | 'IngestOrders' >> IngestOrders(clock=DayEndClock(self._day))
        orders = ingested[VALID] | 'OrdersOfTheDay' >> beam.ParDo(
            _KeepDayFn(start_ms, end_ms, 'orders_of_other_days')
        )
        dead_letters = ingested[DEAD_LETTER] | 'DeadLettersOfTheDay' >> beam.ParDo(
            _KeepDayFn(start_ms, end_ms, 'dead_letters_of_other_days')
        )
        return {VALID: orders, DEAD_LETTER: dead_letters}


class _KeepDayFn(beam.DoFn):
    """Keeps the elements timestamped in [start, end); counts the others."""

    def __init__(self, start_ms: int, end_ms: int, other_days_counter: str):
        self._start = Timestamp(micros=start_ms * 1000)
        self._end = Timestamp(micros=end_ms * 1000)
        self._other_days = Metrics.counter('DailyReport', other_days_counter)

    def process(self, element, timestamp=beam.DoFn.TimestampParam) -> Iterable:
        if self._start <= timestamp < self._end:
            yield element
        else:
            self._other_days.inc()


class ReadKafkaDay(beam.PTransform):
    """The pipeline root in; the orders and dead letters of one UTC day of a topic out.

    Reads each partition of `topic` from the first offset whose Kafka timestamp is at or
    after the day's start less `margin_s` up to the first offset whose timestamp is at or
    after the day's end plus `margin_s` (or, if there is none yet, the end offset when the
    read starts): a bounded read that commits no offsets, so no consumer group is touched.
    Then `IngestKafkaDay`.

    Output: `{VALID: PCollection[Order], DEAD_LETTER: PCollection[DeadLetter]}`, bounded
    (see `IngestKafkaDay`).

    What the margin covers: an order produced after midnight with an event time before it
    (a late order), or produced with a Kafka timestamp behind its event time, is counted in
    the day of its event time when its Kafka timestamp is within `margin_s` of that day.
    Kafka timestamps are assumed to grow with the offset within a partition, as the
    producer's clock or the log-append time make them; a record whose Kafka timestamp jumps
    far ahead of its neighbours ends the range early.
    """

    def __init__(
        self,
        bootstrap_servers: Union[str, Sequence[str]],
        topic: str,
        day: datetime.date,
        margin_s: float,
        security: Optional[KafkaSecurity] = None,
    ):
        """Checks the configuration; raises ValueError saying what to fix.

        Args:
          bootstrap_servers: brokers as `host:port` (list or comma-separated string).
          topic: the orders topic.
          day: the UTC day.
          margin_s: seconds of Kafka time read before and after the day, >= 0.
          security: how to connect (plaintext when None); see `ReadFromKafka`.
        """
        super().__init__()
        self._ingest = IngestKafkaDay(day)
        start_ms, stop_ms = kafka_time_range_ms(day, margin_s)
        self._read = ReadFromKafka(
            bootstrap_servers,
            [topic],
            group_id=None,
            start_from=start_ms,
            stop_at=stop_ms,
            commit_offsets=False,
            security=security,
        )

    def expand(self, pbegin: beam.pvalue.PBegin):  # a dict of PCollections: see the class
        records = pbegin | 'ReadOrders' >> self._read
        return records | 'IngestKafkaDay' >> self._ingest
