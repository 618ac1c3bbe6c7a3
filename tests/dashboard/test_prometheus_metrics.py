"""The collector's exposition parses with Prometheus' own parser, under conventional names."""

from prometheus_client.parser import text_string_to_metric_families

from dashboard.group_progress import LAGGING, UNREACHABLE
from dashboard.prometheus_metrics import DashboardCollector, exposition, registry_for

COUNTERS = {
    'verdict': LAGGING,
    'partitions': [
        {'topic': 'orders', 'partition': 0, 'end_offset': 50, 'committed': 20, 'lag': 30},
        {'topic': 'orders', 'partition': 1, 'end_offset': 9, 'committed': None, 'lag': 9},
    ],
    'orders_in': 59,
    'orders_out': 20,
    'alerts_by_rule': {'VELOCITY': 2, 'IMPOSSIBLE_TRAVEL': 1},
    'dead_letters_by_reason': {'decode/INVALID_JSON': 4},
    'metric_rows': 11,
    'kafka_requests': 70,
    'tail_request_rate': 4.5,
    'undecodable': 0,
}


def samples(counters):
    text = exposition(registry_for(DashboardCollector(lambda: counters, 'g', 'orders'))).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_every_figure_is_exposed_with_its_labels():
    found = samples(COUNTERS)
    assert (
        found[
            (
                'goldstream_consumer_lag_records',
                (('group', 'g'), ('partition', '0'), ('topic', 'orders')),
            )
        ]
        == 30
    )
    assert (
        found[
            (
                'goldstream_consumer_lag_records',
                (('group', 'g'), ('partition', '1'), ('topic', 'orders')),
            )
        ]
        == 9
    )
    assert (
        'goldstream_consumer_committed_offset',
        (('group', 'g'), ('partition', '1'), ('topic', 'orders')),
    ) not in found
    assert found[('goldstream_orders_in_total', (('topic', 'orders'),))] == 59
    assert found[('goldstream_orders_out_total', (('group', 'g'), ('topic', 'orders')))] == 20
    assert found[('goldstream_fraud_alerts_total', (('rule', 'VELOCITY'),))] == 2
    assert (
        found[('goldstream_dead_letters_total', (('reason', 'INVALID_JSON'), ('stage', 'decode')))]
        == 4
    )
    assert found[('goldstream_pipeline_up', ())] == 1
    assert found[('goldstream_dashboard_broker_up', ())] == 1
    assert found[('goldstream_dashboard_offset_requests_total', ())] == 70
    assert found[('goldstream_dashboard_tail_requests_per_second', ())] == 4.5


def test_an_unreachable_broker_shows_as_down():
    found = samples({**COUNTERS, 'verdict': UNREACHABLE})
    assert found[('goldstream_dashboard_broker_up', ())] == 0
    assert found[('goldstream_pipeline_up', ())] == 0


def test_counter_families_are_typed_counters():
    text = exposition(registry_for(DashboardCollector(lambda: COUNTERS, 'g', 'orders'))).decode()
    types = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert types['goldstream_orders_in'] == 'counter'
    assert types['goldstream_consumer_lag_records'] == 'gauge'
