"""Producing a traffic plan to Kafka: as fast as possible, or paced at a rate.

``produce_plan`` sends the plan's records in order, each with headers
``gen_id`` (from the plan) and ``produced_at_ms`` (the wall clock, epoch ms,
when it was handed to the producer, as ASCII decimal digits), and returns
every record's ``produced_at_ms`` so produce-to-output latency can be
measured without reading the topic back. ``read_range`` reads records back.

Pacing is by the clock, not by sleeping a fixed interval: record ``i`` is
sent at ``start + i / rate``, so the time spent sending never accumulates
into drift; a producer that falls behind catches up without sleeping.
"""

import collections
import sys
import threading
import time
from typing import (
    Callable,
    Dict,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    TextIO,
    Tuple,
    Union,
)

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from connectors.kafka_security import KafkaSecurity
from connectors.kafka_topics import broker_answers, ensure_topics
from pipelines.generator.plan import PlannedRecord, TrafficPlan

Clock = Callable[[], float]
PACING_TICK_S = 0.005


class BrokerUnavailable(ConnectionError):
    """No Kafka broker answered at the bootstrap address."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(
            f'no Kafka broker answered at {bootstrap}; start one with '
            f'./run_local.sh broker start or pass --brokers'
        )
        self.bootstrap = bootstrap


class ProduceError(RuntimeError):
    """Kafka did not acknowledge some records."""


class ProduceReport(NamedTuple):
    """What ``produce_plan`` did.

    Attributes:
        sent: Records acknowledged by Kafka (all of them, or it raised).
        produced_at_ms: Per record, in plan order: the wall clock (epoch ms)
            when it was sent; the value of its ``produced_at_ms`` header.
        elapsed_s: Seconds from the first send to the last acknowledgement.
    """

    sent: int
    produced_at_ms: Sequence[int]
    elapsed_s: float

    def by_order_id(self, records: Sequence[PlannedRecord]) -> dict:
        """``order_id -> produced_at_ms`` of the valid orders among ``records`` (the plan's)."""
        return {
            record.order_id: at
            for record, at in zip(records, self.produced_at_ms)
            if record.order_id is not None
        }


class Pacer:
    """Waits until record ``i`` is due: ``rate`` records per second from the first call."""

    def __init__(
        self,
        rate: float,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        tick_s: float = 0.0,
    ) -> None:
        """Configures the pace.

        Args:
            rate: Records per second, > 0.
            clock: A monotonic clock in seconds.
            sleep: Sleeps for a number of seconds.
            tick_s: A record due less than this far ahead goes at once: records leave in
                bursts of up to ``tick_s`` instead of one sleep each. At 1,000/s a sleep per
                record (with a producer thread woken for each) cost the generator 0.6 of a
                core; 5 ms ticks send the same records, never more than 5 ms early.

        Raises:
            ValueError: If ``rate`` is not > 0 or ``tick_s`` is negative.
        """
        if not rate > 0:
            raise ValueError(f'rate must be greater than 0, got {rate!r}')
        if tick_s < 0:
            raise ValueError(f'tick_s must not be negative, got {tick_s!r}')
        self._tick_s = tick_s
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._start: Optional[float] = None

    def wait(self, index: int) -> None:
        """Returns when record ``index`` (from 0) is due; at once if it is already."""
        now = self._clock()
        if self._start is None:
            self._start = now
        delay = self._start + index * self._interval - now
        if delay > self._tick_s:  # with no tick: whenever the record is not due yet
            self._sleep(delay)


class ProgressBar:
    """A one-line progress bar, redrawn at most every ``min_interval_s``; call with records done."""

    def __init__(
        self,
        total: int,
        label: str = 'producing',
        stream: TextIO = sys.stderr,
        clock: Clock = time.monotonic,
        min_interval_s: float = 0.2,
    ) -> None:
        self._total = total
        self._label = label
        self._stream = stream
        self._clock = clock
        self._min_interval_s = min_interval_s
        self._started = clock()
        self._drawn_at: Optional[float] = None

    def __call__(self, done: int) -> None:
        now = self._clock()
        finished = done >= self._total
        if (
            not finished
            and self._drawn_at is not None
            and now - self._drawn_at < self._min_interval_s
        ):
            return
        self._drawn_at = now
        elapsed = max(now - self._started, 1e-9)
        width = 30
        filled = width * min(done, self._total) // max(self._total, 1)
        self._stream.write(
            f'\r  {self._label} [{"#" * filled}{"." * (width - filled)}] '
            f'{done}/{self._total} {done / elapsed:,.0f}/s {elapsed:.1f} s'
        )
        if finished:
            self._stream.write('\n')
        self._stream.flush()


def produce_plan(
    bootstrap: str,
    topic: str,
    plan: Union[TrafficPlan, Sequence[PlannedRecord]],
    rate: Optional[float] = None,
    progress: Optional[Callable[[int], None]] = None,
    *,
    partitions: Optional[int] = 3,
    event_timestamps: bool = False,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    wall_clock: Clock = time.time,
    producer_factory: Optional[Callable[..., KafkaProducer]] = None,
    security: Optional[KafkaSecurity] = None,
) -> ProduceReport:
    """Sends a plan's records, in order, keyed by card id, with acks=all.

    Args:
        bootstrap: ``host:port`` of a broker.
        topic: The topic; created with ``partitions`` partitions when missing.
        plan: A plan, or its records (e.g. a slice of them).
        rate: Records per second, paced by the clock; None sends as fast as
            the producer takes them.
        progress: Called with the number of records sent so far (often), and
            with the total at the end.
        partitions: Partitions of a topic created here; None never creates it.
        event_timestamps: Set each record's Kafka timestamp to its planned
            ``event_time_ms`` (for a malformed record, the stream time it is
            placed at) instead of the send time. Useful when a consumer falls
            back to the Kafka timestamp for records whose event time it cannot
            read; but the broker's time-based retention then sees old records
            (the default start is a fixed day in the past), so use it only on
            short-lived topics.
        clock: Monotonic clock, seconds (for pacing and elapsed time).
        sleep: Sleeps, seconds.
        wall_clock: Wall clock, seconds since the epoch (``produced_at_ms``).
        producer_factory: Builds the producer from ``KafkaProducer`` keyword
            arguments (tests pass a fake); ``KafkaProducer`` when None.
        security: How to connect (connectors/kafka_security.py); plaintext when None.

    Returns:
        The report, with every record's send time.

    Raises:
        BrokerUnavailable: No broker answers at ``bootstrap``.
        ProduceError: Kafka did not acknowledge every record.
    """
    records = plan.records if isinstance(plan, TrafficPlan) else plan
    pacer = Pacer(rate, clock, sleep, tick_s=PACING_TICK_S) if rate is not None else None
    if producer_factory is None:
        if not broker_answers(bootstrap, security=security):
            raise BrokerUnavailable(bootstrap)
        producer_factory = KafkaProducer
        if partitions is not None:
            ensure_topics(bootstrap, {topic: partitions}, security=security)
    try:
        producer = producer_factory(
            bootstrap_servers=bootstrap,
            acks='all',
            linger_ms=10 if rate else 20,
            enable_idempotence=True,
            client_id='goldstream-generator',
            **(security.client_config() if security is not None else {}),
        )
    except KafkaError:  # kafka-python gives up bootstrapping with a KafkaTimeoutError
        raise BrokerUnavailable(bootstrap) from None
    failures: List[BaseException] = []
    lock = threading.Lock()

    def failed(error: BaseException) -> None:
        with lock:
            failures.append(error)

    produced_at: List[int] = []
    started = clock()
    try:
        for index, record in enumerate(records):
            if pacer is not None:
                pacer.wait(index)
            at_ms = int(wall_clock() * 1000)
            headers = record.headers + [('produced_at_ms', str(at_ms).encode('ascii'))]
            producer.send(
                topic,
                key=record.key,
                value=record.value,
                headers=headers,
                timestamp_ms=record.event_time_ms if event_timestamps else None,
            ).add_errback(failed)
            produced_at.append(at_ms)
            if progress is not None and (index + 1) % 256 == 0:
                progress(index + 1)
        producer.flush()
    except KafkaError as exc:
        raise ProduceError(f'producing to {topic!r} on {bootstrap} failed: {exc}') from exc
    finally:
        producer.close()
    if failures:
        raise ProduceError(
            f'{len(failures)} of {len(records)} records were not acknowledged '
            f'by {bootstrap}; the first error: {failures[0]!r}'
        )
    if progress is not None:
        progress(len(records))
    return ProduceReport(len(records), tuple(produced_at), clock() - started)


def read_range(
    bootstrap: str,
    topic: str,
    start: Mapping[int, int],
    end: Mapping[int, int],
    timeout_s: float = 60.0,
    with_headers: bool = False,
    security: Optional[KafkaSecurity] = None,
) -> List[Tuple]:
    """Reads every record in `[start, end)` of each partition with a plain consumer.

    Args:
      bootstrap: `host:port` of a broker.
      topic: The topic.
      start: partition -> first offset to read (0 when absent).
      end: partition -> offset to stop before; only these partitions are read.
      timeout_s: Deadline for the whole read.
      with_headers: Also return each record's headers.
      security: How to connect; plaintext when None.

    Returns:
      (key, value) pairs, or (key, value, headers) triples with `with_headers` (headers as
      (name, bytes) tuples), in partition then offset order.

    Raises:
      TimeoutError: the range was not read completely before the deadline.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        client_id='goldstream-reader',
        **(security or KafkaSecurity()).client_config(),
    )
    try:
        wanted = {
            TopicPartition(topic, p): (start.get(p, 0), end[p])
            for p in end
            if end[p] > start.get(p, 0)
        }
        consumer.assign(list(wanted))
        for tp, (first, _) in wanted.items():
            consumer.seek(tp, first)
        records: Dict[TopicPartition, list] = collections.defaultdict(list)
        deadline = time.monotonic() + timeout_s
        remaining = set(wanted)
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f'read stopped short on {sorted(str(tp) for tp in remaining)}')
            for tp, batch in consumer.poll(timeout_ms=500).items():
                last = wanted[tp][1]
                records[tp].extend(
                    ((r.key, r.value, list(r.headers)) if with_headers else (r.key, r.value))
                    for r in batch
                    if r.offset < last
                )
                if consumer.position(tp) >= last:
                    remaining.discard(tp)
                    consumer.pause(tp)
        return [kv for tp in sorted(records) for kv in records[tp]]
    finally:
        consumer.close()
