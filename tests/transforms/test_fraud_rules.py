"""Tests of the fraud rules as pure functions of a card's ordered history."""

import hashlib
import json
import random

import pytest

from tests.transforms.helpers import T0_MS, order
from transforms.fraud_rules import (
    IMPOSSIBLE_TRAVEL,
    SMALL_THEN_LARGE,
    VELOCITY,
    CardEvent,
    FraudThresholds,
    alert_id,
    evaluate_history,
    great_circle_km,
    impossible_travel,
    in_event_order,
    small_then_large,
    velocity,
)

DEFAULTS = FraudThresholds()
BERLIN, PARIS, TOKYO, POTSDAM = (
    (52.52, 13.405),
    (48.8566, 2.3522),
    (35.6762, 139.6503),
    (52.3906, 13.0645),
)


def ev(order_id: str, at_s: float, amount: float = 10.0, where=BERLIN) -> CardEvent:
    return CardEvent(T0_MS + round(at_s * 1000), order_id, amount, *where)


def found(findings):
    return [(f.rule, f.order_ids) for f in findings]


# SMALL_THEN_LARGE ---------------------------------------------------------------------------


def test_a_small_order_followed_within_a_minute_by_a_large_one_alerts():
    history = [ev('s', 0, 0.99), ev('l', 30, 500.01)]
    assert found(small_then_large(history, DEFAULTS)) == [(SMALL_THEN_LARGE, ('s', 'l'))]


def test_within_a_minute_includes_the_minute():
    assert small_then_large([ev('s', 0, 0.5), ev('l', 60, 600)], DEFAULTS)
    assert not small_then_large([ev('s', 0, 0.5), ev('l', 60.001, 600)], DEFAULTS)


def test_under_and_over_exclude_their_bounds():
    assert not small_then_large([ev('s', 0, 1.00), ev('l', 1, 600)], DEFAULTS)
    assert not small_then_large([ev('s', 0, 0.5), ev('l', 1, 500.00)], DEFAULTS)


def test_a_large_order_before_the_small_one_does_not_alert():
    assert not small_then_large([ev('l', 0, 600), ev('s', 10, 0.5)], DEFAULTS)


def test_one_alert_per_large_order_naming_the_latest_small_order():
    history = [
        ev('s1', 0, 0.5),
        ev('s2', 10, 0.2),
        ev('m', 20, 50),
        ev('l1', 30, 700),
        ev('l2', 40, 800),
    ]
    assert found(small_then_large(history, DEFAULTS)) == [
        (SMALL_THEN_LARGE, ('s2', 'l1')),
        (SMALL_THEN_LARGE, ('s2', 'l2')),
    ]


def test_the_amount_includes_quantity_and_tax():
    small = order('s', 0, amount=0.5)
    large = order('l', 10, amount=498.0, quantity=2)._replace(tax=2.5)  # 2 x 249 + 2.5
    history = [CardEvent.from_order(small), CardEvent.from_order(large)]
    assert history[1].amount == 500.5
    assert found(small_then_large(history, DEFAULTS)) == [(SMALL_THEN_LARGE, ('s', 'l'))]


def test_thresholds_are_arguments():
    strict = FraudThresholds(small_amount=5.0, large_amount=100.0, small_then_large_window_s=10)
    assert small_then_large([ev('s', 0, 4.0), ev('l', 10, 101)], strict)
    assert not small_then_large([ev('s', 0, 4.0), ev('l', 11, 101)], strict)


# IMPOSSIBLE_TRAVEL --------------------------------------------------------------------------


def test_the_great_circle_distance_is_right():
    assert great_circle_km(*BERLIN, *PARIS) == pytest.approx(878, abs=2)
    assert great_circle_km(*BERLIN, *TOKYO) == pytest.approx(8918, abs=10)
    assert great_circle_km(*BERLIN, *BERLIN) == 0.0


def test_berlin_then_tokyo_an_hour_later_is_impossible():
    history = [ev('b', 0, where=BERLIN), ev('t', 59 * 60, where=TOKYO)]
    [finding] = impossible_travel(history, DEFAULTS)
    assert (finding.rule, finding.order_ids) == (IMPOSSIBLE_TRAVEL, ('b', 't'))
    assert float(finding.details['distance_km']) > 8000
    assert float(finding.details['speed_kmh']) > 9000


def test_berlin_to_paris_is_impossible_in_half_an_hour_but_not_in_an_hour():
    assert impossible_travel([ev('b', 0), ev('p', 30 * 60, where=PARIS)], DEFAULTS)
    assert not impossible_travel([ev('b', 0), ev('p', 60 * 60 - 1, where=PARIS)], DEFAULTS)


def test_short_hops_are_never_impossible_however_fast():
    assert not impossible_travel([ev('b', 0), ev('p', 1, where=POTSDAM)], DEFAULTS)


def test_no_time_between_distant_orders_is_infinitely_fast():
    [finding] = impossible_travel([ev('b', 0), ev('p', 0, where=PARIS)], DEFAULTS)
    assert finding.details['speed_kmh'] == 'inf'


def test_only_consecutive_orders_are_compared():
    history = [ev('b1', 0), ev('p', 20 * 60, where=PARIS), ev('b2', 21 * 60)]
    assert found(impossible_travel(history, DEFAULTS)) == [
        (IMPOSSIBLE_TRAVEL, ('b1', 'p')),
        (IMPOSSIBLE_TRAVEL, ('p', 'b2')),
    ]
    history = [ev('b1', 0), ev('b2', 20 * 60), ev('t', 20 * 60 + 1, where=TOKYO)]
    assert found(impossible_travel(history, DEFAULTS)) == [(IMPOSSIBLE_TRAVEL, ('b2', 't'))]


NEW_YORK = (40.7128, -74.0060)


def test_new_york_then_tokyo_three_hours_later_is_impossible():
    # 10,850 km in 3 hours: over 3,600 km/h.
    [finding] = impossible_travel(
        [ev('n', 0, where=NEW_YORK), ev('t', 3 * 3600, where=TOKYO)], DEFAULTS
    )
    assert finding.order_ids == ('n', 't')


def test_new_york_then_tokyo_twenty_three_hours_later_is_possible():
    # 10,850 km in 23 hours is 472 km/h: a flight.
    assert not impossible_travel(
        [ev('n', 0, where=NEW_YORK), ev('t', 23 * 3600, where=TOKYO)], DEFAULTS
    )


def test_a_day_without_orders_ends_the_cards_history():
    # At 100 km/h, 8,900 km in 25 hours would be impossible, but the card was idle for a day.
    slow = DEFAULTS._replace(max_speed_kmh=100.0)
    assert not impossible_travel([ev('b', 0), ev('t', 25 * 3600, where=TOKYO)], slow)
    assert impossible_travel([ev('b', 0), ev('t', 24 * 3600 - 0.001, where=TOKYO)], slow)


# VELOCITY -----------------------------------------------------------------------------------


def burst(prefix: str, start_s: float, count: int, step_s: float):
    return [ev(f'{prefix}{n:02d}', start_s + n * step_s) for n in range(count)]


def test_twenty_orders_within_a_minute_alert_once_naming_those_twenty():
    history = burst('o', 0, 20, 3)
    [finding] = velocity(history, DEFAULTS)
    assert finding.order_ids == tuple(f'o{n:02d}' for n in range(20))
    assert finding.details == {'count': '20', 'window_s': '60'}
    assert finding.event_time_ms == history[-1].event_time_ms


def test_nineteen_orders_do_not_alert():
    assert not velocity(burst('o', 0, 19, 1), DEFAULTS)


def test_within_a_minute_includes_the_minute_for_velocity():
    history = burst('o', 0, 20, 60 / 19)
    assert history[-1].event_time_ms - history[0].event_time_ms == 60_000
    assert velocity(history, DEFAULTS)
    assert not velocity(burst('o', 0, 20, 60.019 / 19), DEFAULTS)


def test_a_continuing_burst_alerts_once_and_a_new_burst_again():
    history = burst('a', 0, 45, 1) + burst('b', 300, 22, 1)
    assert [f.order_ids[-1] for f in velocity(history, DEFAULTS)] == ['a19', 'b19']


def test_twenty_orders_at_the_same_moment_alert_once():
    history = in_event_order(ev(f'o{n:02d}', 0) for n in range(25))
    [finding] = velocity(history, DEFAULTS)
    assert finding.order_ids == tuple(f'o{n:02d}' for n in range(20))


def test_the_velocity_count_and_window_are_arguments():
    assert velocity(burst('o', 0, 3, 5), FraudThresholds(velocity_count=3, velocity_window_s=10))
    assert not velocity(
        burst('o', 0, 3, 5.1), FraudThresholds(velocity_count=3, velocity_window_s=10)
    )


# Whole histories and ids --------------------------------------------------------------------


def test_evaluate_history_sorts_its_input_into_event_time_order():
    history = [ev('s', 0, 0.5), ev('l', 10, 600, where=PARIS)] + burst('v', 100, 20, 1)
    shuffled = history[:]
    random.Random(4).shuffle(shuffled)
    assert evaluate_history(shuffled) == evaluate_history(history)
    assert found(evaluate_history(history)) == [
        (SMALL_THEN_LARGE, ('s', 'l')),
        (IMPOSSIBLE_TRAVEL, ('s', 'l')),
        (IMPOSSIBLE_TRAVEL, ('l', 'v00')),
        (VELOCITY, tuple(e.order_id for e in history[2:])),
    ]


def test_an_order_given_twice_counts_once():
    history = burst('o', 0, 19, 1)
    assert not evaluate_history(history + [history[-1]])
    assert evaluate_history(history + [ev('o19', 18)])  # another order at the same time


def test_orders_at_the_same_time_are_ordered_by_id():
    assert in_event_order([ev('b', 5), ev('a', 5), ev('c', 1)]) == [
        ev('c', 1),
        ev('a', 5),
        ev('b', 5),
    ]


def test_an_alert_id_hashes_rule_and_order_ids_in_order():
    expected = hashlib.sha256(
        json.dumps(['VELOCITY', 'o1', 'o2'], separators=(',', ':')).encode()
    ).hexdigest()[:32]
    assert alert_id('VELOCITY', ['o1', 'o2']) == expected
    assert alert_id('VELOCITY', ('o1', 'o2')) == expected
    assert alert_id('VELOCITY', ['o2', 'o1']) != expected
    assert alert_id('SMALL_THEN_LARGE', ['o1', 'o2']) != expected
    assert alert_id('VELOCITY', ['o1,o2']) != alert_id('VELOCITY', ['o1', 'o2'])


def test_findings_carry_their_id_and_last_event_time():
    [finding] = small_then_large([ev('s', 0, 0.5), ev('l', 30, 600)], DEFAULTS)
    assert finding.alert_id == alert_id(SMALL_THEN_LARGE, ('s', 'l'))
    assert finding.event_time_ms == T0_MS + 30_000


@pytest.mark.parametrize(
    'changes, message',
    [
        ({'small_amount': 0}, 'small_amount'),
        ({'large_amount': -5}, 'large_amount'),
        ({'small_amount': 10, 'large_amount': 5}, 'large_amount'),
        ({'small_then_large_window_s': 0}, 'small_then_large_window_s'),
        ({'max_speed_kmh': float('nan')}, 'max_speed_kmh'),
        ({'min_distance_km': -1}, 'min_distance_km'),
        ({'velocity_count': 1}, 'velocity_count'),
        ({'velocity_count': 2.5}, 'velocity_count'),
        ({'velocity_count': True}, 'velocity_count'),
        ({'velocity_window_s': float('inf')}, 'velocity_window_s'),
        ({'idle_timeout_s': 30}, 'shorter than idle_timeout_s'),
        ({'small_amount': '1'}, 'small_amount'),
    ],
)
def test_invalid_thresholds_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        FraudThresholds(**changes).validated()
