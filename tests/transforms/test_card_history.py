"""Tests of check_arrival: one card's orders checked as they arrive, without a pipeline."""

import random
from typing import List, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.helpers import T0_MS
from transforms.card_history import CardHistory, check_arrival, expires_at_ms
from transforms.fraud_rules import (
    IMPOSSIBLE_TRAVEL,
    SMALL_THEN_LARGE,
    CardEvent,
    FraudThresholds,
    alert_id,
    evaluate_history,
)

RULES = FraudThresholds(velocity_count=4, velocity_window_s=10).validated()
KEEP_MS = RULES.lookback_ms + 30_000  # 30 s of out-of-orderness on top of the look-back
BERLIN, TOKYO, NEW_YORK = (52.52, 13.405), (35.6762, 139.6503), (40.7128, -74.0060)


def ev(order_id: str, at_s: float, amount: float = 10.0, where=BERLIN) -> tuple:
    return (T0_MS + round(at_s * 1000), order_id, amount, *where)


def arrive(rows: Sequence[tuple], rules: FraudThresholds = RULES, keep_ms: int = KEEP_MS):
    """Every row in arrival order through one card; the alert ids raised and the card."""
    card = None
    raised: List[str] = []
    for row in rows:
        arrival = check_arrival(card, row, rules, keep_ms)
        card = arrival.card
        raised.extend(finding.alert_id for finding in arrival.findings)
    return raised, card


def rule_ids(rows: Sequence[tuple], rules: FraudThresholds = RULES) -> List[str]:
    return [f.alert_id for f in evaluate_history([CardEvent._make(r) for r in rows], rules)]


def test_a_large_order_after_a_small_one_alerts_when_it_arrives():
    small = check_arrival(None, ev('s', 0, 0.5), RULES, KEEP_MS)
    assert small.findings == []
    large = check_arrival(small.card, ev('l', 30, 900.0), RULES, KEEP_MS)
    assert [f.alert_id for f in large.findings] == [alert_id(SMALL_THEN_LARGE, ['s', 'l'])]


def test_a_small_order_arriving_after_its_large_one_raises_the_alert_then():
    raised, _ = arrive([ev('l', 30, 900.0), ev('s', 0, 0.5)])
    assert raised == [alert_id(SMALL_THEN_LARGE, ['s', 'l'])]


def test_a_late_order_between_two_is_checked_against_both_neighbours():
    raised, _ = arrive([ev('b1', 0), ev('b2', 60), ev('t', 30, where=TOKYO)])
    assert raised == [
        alert_id(IMPOSSIBLE_TRAVEL, ['b1', 't']),
        alert_id(IMPOSSIBLE_TRAVEL, ['t', 'b2']),
    ]


def test_new_york_then_tokyo_three_hours_later_alerts_and_twenty_three_hours_later_not():
    defaults = FraudThresholds()
    three, _ = arrive([ev('n', 0, where=NEW_YORK), ev('t', 3 * 3600, where=TOKYO)], defaults)
    assert three == [alert_id(IMPOSSIBLE_TRAVEL, ['n', 't'])]
    late, _ = arrive([ev('n', 0, where=NEW_YORK), ev('t', 23 * 3600, where=TOKYO)], defaults)
    assert late == []


def test_a_redelivered_order_is_a_repeat_and_raises_nothing_again():
    first = check_arrival(None, ev('s', 0, 0.5), RULES, KEEP_MS)
    second = check_arrival(first.card, ev('l', 30, 900.0), RULES, KEEP_MS)
    again = check_arrival(second.card, ev('l', 30, 900.0), RULES, KEEP_MS)
    assert again.repeated and again.findings == [] and again.card == second.card


def test_an_alert_found_again_is_not_raised_again():
    # 'l' is checked again when 'x' arrives (within its look-back): same alert, not again.
    raised, _ = arrive([ev('s', 0, 0.5), ev('l', 30, 900.0), ev('x', 10, 20.0)])
    assert raised == [alert_id(SMALL_THEN_LARGE, ['s', 'l'])]


def test_an_order_further_behind_than_the_card_keeps_is_too_late_but_checked():
    card = check_arrival(None, ev('a', 1000), RULES, KEEP_MS).card
    arrival = check_arrival(card, ev('old', 1000 - KEEP_MS / 1000 - 1, 0.5), RULES, KEEP_MS)
    assert arrival.too_late and not arrival.repeated


def test_the_card_keeps_its_recent_orders_and_the_one_before_them():
    rows = [ev(f'o{n:03d}', n * 5) for n in range(200)]  # 1000 s of orders, 5 s apart
    _, card = arrive(rows)
    assert card.events[-1] == rows[-1]
    assert len(card.events) == KEEP_MS // 5000 + 2
    _, card = arrive([ev('a', 0), ev('b', 50_000), ev('c', 50_100)])
    assert [row[1] for row in card.events] == ['b', 'c']
    assert expires_at_ms(card, RULES) == T0_MS + 50_100_000 + RULES.idle_timeout_ms


def test_a_late_order_finds_its_previous_order_however_long_before_it_was():
    # 'a' is long before the window when 'b' is checked late: it is still its neighbour.
    raised, _ = arrive([ev('a', 0), ev('c', 405), ev('b', 400, where=TOKYO)])
    assert raised == [
        alert_id(IMPOSSIBLE_TRAVEL, ['a', 'b']),
        alert_id(IMPOSSIBLE_TRAVEL, ['b', 'c']),
    ]


def test_raised_alert_ids_are_forgotten_with_their_orders():
    rows = [ev('s', 0, 0.5), ev('l', 30, 900.0)] + [ev(f'o{n}', 100 + n * 20) for n in range(12)]
    _, card = arrive(rows)
    assert card.raised == {}
    assert isinstance(card, CardHistory)


@st.composite
def histories(draw) -> List[tuple]:
    rows = []
    at_s = 0.0
    for n in range(draw(st.integers(1, 30))):
        at_s += draw(st.sampled_from((0, 0.5, 1, 2, 5, 9, 10, 11, 30, 61, 400, 3600)))
        where = draw(st.sampled_from((BERLIN, TOKYO, NEW_YORK)))
        rows.append(ev(f'o{n:02d}', at_s, draw(st.sampled_from((0.5, 1.0, 20.0, 900.0))), where))
    return rows


@settings(max_examples=300, deadline=None)
@given(histories())
def test_in_event_time_order_the_alerts_are_exactly_those_of_the_rules(rows):
    raised, _ = arrive(rows)
    assert raised == rule_ids(rows)


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(0, 2**32 - 1))
def test_shuffled_within_the_out_of_orderness_no_alert_of_the_rules_is_missed(rows, seed):
    bound_ms = KEEP_MS - RULES.lookback_ms
    jitter = random.Random(seed)
    arrivals = sorted(rows, key=lambda row: row[0] + jitter.uniform(0, bound_ms))
    raised, _ = arrive(arrivals)
    assert set(rule_ids(rows)) <= set(raised)
    assert len(raised) == len(set(raised))  # each alert once
