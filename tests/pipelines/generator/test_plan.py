"""The traffic plan: deterministic, complete, and laid out in time as documented."""

import collections
import dataclasses

import pytest

from pipelines.generator import ground_truth
from pipelines.generator.config import (
    KIND_LATE,
    KIND_MALFORMED,
    KIND_SCENARIO,
    KIND_TOO_LATE,
    KIND_UNKNOWN_CUSTOMER,
    KIND_UNKNOWN_PRODUCT,
    VALID_KINDS,
    TrafficConfig,
)
from pipelines.generator.plan import background_cards, plan_traffic
from pipelines.generator.reference_data import build_reference_data
from tests.pipelines.conftest import PLAN_NOW_MS
from tests.pipelines.generator.traffic_checks import valid_orders
from transforms.fraud_rules import FraudThresholds

SMALL = TrafficConfig(count=1_500, seed=3)


def test_the_same_seed_and_config_give_byte_identical_records_and_ground_truth():
    first = plan_traffic(SMALL, now_ms=PLAN_NOW_MS)
    second = plan_traffic(SMALL, now_ms=PLAN_NOW_MS)
    assert first.records == second.records
    assert ground_truth.dumps(first.ground_truth) == ground_truth.dumps(second.ground_truth)


def test_another_seed_gives_other_records_and_other_alerts():
    first = plan_traffic(SMALL, now_ms=PLAN_NOW_MS)
    other = plan_traffic(dataclasses.replace(SMALL, seed=4), now_ms=PLAN_NOW_MS)
    assert [r.value for r in first.records] != [r.value for r in other.records]
    assert first.ground_truth.alerts_by_id().keys().isdisjoint(other.ground_truth.alerts_by_id())


def test_the_wall_clock_only_changes_the_future_timestamp_records():
    first = plan_traffic(SMALL, now_ms=PLAN_NOW_MS)
    later = plan_traffic(SMALL, now_ms=PLAN_NOW_MS + 3_600_000)
    changed = {a.dead_letter for a, b in zip(first.records, later.records) if a != b}
    assert changed == {'validate/TIMESTAMP_IN_FUTURE'}


def test_counts_add_up(default_plan):
    orders = default_plan.ground_truth.orders
    kinds = collections.Counter(r.kind for r in default_plan.records)
    assert len(default_plan.records) == orders.total == 5_000
    assert orders.valid + orders.malformed == orders.total
    assert orders.malformed == kinds[KIND_MALFORMED] == 100  # 2 % of 5,000
    assert orders.by_kind == dict(kinds)
    assert sum(kinds[k] for k in VALID_KINDS) == orders.valid
    assert kinds[KIND_LATE] == 3 and kinds[KIND_TOO_LATE] == 3


def test_ids_follow_the_produce_order_and_records_are_keyed_by_card(default_plan):
    records = default_plan.records
    assert [r.gen_id for r in records] == [f'gen-7-{p:08d}' for p in range(len(records))]
    assert all(r.order_id == f'ord-7-{p:08d}' for p, r in enumerate(records) if r.order_id)
    assert all(r.headers == [('gen_id', r.gen_id.encode())] for r in records)
    orders = valid_orders(records, PLAN_NOW_MS)
    keys = [r.key for r in records if r.order_id]
    assert keys == [order.card_id.encode() for order in orders]
    assert all(r.key.startswith(b'card-') for r in records)


def test_every_valid_order_decodes_and_validates_to_its_planned_event_time(default_plan):
    planned = [r for r in default_plan.records if r.order_id]
    orders = valid_orders(default_plan.records, PLAN_NOW_MS)
    assert [o.order_id for o in orders] == [r.order_id for r in planned]
    assert [o.event_time_ms for o in orders] == [r.event_time_ms for r in planned]
    assert all(o.amount >= 1.0 for o, r in zip(orders, planned) if r.kind != KIND_SCENARIO)


def test_formats_versions_and_timestamp_styles_are_mixed(default_plan):
    planned = [r for r in default_plan.records if r.order_id]
    orders = valid_orders(default_plan.records, PLAN_NOW_MS)
    formats = collections.Counter('avro' if r.value[0] == 0 else 'json' for r in planned)
    assert min(formats.values()) > 0.4 * len(planned)
    assert {o.version for o in orders} == {1, 2}
    assert all(o.tax == 0.0 for o in orders if o.version == 1)
    assert any(o.timestamp.isdigit() for o in orders)
    assert {o.timestamp[-1] for o in orders if not o.timestamp.isdigit()} >= {'Z', '0'}


@pytest.mark.parametrize('fmt, first_bytes', [('json', {ord('{')}), ('avro', {0})])
def test_a_single_format_writes_every_valid_order_in_it(fmt, first_bytes):
    plan = plan_traffic(dataclasses.replace(SMALL, fmt=fmt), now_ms=PLAN_NOW_MS)
    assert {r.value[0] for r in plan.records if r.order_id} == first_bytes


def test_no_order_comes_more_than_the_out_of_order_bound_behind_the_stream_except_late_ones(
    default_plan,
):
    bound = default_plan.config.out_of_order_max_ms
    head = None
    behind = collections.defaultdict(int)
    for record in default_plan.records:
        if record.order_id is None:
            continue
        if head is not None:
            behind[record.kind] = max(behind[record.kind], head - record.event_time_ms)
        head = record.event_time_ms if head is None else max(head, record.event_time_ms)
    assert max(v for k, v in behind.items() if k not in (KIND_LATE, KIND_TOO_LATE)) <= bound
    assert 1000 < behind[KIND_SCENARIO]  # some scenario orders do come out of order
    assert behind[KIND_LATE] >= default_plan.config.late_lag_s * 1000 - 1000


def test_late_orders_lag_the_stream_and_each_has_a_card_of_its_own(default_plan):
    config = default_plan.config
    truth = default_plan.ground_truth.orders
    cards = collections.Counter(r.key for r in default_plan.records if r.order_id)
    head = None
    for record in default_plan.records:
        if record.kind in (KIND_LATE, KIND_TOO_LATE):
            lag_s = config.late_lag_s if record.kind == KIND_LATE else config.too_late_lag_s
            assert head - record.event_time_ms == pytest.approx(lag_s * 1000, abs=1000)
            assert cards[record.key] == 1
            assert record.order_id in (
                truth.late_order_ids if record.kind == KIND_LATE else truth.too_late_order_ids
            )
        elif record.order_id:
            head = record.event_time_ms if head is None else max(head, record.event_time_ms)
    assert len(truth.late_order_ids) == len(truth.too_late_order_ids) == 3


def test_unknown_ids_are_outside_the_reference_data_and_every_other_id_inside(default_plan):
    config = default_plan.config
    reference = build_reference_data(config.seed, config.customers, config.products)
    customers = {row.customer_id for row in reference.customers}
    products = {row.product_id for row in reference.products}
    truth = default_plan.ground_truth.orders
    kinds = {r.order_id: r.kind for r in default_plan.records}
    for order in valid_orders(default_plan.records, PLAN_NOW_MS):
        kind = kinds[order.order_id]
        assert (order.customer_id in customers) == (kind != KIND_UNKNOWN_CUSTOMER)
        assert (order.product_id in products) == (kind != KIND_UNKNOWN_PRODUCT)
    assert len(truth.unknown_customer_ids) == len(truth.unknown_product_ids) == 24
    assert {kinds[i] for i in truth.unknown_customer_ids} == {KIND_UNKNOWN_CUSTOMER}
    assert {kinds[i] for i in truth.unknown_product_ids} == {KIND_UNKNOWN_PRODUCT}


def test_event_time_starts_at_the_start_and_advances_at_the_configured_rate(default_plan):
    config = default_plan.config
    background = [r.event_time_ms for r in default_plan.records if r.kind == 'order']
    assert config.start_ms <= background[0] < config.start_ms + 1000
    assert background == sorted(background)
    assert background[-1] - config.start_ms == pytest.approx(5_000 / 50 * 1000, rel=0.01)


@pytest.mark.parametrize('share', [0.85, 0.3])
def test_scenarios_end_before_the_last_stretch_of_the_stream(share):
    config = TrafficConfig(count=20_000, scenario_share=share)
    plan = plan_traffic(config, now_ms=PLAN_NOW_MS)
    scenario_end = max(r.event_time_ms for r in plan.records if r.kind == KIND_SCENARIO)
    assert scenario_end <= config.start_ms + config.span_ms * share


@pytest.mark.parametrize('events_per_second, velocity_count', [(50, 20), (500, 20), (50, 6)])
def test_background_cards_stay_far_below_the_velocity_count(events_per_second, velocity_count):
    thresholds = FraudThresholds(velocity_count=velocity_count)
    config = TrafficConfig(
        count=8_000, events_per_second=events_per_second, thresholds=thresholds, malformed_rate=0.0
    )
    plan = plan_traffic(config, now_ms=PLAN_NOW_MS)
    window_ms = thresholds.velocity_window_s * 1000
    times = collections.defaultdict(list)
    for record in plan.records:
        if record.kind == 'order':
            times[record.key].append(record.event_time_ms)
    most = max(sum(1 for u in ts if t - window_ms <= u <= t) for ts in times.values() for t in ts)
    assert most <= max(2, velocity_count // 4)
    assert len(times) <= background_cards(config)


def test_a_count_too_small_for_the_scenarios_is_refused_with_what_they_need():
    with pytest.raises(ValueError, match=r'count 50 is too small: .* need 88 records'):
        plan_traffic(TrafficConfig(count=50), now_ms=PLAN_NOW_MS)
    plan = plan_traffic(
        TrafficConfig(count=50, fraud_scenarios=0, late_orders=0, too_late_orders=0),
        now_ms=PLAN_NOW_MS,
    )
    assert len(plan.records) == 50 and plan.ground_truth.alerts == ()


@pytest.mark.parametrize(
    'change, message',
    [
        ({'fmt': 'xml'}, 'fmt must be one of json, avro, mixed'),
        ({'malformed_rate': 1.5}, 'malformed_rate must be a number from 0 to 1'),
        ({'events_per_second': 0}, 'events_per_second must be a number'),
        ({'count': -1}, 'count must be 0 or more'),
        ({'thresholds': FraudThresholds(velocity_count=2)}, 'velocity_count of at least 3'),
        ({'thresholds': FraudThresholds(large_amount=0.5)}, 'large_amount'),
    ],
)
def test_an_invalid_config_is_refused_naming_the_setting(change, message):
    with pytest.raises(ValueError, match=message):
        plan_traffic(dataclasses.replace(SMALL, **change), now_ms=PLAN_NOW_MS)


def test_the_config_round_trips_through_its_json_echo(default_plan):
    echo = default_plan.ground_truth.config
    assert echo['now_ms'] == PLAN_NOW_MS
    assert TrafficConfig.from_json(echo) == default_plan.config
