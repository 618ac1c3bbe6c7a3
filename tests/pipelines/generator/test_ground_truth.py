"""The ground truth's metrics add up to the planned orders, and the file round-trips."""

import collections
import json
import math

import pytest

from pipelines.generator import ground_truth
from pipelines.generator.ground_truth import (
    ValidOrderFact,
    dead_letter_reasons,
    load_ground_truth,
    on_time_panes,
    window_metrics,
)
from tests.pipelines.conftest import PLAN_NOW_MS
from tests.pipelines.generator.traffic_checks import valid_orders

WINDOW_MS = 300_000


def test_metric_totals_equal_the_valid_orders(default_plan):
    orders = valid_orders(default_plan.records, PLAN_NOW_MS)
    metrics = default_plan.ground_truth.metrics
    assert sum(m.orders for m in metrics) == len(orders) == default_plan.ground_truth.orders.valid
    assert sum(m.units for m in metrics) == sum(o.quantity for o in orders)
    assert math.isclose(
        sum(m.revenue for m in metrics), sum(o.amount for o in orders), abs_tol=0.01
    )


def test_each_row_counts_the_orders_of_its_product_and_window(default_plan):
    orders = valid_orders(default_plan.records, PLAN_NOW_MS)
    expected = collections.defaultdict(lambda: [0, 0, 0.0])
    for order in orders:
        row = expected[(order.event_time_ms // WINDOW_MS * WINDOW_MS, order.product_id)]
        row[0] += 1
        row[1] += order.quantity
        row[2] += order.amount
    metrics = default_plan.ground_truth.metrics
    assert {(m.window_start_ms, m.product_id) for m in metrics} == set(expected)
    for metric in metrics:
        orders_, units, revenue = expected[(metric.window_start_ms, metric.product_id)]
        assert (metric.orders, metric.units) == (orders_, units)
        assert metric.revenue == pytest.approx(revenue, abs=0.005)
        assert metric.window_end_ms - metric.window_start_ms == WINDOW_MS
        assert metric.window_start_ms % WINDOW_MS == 0


def test_on_time_totals_leave_out_exactly_the_late_and_too_late_orders(default_plan):
    truth = default_plan.ground_truth
    late = set(truth.orders.late_order_ids) | set(truth.orders.too_late_order_ids)
    assert len(late) == 6
    orders = valid_orders(default_plan.records, PLAN_NOW_MS)
    on_time = [o for o in orders if o.order_id not in late]
    assert sum(m.on_time_orders for m in truth.metrics) == len(on_time) == len(orders) - 6
    assert sum(m.on_time_units for m in truth.metrics) == sum(o.quantity for o in on_time)
    assert math.isclose(
        sum(m.on_time_revenue for m in truth.metrics), sum(o.amount for o in on_time), abs_tol=0.01
    )
    assert all(m.on_time_orders <= m.final_orders <= m.orders for m in truth.metrics)


def test_final_totals_leave_out_exactly_the_too_late_orders(default_plan):
    truth = default_plan.ground_truth
    too_late = set(truth.orders.too_late_order_ids)
    orders = [
        o for o in valid_orders(default_plan.records, PLAN_NOW_MS) if o.order_id not in too_late
    ]
    assert sum(m.final_orders for m in truth.metrics) == len(orders)
    assert sum(m.final_units for m in truth.metrics) == sum(o.quantity for o in orders)
    assert math.isclose(
        sum(m.final_revenue for m in truth.metrics), sum(o.amount for o in orders), abs_tol=0.01
    )


def test_revenue_is_summed_in_cents_so_it_has_at_most_two_decimals():
    facts = [ValidOrderFact(f'o{i}', 'order', 'p', 1, 10, 1_000 + i) for i in range(3)]
    facts.append(ValidOrderFact('late', 'late', 'p', 2, 999, 2_000))
    facts.append(ValidOrderFact('too-late', 'too_late', 'p', 1, 5, 3_000))
    (row,) = window_metrics(facts, WINDOW_MS)
    assert (row.orders, row.units, row.revenue) == (5, 6, 10.34)
    assert (row.on_time_orders, row.on_time_units, row.on_time_revenue) == (3, 3, 0.3)
    assert (row.final_orders, row.final_units, row.final_revenue) == (4, 5, 10.29)


def test_the_ground_truth_file_round_trips(default_plan, tmp_path):
    path = ground_truth.write_ground_truth(
        tmp_path / 'deep' / 'truth.json', default_plan.ground_truth
    )
    assert load_ground_truth(path) == default_plan.ground_truth
    data = json.loads(path.read_text())
    assert set(data) == {'format', 'config', 'alerts', 'dead_letters', 'metrics', 'orders'}
    assert set(data['alerts'][0]) == {
        'rule',
        'card_id',
        'order_ids',
        'alert_id',
        'event_time_ms',
        'out_of_order',
    }
    assert data['dead_letters']['by_reason']['decode/EMPTY'] >= 1
    assert set(data['metrics'][0]) == set(ground_truth.ExpectedMetric._fields)


def test_a_file_of_another_format_is_refused(tmp_path):
    path = tmp_path / 'truth.json'
    path.write_text(json.dumps({'format': 99}))
    with pytest.raises(ValueError, match='format 99 is not 1'):
        load_ground_truth(path)


def test_on_time_panes_and_dead_letter_reasons_read_output_rows_as_the_truth_keys_them():
    rows = [
        {
            'window_start': 0,
            'product_id': 'p',
            'orders': 2,
            'units': 3,
            'revenue': 1.005,
            'pane': 'ON_TIME',
        },
        {
            'window_start': 0,
            'product_id': 'p',
            'orders': 1,
            'units': 1,
            'revenue': 0.5,
            'pane': 'EARLY',
        },
    ]
    assert on_time_panes(rows) == {(0, 'p'): (2, 3, round(1.005, 2))}
    dead = [
        {'stage': 'decode', 'reason': 'EMPTY'},
        {'stage': 'decode', 'reason': 'EMPTY'},
        {'stage': 'validate', 'reason': 'TAX_NEGATIVE'},
    ]
    assert dead_letter_reasons(dead) == {'decode/EMPTY': 2, 'validate/TAX_NEGATIVE': 1}
