"""Producing a plan, without a broker: pacing by an injected clock, headers, progress, errors."""

import io
from typing import Any, List

import pytest

from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import plan_traffic
from pipelines.generator.producer import (
    PACING_TICK_S,
    Pacer,
    ProduceError,
    ProgressBar,
    produce_plan,
)
from tests.pipelines.conftest import PLAN_NOW_MS

EPOCH_S = 1_795_600_000.0


class FakeClock:
    """A clock that only moves when something sleeps or works."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.sleeps: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def wall(self) -> float:
        return EPOCH_S + self.now


class FakeFuture:
    def __init__(self, error=None) -> None:
        self.error = error

    def add_errback(self, callback):
        if self.error is not None:
            callback(self.error)
        return self


class FakeProducer:
    """Records what is sent; each send costs ``send_cost_s`` on the fake clock."""

    def __init__(self, clock: FakeClock, send_cost_s: float = 0.0, fail_every: int = 0) -> None:
        self.clock = clock
        self.send_cost_s = send_cost_s
        self.fail_every = fail_every
        self.sent: List[Any] = []
        self.timestamps: List[Any] = []
        self.config = None
        self.closed = False

    def __call__(self, **config):
        self.config = config
        return self

    def send(self, topic, key=None, value=None, headers=None, timestamp_ms=None):
        self.sent.append((topic, key, value, dict(headers), self.clock()))
        self.timestamps.append(timestamp_ms)
        self.clock.now += self.send_cost_s
        failed = self.fail_every and len(self.sent) % self.fail_every == 0
        return FakeFuture(RuntimeError('not acknowledged') if failed else None)

    def flush(self):
        pass

    def close(self):
        self.closed = True


@pytest.fixture(scope='module')
def small_plan():
    return plan_traffic(TrafficConfig(count=1_000), now_ms=PLAN_NOW_MS)


def test_the_pacer_sends_record_i_at_i_over_rate_without_drift():
    clock = FakeClock()
    pacer = Pacer(500.0, clock, clock.sleep)
    sent_at = []
    for i in range(1_000):
        pacer.wait(i)
        sent_at.append(clock())
        clock.now += 0.005 if i % 50 == 0 else 0.001  # sending takes time, sometimes long
    due = [100.0 + i / 500.0 for i in range(1_000)]
    assert all(d - 1e-9 <= at <= d + 0.004 for at, d in zip(sent_at, due))
    on_time = sum(1 for at, d in zip(sent_at, due) if at == pytest.approx(d, abs=1e-9))
    assert on_time >= 900  # a slow send delays the next few, then the pace is back
    assert sent_at[-1] == pytest.approx(due[-1], abs=1e-9)


def test_the_pacer_catches_up_without_sleeping_when_behind():
    clock = FakeClock()
    pacer = Pacer(1_000.0, clock, clock.sleep)
    pacer.wait(0)
    clock.now += 0.5  # a pause: 500 records are due at once
    for i in range(1, 501):
        pacer.wait(i)
    assert clock.sleeps == []
    pacer.wait(600)
    assert clock.sleeps == [pytest.approx(0.1)]


def test_the_pacer_with_a_tick_sends_in_bursts_never_more_than_a_tick_early():
    clock = FakeClock()
    pacer = Pacer(1_000.0, clock, clock.sleep, tick_s=0.005)
    sent_at = []
    for i in range(1_000):
        pacer.wait(i)
        sent_at.append(clock())
        clock.now += 0.00001
    due = [100.0 + i / 1_000.0 for i in range(1_000)]
    assert all(d - 0.005 - 1e-9 <= at <= d + 0.001 for at, d in zip(sent_at, due))
    assert 150 <= len(clock.sleeps) <= 210  # one sleep per ~5 ms, not one per record
    assert sent_at[-1] >= due[-1] - 0.005


def test_the_pacer_refuses_a_negative_tick():
    with pytest.raises(ValueError, match='tick_s must not be negative'):
        Pacer(100.0, tick_s=-0.001)


@pytest.mark.parametrize('rate', [0, -1.0])
def test_the_pacer_refuses_a_rate_that_is_not_positive(rate):
    with pytest.raises(ValueError, match='rate must be greater than 0'):
        Pacer(rate)


def test_produce_plan_sends_every_record_in_order_with_its_headers(small_plan):
    clock = FakeClock()
    producer = FakeProducer(clock, send_cost_s=0.0001)
    progress = []
    report = produce_plan(
        'broker:9092',
        'orders.test',
        small_plan,
        progress=progress.append,
        clock=clock,
        sleep=clock.sleep,
        wall_clock=clock.wall,
        producer_factory=producer,
    )
    assert [(key, value) for _, key, value, _, _ in producer.sent] == [
        (r.key, r.value) for r in small_plan.records
    ]
    assert {topic for topic, *_ in producer.sent} == {'orders.test'}
    for (_, _, _, headers, at), record, produced in zip(
        producer.sent, small_plan.records, report.produced_at_ms
    ):
        assert headers['gen_id'] == record.gen_id.encode()
        assert headers['produced_at_ms'] == str(produced).encode()
        assert produced == int((EPOCH_S + at) * 1000)
    assert report.sent == len(small_plan.records)
    assert progress[-1] == len(small_plan.records) and progress == sorted(progress)
    assert producer.config['acks'] == 'all' and producer.closed
    by_order = report.by_order_id(small_plan.records)
    assert len(by_order) == small_plan.ground_truth.orders.valid


@pytest.mark.parametrize('event_timestamps', [False, True])
def test_kafka_timestamps_are_the_send_time_or_the_planned_event_time(small_plan, event_timestamps):
    clock = FakeClock()
    producer = FakeProducer(clock)
    produce_plan(
        'broker:9092',
        'orders',
        small_plan,
        event_timestamps=event_timestamps,
        clock=clock,
        sleep=clock.sleep,
        wall_clock=clock.wall,
        producer_factory=producer,
    )
    expected = [r.event_time_ms if event_timestamps else None for r in small_plan.records]
    assert producer.timestamps == expected


def test_produce_plan_at_a_rate_takes_count_over_rate_on_the_clock(small_plan):
    clock = FakeClock()
    producer = FakeProducer(clock, send_cost_s=0.0004)
    report = produce_plan(
        'broker:9092',
        'orders',
        small_plan.records[:400],
        rate=2_000.0,
        clock=clock,
        sleep=clock.sleep,
        wall_clock=clock.wall,
        producer_factory=producer,
    )
    sent_at = [at for *_, at in producer.sent]
    due = [100.0 + i / 2_000.0 for i in range(400)]
    # in ticks: never more than PACING_TICK_S early, and late only by a send's cost
    assert all(d - PACING_TICK_S - 1e-9 <= at <= d + 0.0004 + 1e-9 for at, d in zip(sent_at, due))
    gaps = [b - a for a, b in zip(report.produced_at_ms, report.produced_at_ms[1:])]
    assert sum(gaps) == pytest.approx(399 / 2, abs=PACING_TICK_S * 1000 + 1)  # ms
    assert report.elapsed_s == pytest.approx(399 / 2_000 + 0.0004, abs=PACING_TICK_S)


def test_records_kafka_did_not_acknowledge_fail_the_produce(small_plan):
    clock = FakeClock()
    with pytest.raises(ProduceError, match=r'10 of 100 records were not acknowledged'):
        produce_plan(
            'broker:9092',
            'orders',
            small_plan.records[:100],
            clock=clock,
            sleep=clock.sleep,
            wall_clock=clock.wall,
            producer_factory=FakeProducer(clock, fail_every=10),
        )


def test_the_progress_bar_redraws_at_most_every_interval_and_ends_the_line():
    clock = FakeClock()
    out = io.StringIO()
    bar = ProgressBar(1_000, stream=out, clock=clock, min_interval_s=0.2)
    for done in range(0, 1_001, 10):
        bar(done)
        clock.now += 0.01
    drawn = out.getvalue().split('\r')[1:]
    assert 5 <= len(drawn) <= 7  # about 1 s of work: one draw each 0.2 s, and the last
    assert drawn[-1].startswith('  producing [' + '#' * 30 + '] 1000/1000')
    assert drawn[-1].endswith('\n')
