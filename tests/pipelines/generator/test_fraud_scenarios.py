"""The ground-truth alerts are exactly what the fraud rules find in the planned orders.

The orders are decoded and validated from the planned record bytes, grouped by card, and
given to ``transforms.fraud_rules.evaluate_history``: every card, background ones included.
"""

import collections
import dataclasses
import random

import pytest

from pipelines.generator.config import TrafficConfig
from pipelines.generator.orders import OrderFactory
from pipelines.generator.plan import plan_traffic
from pipelines.generator.reference_data import build_reference_data
from pipelines.generator.scenarios import build_scenario
from tests.pipelines.conftest import PLAN_NOW_MS
from tests.pipelines.generator.traffic_checks import histories, valid_orders
from transforms.fraud_rules import RULES, FraudThresholds, evaluate_history


def found_alerts(plan):
    """(rule, card, order ids, alert id) of every alert the rules raise on the plan's orders."""
    found = set()
    for card_id, events in histories(valid_orders(plan.records, PLAN_NOW_MS)).items():
        for finding in evaluate_history(events, plan.config.thresholds):
            found.add((finding.rule, card_id, finding.order_ids, finding.alert_id))
    return found


def expected_alerts(plan):
    return {(a.rule, a.card_id, a.order_ids, a.alert_id) for a in plan.ground_truth.alerts}


def test_the_default_plan_raises_exactly_its_ground_truth_alerts(default_plan):
    assert found_alerts(default_plan) == expected_alerts(default_plan)
    assert len(default_plan.ground_truth.alerts) == 9


@pytest.mark.parametrize(
    'config',
    [
        TrafficConfig(count=3_000, seed=1, fmt='json', fraud_scenarios=5),
        TrafficConfig(count=3_000, seed=2, fmt='avro', events_per_second=400),
        TrafficConfig(
            count=4_000,
            seed=3,
            thresholds=FraudThresholds(
                small_amount=5.0,
                large_amount=2_000.0,
                small_then_large_window_s=30.0,
                max_speed_kmh=300.0,
                min_distance_km=1_500.0,
                velocity_count=8,
                velocity_window_s=20.0,
            ),
        ),
        TrafficConfig(
            count=3_000, seed=4, out_of_order_max_ms=1_000, late_orders=10, too_late_orders=10
        ),
        TrafficConfig(count=30_000, seed=5, fraud_scenarios=8),
    ],
    ids=['json-5-scenarios', 'avro-fast-event-time', 'other-thresholds', 'tight-bound', '30k'],
)
def test_other_configs_raise_exactly_their_ground_truth_alerts(config):
    plan = plan_traffic(config, now_ms=PLAN_NOW_MS)
    assert found_alerts(plan) == expected_alerts(plan)
    assert len(plan.ground_truth.alerts) == 3 * config.fraud_scenarios


def test_each_rule_is_injected_n_times_on_its_own_cards_and_every_second_one_out_of_order(
    default_plan,
):
    alerts = default_plan.ground_truth.alerts
    assert collections.Counter(a.rule for a in alerts) == {rule: 3 for rule in RULES}
    assert len({a.card_id for a in alerts}) == len(alerts)
    assert collections.Counter((a.rule, a.out_of_order) for a in alerts) == {
        **{(rule, False): 2 for rule in RULES},
        **{(rule, True): 1 for rule in RULES},
    }
    sizes = {a.rule: len(a.order_ids) for a in alerts}
    assert sizes == {'SMALL_THEN_LARGE': 2, 'IMPOSSIBLE_TRAVEL': 2, 'VELOCITY': 20}


def test_an_out_of_order_scenario_is_produced_in_another_order_than_its_event_times(default_plan):
    by_card = collections.defaultdict(list)
    for record in default_plan.records:
        if record.order_id:
            by_card[record.key.decode()].append(record.event_time_ms)
    for alert in default_plan.ground_truth.alerts:
        produced = by_card[alert.card_id]
        assert (produced != sorted(produced)) == alert.out_of_order, alert


def test_alert_order_ids_are_in_event_time_order_and_the_alert_time_is_the_last(default_plan):
    times = {r.order_id: r.event_time_ms for r in default_plan.records if r.order_id}
    for alert in default_plan.ground_truth.alerts:
        order_times = [times[i] for i in alert.order_ids]
        assert order_times == sorted(order_times)
        assert alert.event_time_ms == order_times[-1]


def test_the_velocity_burst_fits_its_window_with_exactly_the_count():
    thresholds = FraudThresholds()
    plan = plan_traffic(dataclasses.replace(TrafficConfig(count=2_000), seed=9), now_ms=PLAN_NOW_MS)
    times = {r.order_id: r.event_time_ms for r in plan.records if r.order_id}
    for alert in plan.ground_truth.alerts:
        if alert.rule == 'VELOCITY':
            span_ms = times[alert.order_ids[-1]] - times[alert.order_ids[0]]
            assert span_ms <= thresholds.velocity_window_s * 1000
            assert len(alert.order_ids) == thresholds.velocity_count


def test_a_scenario_of_an_unknown_rule_or_an_impossible_delay_is_refused():
    factory = OrderFactory(random.Random(1), build_reference_data(), 'json')
    card = factory.card('card-x')
    with pytest.raises(ValueError, match='unknown rule'):
        build_scenario(
            'TOO_MANY_CATS', factory, random.Random(1), card, 0, False, FraudThresholds(), 3000
        )
    with pytest.raises(ValueError, match='max_delay_ms of 1000 or more'):
        build_scenario('VELOCITY', factory, random.Random(1), card, 0, True, FraudThresholds(), 500)
