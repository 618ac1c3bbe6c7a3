"""Tests of CheckFraud in pipelines: checked on arrival, late orders, idle cards, determinism.

The stream tests run on Beam's in-process runner and on Prism (the runner is a
parameter), since state and timer behaviour differs by runner.
"""

from typing import Dict, Iterable, List, Sequence, Tuple, Union

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.transforms.helpers import (
    RUNNERS,
    T0_MS,
    at_event_time,
    counter,
    options,
    order,
    seconds,
    without_detection_time,
)
from transforms.fraud import CheckFraud
from transforms.fraud_rules import (
    IMPOSSIBLE_TRAVEL,
    SMALL_THEN_LARGE,
    VELOCITY,
    CardEvent,
    FraudThresholds,
    alert_id,
    evaluate_history,
)
from transforms.records import Alert, EnrichedOrder, Order

BERLIN, PARIS, TOKYO = (52.52, 13.405), (48.8566, 2.3522), (35.6762, 139.6503)

# One card per rule, in event-time order.
SAMPLE_ORDERS = (
    [order('s1', 0, 0.5, card_id='card-stl'), order('l1', 40, 750.0, card_id='card-stl')]
    + [
        order('b1', 0, 20.0, 'card-trv', *BERLIN),
        order('t1', 30, 20.0, 'card-trv', *TOKYO),
        order('b2', 60, 20.0, 'card-trv', *BERLIN),
    ]
    + [order(f'v{n:02d}', n * 2, 5.0, card_id='card-vel') for n in range(22)]
    + [order('quiet', 5, 30.0, card_id='card-ok')]
)

Step = Union[Order, float]  # an order to add, or a watermark (seconds after T0) to reach


def expected_alert_ids(orders: Iterable[Order], **thresholds) -> List[str]:
    """What the pure rules say, card by card: the ids CheckFraud must raise."""
    by_card: Dict[str, list] = {}
    for o in orders:
        by_card.setdefault(o.card_id, []).append(CardEvent.from_order(o))
    return sorted(
        f.alert_id
        for events in by_card.values()
        for f in evaluate_history(events, FraudThresholds(**thresholds))
    )


def stream(steps: Sequence[Step]) -> TestStream:
    """A TestStream adding orders (at their event time) and moving the watermark, in order.

    At the end the watermark passes every timer CheckFraud can have set (the last
    order plus two hours) before it goes to infinity: Beam's in-process runner holds
    no watermark for timers, so the output of timers that fire only when the watermark
    jumps to infinity would reach a downstream GroupByKey (assert_that's) too late.
    """
    test_stream = TestStream()
    last_s = 0.0
    for step in steps:
        if isinstance(step, Order):
            test_stream = test_stream.add_elements([at_event_time(step)])
            last_s = max(last_s, (step.event_time_ms - T0_MS) / 1000)
        else:
            test_stream = test_stream.advance_watermark_to(seconds(step))
            last_s = max(last_s, step)
    return test_stream.advance_watermark_to(seconds(last_s + 7200)).advance_watermark_to_infinity()


def alert_ids(alerts):
    return alerts | 'AlertIds' >> beam.Map(lambda alert: alert.alert_id)


@pytest.mark.parametrize('runner', RUNNERS)
def test_orders_in_event_time_order_raise_the_alerts_of_the_rules(runner):
    expected = expected_alert_ids(SAMPLE_ORDERS)
    assert len(expected) == 4  # one SMALL_THEN_LARGE, two IMPOSSIBLE_TRAVEL, one VELOCITY
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = p | stream(SAMPLE_ORDERS) | CheckFraud()
        assert_that(alert_ids(alerts), equal_to(expected))


@pytest.mark.parametrize('runner', RUNNERS)
def test_an_alert_says_which_card_rule_orders_and_time(runner):
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = p | stream(SAMPLE_ORDERS[:2]) | CheckFraud()
        assert_that(
            alerts | beam.Map(without_detection_time),
            equal_to(
                [
                    Alert(
                        alert_id(SMALL_THEN_LARGE, ['s1', 'l1']),
                        SMALL_THEN_LARGE,
                        'card-stl',
                        ['s1', 'l1'],
                        SAMPLE_ORDERS[1].event_time_ms,
                        0,
                        {
                            'small_amount': '0.50',
                            'large_amount': '750.00',
                            'gap_s': '40',
                            'window_s': '60',
                        },
                    )
                ]
            ),
        )
        assert_that(
            alerts | beam.Map(lambda alert: alert.detected_at > 0),
            equal_to([True]),
            label='DetectedByTheWallClock',
        )


def contains(expected):
    """An ``assert_that`` matcher: every expected element is there (others may be too)."""

    def check(actual):
        missing = set(expected) - set(actual)
        assert not missing, f'missing {sorted(missing)} of {sorted(actual)}'

    return check


@pytest.mark.parametrize('runner', RUNNERS)
def test_alerts_leave_without_waiting_for_the_watermark(runner):
    # The watermark never moves until the input ends: every alert comes from the order's
    # own processing, none from a timer.
    test_stream = TestStream().add_elements([at_event_time(o) for o in SAMPLE_ORDERS])
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = (
            p
            | test_stream.advance_watermark_to_infinity()
            | CheckFraud()
            | beam.Map(
                lambda alert, ts=beam.DoFn.TimestampParam: (
                    alert.alert_id,
                    ts.micros // 1000 == alert.event_time,
                )
            )
        )
        assert_that(alerts, equal_to([(i, True) for i in expected_alert_ids(SAMPLE_ORDERS)]))


@pytest.mark.parametrize('runner', RUNNERS)
def test_orders_arriving_out_of_order_miss_no_alert(runner):
    stl, trv, vel = SAMPLE_ORDERS[:2], SAMPLE_ORDERS[2:5], SAMPLE_ORDERS[5:27]
    arrivals = [
        stl[1],
        trv[0],
        trv[2],
        vel[21],
        60.0,  # the watermark passes every one of them...
        stl[0],
        trv[1],
        *reversed(vel[:21]),  # ...then the rest arrive, late by up to 60 s
        SAMPLE_ORDERS[-1],
    ]
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = p | stream(arrivals) | CheckFraud()
        # A burst seen backwards may cross the count earlier (v02..v21, v01..v20) before
        # the in-order crossing (v00..v19) is complete: never fewer alerts, only bursts more.
        assert_that(alert_ids(alerts), contains(expected_alert_ids(SAMPLE_ORDERS)))
        assert_that(
            alerts
            | 'NotBursts' >> beam.Filter(lambda alert: alert.rule != VELOCITY)
            | 'Ids' >> beam.Map(lambda alert: alert.alert_id),
            equal_to(
                [
                    i
                    for i in expected_alert_ids(SAMPLE_ORDERS)
                    if i not in expected_alert_ids(SAMPLE_ORDERS[5:27])
                ]
            ),
            label='OnlyBurstsMore',
        )


@pytest.mark.parametrize('runner', RUNNERS)
def test_a_late_order_is_checked_against_its_neighbours_by_event_time(runner):
    small, large = order('s', 0, 0.5), order('l', 30, 900.0)
    small_late = order('s-late', 20, 0.5)  # arrives after 's' and 'l' were checked...
    large_late = order('l-late', 25, 800.0)
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = p | stream([small, large, 100.0, small_late, large_late]) | CheckFraud()
        # ...so 'l', checked again, is now the large order after 's-late' (as in event-time
        # order), 'l-late' too, and the alert on 's' and 'l' raised first stays raised.
        assert_that(
            alert_ids(alerts),
            equal_to(
                [
                    alert_id(SMALL_THEN_LARGE, ['s', 'l']),
                    alert_id(SMALL_THEN_LARGE, ['s-late', 'l']),
                    alert_id(SMALL_THEN_LARGE, ['s-late', 'l-late']),
                ]
            ),
        )


@pytest.mark.parametrize('runner', RUNNERS)
def test_an_order_far_behind_the_watermark_is_still_checked(runner):
    small, large = order('s', 0, 0.5), order('l', 30, 900.0)
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = p | stream([small, 200.0, large]) | CheckFraud()
        assert_that(alert_ids(alerts), equal_to([alert_id(SMALL_THEN_LARGE, ['s', 'l'])]))


@pytest.mark.parametrize('runner', RUNNERS)
@pytest.mark.parametrize('gap_h, expected', [(3, True), (23, False)])
def test_new_york_then_tokyo_is_impossible_three_hours_later_not_twenty_three(
    runner, gap_h, expected
):
    new_york, tokyo = (40.7128, -74.0060), TOKYO
    steps = [
        order('n', 0, 20.0, 'card-t', *new_york),
        gap_h * 3600 - 60.0,
        order('t', gap_h * 3600, 20.0, 'card-t', *tokyo),
    ]
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = p | stream(steps) | CheckFraud()
        assert_that(
            alert_ids(alerts),
            equal_to([alert_id(IMPOSSIBLE_TRAVEL, ['n', 't'])] if expected else []),
        )


@pytest.mark.parametrize('runner', RUNNERS)
@pytest.mark.parametrize('watermark_s, cleared', [(80_000.0, False), (90_001.0, True)])
def test_a_cards_state_is_cleared_a_day_of_event_time_after_its_last_order(
    runner, watermark_s, cleared
):
    # A very late order still sees the card's earlier orders until the state is cleared,
    # in the first sweep after the last order (30 s) plus a day (the sweep runs hourly).
    steps = [order('s', 0, 0.5), order('l', 30, 900.0), watermark_s, order('l-late', 29, 700.0)]
    expected = [alert_id(SMALL_THEN_LARGE, ['s', 'l'])]
    if not cleared:
        expected.append(alert_id(SMALL_THEN_LARGE, ['s', 'l-late']))
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = p | stream(steps) | CheckFraud()
        assert_that(alert_ids(alerts), equal_to(expected))


def test_counters_of_orders_late_orders_repeats_and_expired_cards():
    # On Prism: Beam's in-process runner loses counter updates of TestStream bundles.
    small, large = order('s', 0, 0.5), order('l', 30, 900.0)
    steps = [
        small,
        large,
        100.0,
        order('old', -400, 800.0),  # beyond 60 s + 300 s: too late
        order('b1', 0, card_id='card-b'),
        order('b2', 1800, card_id='card-b'),
        large,  # a redelivery
        2 * 86400.0,
    ]  # both cards expire
    p = TestPipeline(options=options('PrismRunner', streaming=True))
    _ = p | stream(steps) | CheckFraud()
    result = p.run()
    result.wait_until_finish()
    assert counter(result, 'CheckFraud', 'orders') == 6
    assert counter(result, 'CheckFraud', 'orders_too_late') == 1
    assert counter(result, 'CheckFraud', 'orders_repeated') == 1
    assert counter(result, 'CheckFraud', 'alerts_SMALL_THEN_LARGE') == 1
    assert counter(result, 'CheckFraud', 'cards_expired') == 2


def test_idle_cards_are_cleared_by_a_bounded_number_of_sweeps():
    # 200 cards, one order each over ten hours: they expire a day later, in hourly sweeps
    # per shard, not in one timer per card.
    steps = [order(f'o{n}', n * 180, card_id=f'card-{n}') for n in range(200)]
    p = TestPipeline(options=options('PrismRunner', streaming=True))
    _ = p | stream(steps + [3 * 86400.0]) | CheckFraud(shards=4)
    result = p.run()
    result.wait_until_finish()
    assert counter(result, 'CheckFraud', 'cards_expired') == 200
    assert counter(result, 'CheckFraud', 'sweeps') <= 4 * 12


@pytest.mark.parametrize('runner', RUNNERS)
def test_an_order_delivered_twice_counts_once(runner):
    burst = [order(f'v{n:02d}', n, 5.0) for n in range(19)]
    # The 19th order redelivered, before and after it was evaluated: still 19 orders.
    steps = burst + [burst[-1], 100.0, burst[-1]]
    with TestPipeline(options=options(runner, streaming=True)) as p:
        alerts = p | stream(steps) | CheckFraud()
        assert_that(alert_ids(alerts), equal_to([]))


def test_a_replay_raises_the_same_alert_ids():
    for _replay in range(2):
        with TestPipeline(options=options('DirectRunner', streaming=True)) as p:
            alerts = p | stream(SAMPLE_ORDERS) | CheckFraud()
            assert_that(alert_ids(alerts), equal_to(expected_alert_ids(SAMPLE_ORDERS)))


def test_grouping_refuses_an_unbounded_input():
    with pytest.raises(ValueError, match='per_card_state=False'):
        with TestPipeline(options=options('DirectRunner', streaming=True)) as p:
            _ = p | stream(SAMPLE_ORDERS) | CheckFraud(per_card_state=False)


def test_grouped_alerts_are_stamped_with_their_event_time():
    with TestPipeline(options=options()) as p:
        alerts = (
            p
            | beam.Create(SAMPLE_ORDERS)
            | 'AtEventTime' >> beam.Map(at_event_time)
            | CheckFraud()
            | beam.Map(
                lambda alert, ts=beam.DoFn.TimestampParam: (alert.event_time, ts.micros // 1000)
            )
        )
        assert_that(
            alerts | beam.MapTuple(lambda event_ms, stamped_ms: stamped_ms - event_ms),
            equal_to([0] * len(expected_alert_ids(SAMPLE_ORDERS))),
        )


def test_enriched_orders_are_checked_by_their_order():
    enriched = [EnrichedOrder(o, None, None, False, False) for o in SAMPLE_ORDERS[:2]]
    with TestPipeline(options=options()) as p:
        alerts = (
            p
            | beam.Create(enriched)
            | 'AtEventTime' >> beam.Map(lambda e: TimestampedValue(e, e.order.event_time_ms / 1000))
            | CheckFraud()
        )
        assert_that(alert_ids(alerts), equal_to([alert_id(SMALL_THEN_LARGE, ['s1', 'l1'])]))


def test_in_batch_the_alerts_are_those_of_the_whole_history():
    with TestPipeline(options=options()) as p:
        alerts = (
            p
            | beam.Create(SAMPLE_ORDERS[::-1])
            | 'AtEventTime' >> beam.Map(at_event_time)
            | CheckFraud()
        )
        assert_that(alert_ids(alerts), equal_to(expected_alert_ids(SAMPLE_ORDERS)))


@pytest.mark.parametrize(
    'arguments, message',
    [
        ({'small_amount': -1}, 'small_amount'),
        ({'large_amount': 0.5}, 'large_amount'),
        ({'velocity_count': 0}, 'velocity_count'),
        ({'max_speed_kmh': 0}, 'max_speed_kmh'),
        ({'velocity_window_s': 90_000}, 'velocity_window_s'),
        ({'max_out_of_orderness_s': -1}, 'max_out_of_orderness_s'),
        ({'max_out_of_orderness_s': float('nan')}, 'max_out_of_orderness_s'),
        ({'shards': 0}, 'shards'),
        ({'shards': 2.5}, 'shards'),
    ],
)
def test_invalid_thresholds_fail_when_the_pipeline_is_built(arguments, message):
    with pytest.raises(ValueError, match=message):
        CheckFraud(**arguments)


# Properties ---------------------------------------------------------------------------------

CITIES = (BERLIN, PARIS, TOKYO, (52.39, 13.06))
GAPS_S = (0, 0.5, 1, 2, 5, 10, 29, 30, 31, 60, 61, 400, 3599, 3600, 4000, 86399, 86400)
AMOUNTS = (0.25, 0.99, 1.0, 20.0, 500.0, 500.01, 900.0)
THRESHOLDS = {'velocity_count': 4, 'velocity_window_s': 10}  # bursts happen in small samples


@st.composite
def card_histories(draw) -> List[Order]:
    """Orders of a few cards, with gaps, amounts and places that make every rule fire."""
    orders = []
    ids = iter(draw(st.permutations(range(200))))  # ids out of time order: ties sort by id
    for card in range(draw(st.integers(1, 3))):
        at_s = 0.0
        for _ in range(draw(st.integers(1, 14))):
            at_s += draw(st.sampled_from(GAPS_S))
            lat, lon = draw(st.sampled_from(CITIES))
            orders.append(
                order(
                    f'o{next(ids):03d}',
                    at_s,
                    draw(st.sampled_from(AMOUNTS)),
                    f'card-{card}',
                    lat,
                    lon,
                )
            )
            if draw(st.integers(0, 9)) == 0:
                orders.append(orders[-1])  # a redelivery: the same order again
    return orders


@st.composite
def late_arrivals(draw, lateness_s: float) -> Tuple[List[Order], List[Step]]:
    """Histories and an arrival order: each order late by less than ``lateness_s``.

    Orders arrive sorted by event time plus a random delay below the lateness; after
    each one the watermark moves up to the latest event time seen, so the orders that
    overtook others leave them behind the watermark, but within the lateness.
    """
    orders = draw(card_histories())
    delays = draw(
        st.lists(st.floats(0, lateness_s - 0.001), min_size=len(orders), max_size=len(orders))
    )
    arrivals = [
        o
        for _, o in sorted(
            zip((o.event_time_ms / 1000 + d for o, d in zip(orders, delays)), orders),
            key=lambda pair: pair[0],
        )
    ]
    steps: List[Step] = []
    latest_s = float('-inf')
    for o in arrivals:
        steps.append(o)
        at_s = (o.event_time_ms - T0_MS) / 1000
        if at_s > latest_s:
            latest_s = at_s
            steps.append(latest_s)
    return orders, steps


PIPELINE_EXAMPLES = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PIPELINE_EXAMPLES
@given(late_arrivals(lateness_s=30.0))
def test_shuffled_arrivals_raise_every_alert_of_the_rules(case):
    orders, steps = case
    with TestPipeline(options=options('DirectRunner', streaming=True)) as p:
        alerts = p | stream(steps) | CheckFraud(**THRESHOLDS)
        assert_that(alert_ids(alerts), contains(expected_alert_ids(orders, **THRESHOLDS)))


@PIPELINE_EXAMPLES
@given(orders=card_histories())
def test_arrivals_in_event_time_order_raise_exactly_the_alerts_of_the_rules(orders):
    steps = sorted(orders, key=lambda o: (o.event_time_ms, o.order_id))
    with TestPipeline(options=options('DirectRunner', streaming=True)) as p:
        alerts = p | stream(steps) | CheckFraud(**THRESHOLDS)
        assert_that(
            alerts
            | beam.Map(
                lambda alert: (alert.alert_id, alert.rule, tuple(alert.order_ids), alert.event_time)
            ),
            equal_to(expected_findings(orders)),
        )


@PIPELINE_EXAMPLES
@given(orders=card_histories())
def test_the_pure_rules_agree_with_check_fraud_grouped(orders):
    with TestPipeline(options=options()) as p:
        alerts = (
            p
            | beam.Create(orders)
            | 'AtEventTime' >> beam.Map(at_event_time)
            | CheckFraud(**THRESHOLDS)
        )
        assert_that(
            alerts
            | beam.Map(
                lambda alert: (alert.alert_id, alert.rule, tuple(alert.order_ids), alert.event_time)
            ),
            equal_to(expected_findings(orders)),
        )


def expected_findings(orders: Sequence[Order]):
    by_card: Dict[str, list] = {}
    for o in orders:
        by_card.setdefault(o.card_id, []).append(CardEvent.from_order(o))
    return [
        (f.alert_id, f.rule, f.order_ids, f.event_time_ms)
        for events in by_card.values()
        for f in evaluate_history(events, FraudThresholds(**THRESHOLDS))
    ]


def test_every_rule_can_fire_in_the_generated_histories():
    rules = {IMPOSSIBLE_TRAVEL: 0, SMALL_THEN_LARGE: 0, VELOCITY: 0}

    @settings(max_examples=300, deadline=None)
    @given(card_histories())
    def count_rules(orders):
        for _, rule, _, _ in expected_findings(orders):
            rules[rule] += 1

    count_rules()
    assert all(rules.values()), rules


@pytest.mark.parametrize('per_card_state', [True, False])
def test_orders_from_several_inputs_are_checked_as_one_stream(per_card_state):
    # E.g. live orders and those a restarted job reads again: a card's orders may come from
    # either input, and its history holds them all.
    first, second = SAMPLE_ORDERS[::2], SAMPLE_ORDERS[1::2]
    with TestPipeline(options=options('DirectRunner', streaming=False)) as p:
        inputs = tuple(
            p | f'Create{n}' >> beam.Create(part) | f'AtEventTime{n}' >> beam.Map(at_event_time)
            for n, part in enumerate((first, second))
        )
        alerts = inputs | CheckFraud(per_card_state=per_card_state)
        if per_card_state:  # checked on arrival, in no set order: none missed
            assert_that(alert_ids(alerts), contains(expected_alert_ids(SAMPLE_ORDERS)))
        else:  # each card's whole history, in event-time order: exactly the rules' alerts
            assert_that(alert_ids(alerts), equal_to(expected_alert_ids(SAMPLE_ORDERS)))
