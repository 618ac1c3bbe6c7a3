"""OutputView folds output records into the page's figures: latest pane per product, top
products, alerts once each, dead letters per reason; memory stays bounded."""

from dashboard.output_view import MAX_ALERTS, MAX_WINDOWS, OutputView, window_totals

W0, W1 = 1_800_000_000_000, 1_800_000_300_000


def metric(start, product, orders, revenue, pane='EARLY', pane_index=0, units=None):
    return {
        'window_start': start,
        'window_end': start + 300_000,
        'product_id': product,
        'orders': orders,
        'units': orders if units is None else units,
        'revenue': revenue,
        'pane': pane,
        'pane_index': pane_index,
    }


def alert(alert_id, rule='VELOCITY'):
    return {
        'alert_id': alert_id,
        'rule': rule,
        'card_id': 'card-1',
        'order_ids': ['o1', 'o2'],
        'event_time': 1,
        'detected_at': 2,
        'details': {},
    }


def test_a_window_sums_the_latest_pane_of_each_product_whatever_the_arrival_order():
    view = OutputView()
    for row in (
        metric(W0, 'p1', 2, 20.0, 'EARLY', 0),
        metric(W0, 'p1', 5, 50.5, 'ON_TIME', 2),
        metric(W0, 'p1', 3, 30.0, 'EARLY', 1),  # arrives late: older than the kept pane
        metric(W0, 'p2', 1, 9.99, 'EARLY', 0),
    ):
        view.add_metric(row)
    assert view.windows() == [
        {
            'window_start': W0,
            'window_end': W0 + 300_000,
            'products': 2,
            'orders': 6,
            'units': 6,
            'revenue': 60.49,
            'pane': 'EARLY',
        }
    ]


def test_a_window_is_on_time_once_every_product_is():
    view = OutputView()
    view.add_metric(metric(W0, 'p1', 1, 1.0, 'ON_TIME', 1))
    view.add_metric(metric(W0, 'p2', 1, 1.0, 'ON_TIME', 0))
    assert view.windows()[0]['pane'] == 'ON_TIME'


def test_top_products_rank_the_latest_window_by_revenue():
    view = OutputView()
    view.add_metric(metric(W0, 'old', 100, 10_000.0))
    for i, revenue in enumerate([5.0, 50.0, 20.0]):
        view.add_metric(metric(W1, f'p{i}', 1, revenue))
    assert [p['product_id'] for p in view.top_products()] == ['p1', 'p2', 'p0']


def test_an_alert_id_counts_once_and_the_latest_alerts_are_bounded_newest_first():
    view = OutputView()
    view.add_alert(alert('a', 'SMALL_THEN_LARGE'), 10, 11)
    view.add_alert(alert('a', 'SMALL_THEN_LARGE'), 12, 13)  # a replay
    for i in range(MAX_ALERTS + 5):
        view.add_alert(alert(f'v{i}'), 20 + i, 30 + i)
    assert view.alerts_by_rule == {'SMALL_THEN_LARGE': 1, 'VELOCITY': MAX_ALERTS + 5}
    latest = view.latest_alerts()
    assert len(latest) == MAX_ALERTS and latest[0]['alert_id'] == f'v{MAX_ALERTS + 4}'
    assert latest[0]['record_time'] == 20 + MAX_ALERTS + 4


def test_dead_letters_count_per_stage_and_reason():
    view = OutputView()
    for stage, reason in [
        ('decode', 'INVALID_JSON'),
        ('validate', 'BAD_PRICE'),
        ('decode', 'INVALID_JSON'),
    ]:
        view.add_dead_letter({'stage': stage, 'reason': reason})
    assert view.dead_letters_by_reason == {'decode/INVALID_JSON': 2, 'validate/BAD_PRICE': 1}


def test_old_windows_are_dropped():
    view = OutputView()
    for i in range(MAX_WINDOWS + 3):
        view.add_metric(metric(W0 + i * 300_000, 'p', 1, 1.0))
    windows = view.windows()
    assert len(windows) == MAX_WINDOWS and windows[0]['window_start'] == W0 + 3 * 300_000


def test_window_totals_is_what_the_page_shows():
    rows = [metric(W0, 'p1', 2, 2.5), metric(W0, 'p2', 1, 1.25, units=3)]
    assert window_totals(rows) == {W0: (3, 5, 3.75)}
