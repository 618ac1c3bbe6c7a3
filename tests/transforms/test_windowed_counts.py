"""Tests of CountPerWindow: windows, panes (early, on time, late, dropped) and arguments.

The TestStream tests run on Beam's in-process runner and on Prism (the runner is a
parameter), since trigger behaviour differs by runner.
"""

import math

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to, equal_to_per_window
from apache_beam.transforms.window import IntervalWindow, TimestampedValue

from tests.transforms.helpers import RUNNERS, T0_MS, at_event_time, options, order, seconds
from transforms.records import EnrichedOrder, MetricRow, WindowCount
from transforms.windowed_counts import CountPerWindow

T0_S = T0_MS // 1000


def window(start_s: float, end_s: float) -> IntervalWindow:
    return IntervalWindow(T0_S + start_s, T0_S + end_s)


def row(start_s, end_s, key, orders, units, revenue, pane='ON_TIME', index=0) -> WindowCount:
    return WindowCount(
        T0_MS + start_s * 1000, T0_MS + end_s * 1000, key, orders, units, revenue, pane, index
    )


SAMPLE_ORDERS = [
    order('o1', 10, 10.0, product_id='pen'),
    order('o2', 200, 5.0, product_id='pen', quantity=5),
    order('o3', 299.999, 2.5, product_id='ink'),
    order('o4', 300, 7.0, product_id='pen', quantity=2),
    order('o5', 900, 1.0, product_id='ink'),
]


def windowed_counts(p, orders, **arguments):
    return (
        p
        | beam.Create(orders)
        | 'AtEventTime' >> beam.Map(at_event_time)
        | CountPerWindow(**arguments)
    )


def test_fixed_windows_count_orders_units_and_revenue_per_product():
    with TestPipeline(options=options()) as p:
        rows = windowed_counts(p, SAMPLE_ORDERS, window='fixed', size_s=300)
        assert_that(
            rows,
            equal_to_per_window(
                {
                    window(0, 300): [row(0, 300, 'pen', 2, 6, 15.0), row(0, 300, 'ink', 1, 1, 2.5)],
                    window(300, 600): [row(300, 600, 'pen', 1, 2, 7.0)],
                    window(900, 1200): [row(900, 1200, 'ink', 1, 1, 1.0)],
                }
            ),
        )


def test_the_default_window_is_five_minutes_fixed():
    with TestPipeline(options=options()) as p:
        rows = windowed_counts(p, SAMPLE_ORDERS[:2])
        assert_that(rows, equal_to([row(0, 300, 'pen', 2, 6, 15.0)]))


def test_sliding_windows_count_an_order_in_every_window_it_falls_in():
    with TestPipeline(options=options()) as p:
        rows = windowed_counts(p, SAMPLE_ORDERS[:2], window='sliding', size_s=300, period_s=150)
        assert_that(
            rows,
            equal_to_per_window(
                {
                    window(-150, 150): [row(-150, 150, 'pen', 1, 1, 10.0)],
                    window(0, 300): [row(0, 300, 'pen', 2, 6, 15.0)],
                    window(150, 450): [row(150, 450, 'pen', 1, 5, 5.0)],
                }
            ),
        )


def test_session_windows_close_after_a_gap_per_key():
    orders = [
        order('a', 0, 1.0, product_id='pen'),
        order('b', 50, 2.0, product_id='pen'),
        order('c', 160, 4.0, product_id='pen'),
        order('d', 60, 8.0, product_id='ink'),
    ]
    with TestPipeline(options=options()) as p:
        rows = windowed_counts(p, orders, window='sessions', gap_s=100)
        assert_that(
            rows,
            equal_to_per_window(
                {
                    window(0, 150): [row(0, 150, 'pen', 2, 2, 3.0)],
                    window(160, 260): [row(160, 260, 'pen', 1, 1, 4.0)],
                    window(60, 160): [row(60, 160, 'ink', 1, 1, 8.0)],
                }
            ),
        )


def by_currency(o) -> str:
    return o.currency


def one_unit_at_list_price(o):
    return 1, o.price


def test_the_key_and_value_functions_are_arguments():
    orders = [order('a', 0, 10.0, quantity=2), order('b', 5, 3.0)._replace(currency='USD')]
    with TestPipeline(options=options()) as p:
        rows = windowed_counts(p, orders, key_fn=by_currency, value_fn=one_unit_at_list_price)
        assert_that(rows, equal_to([row(0, 300, 'EUR', 1, 1, 5.0), row(0, 300, 'USD', 1, 1, 3.0)]))


def test_enriched_orders_are_counted_by_their_order():
    enriched = [EnrichedOrder(o, None, None, False, False) for o in SAMPLE_ORDERS[:2]]
    with TestPipeline(options=options()) as p:
        rows = (
            p
            | beam.Create(enriched)
            | 'AtEventTime'
            >> beam.Map(lambda e: TimestampedValue(e, at_event_time(e.order).timestamp))
            | CountPerWindow()
        )
        assert_that(rows, equal_to([row(0, 300, 'pen', 2, 6, 15.0)]))


def test_revenue_is_the_exact_sum_whatever_the_order_of_elements():
    amounts = [0.1] * 10 + [1e16, 1.0, -1e16]
    orders = [order(f'o{n}', n, amount) for n, amount in enumerate(amounts)]
    with TestPipeline(options=options()) as p:
        rows = windowed_counts(p, orders[::-1])
        assert_that(rows | beam.Map(lambda r: r.revenue), equal_to([math.fsum(amounts)]))
    assert math.fsum(amounts) != sum(amounts)


def test_a_window_count_keyed_by_product_is_a_metric_row():
    with TestPipeline(options=options()) as p:
        metrics = windowed_counts(p, SAMPLE_ORDERS[:1]) | beam.Map(MetricRow.from_window_count)
        assert_that(
            metrics, equal_to([MetricRow(T0_MS, T0_MS + 300_000, 'pen', 1, 1, 10.0, 'ON_TIME', 0)])
        )


# Panes: early, on time, late within the lateness, dropped beyond it -------------------------


def late_data_stream() -> TestStream:
    """Orders of the window [0, 300): two early, one on time, one late, one too late."""
    return (
        TestStream()
        .advance_watermark_to(seconds(0))
        .add_elements([at_event_time(order('a', 10, 1.0)), at_event_time(order('b', 20, 2.0))])
        .advance_processing_time(31)  # an early pane: a and b
        .add_elements([at_event_time(order('c', 30, 4.0))])
        .advance_watermark_to(seconds(301))  # the on-time pane: a, b, c
        .add_elements([at_event_time(order('late', 50, 8.0))])  # a late pane
        .advance_watermark_to(seconds(300 + 600 + 1))  # past the allowed lateness
        .add_elements([at_event_time(order('too-late', 60, 16.0))])  # dropped
        .advance_watermark_to(seconds(2000))
        .advance_watermark_to_infinity()
    )


STREAMING_CONFIG = dict(window='fixed', size_s=300, early_firing_s=30, allowed_lateness_s=600)
"""What the streaming pipeline uses: 5-minute windows, early every 30 s, 10 minutes late."""


@pytest.mark.parametrize('runner', RUNNERS)
def test_accumulating_panes_early_on_time_and_late_and_nothing_beyond_the_lateness(runner):
    with TestPipeline(options=options(runner, streaming=True)) as p:
        rows = p | late_data_stream() | CountPerWindow(**STREAMING_CONFIG)
        assert_that(
            rows,
            equal_to_per_window(
                {
                    window(0, 300): [
                        row(0, 300, 'prd-1', 2, 2, 3.0, 'EARLY', 0),
                        row(0, 300, 'prd-1', 3, 3, 7.0, 'ON_TIME', 1),
                        row(0, 300, 'prd-1', 4, 4, 15.0, 'LATE', 2),
                    ]
                }
            ),
        )


@pytest.mark.parametrize('runner', RUNNERS)
def test_discarding_panes_hold_only_what_came_since_the_last_pane(runner):
    with TestPipeline(options=options(runner, streaming=True)) as p:
        rows = (
            p | late_data_stream() | CountPerWindow(**STREAMING_CONFIG, accumulation='discarding')
        )
        assert_that(
            rows,
            equal_to(
                [
                    row(0, 300, 'prd-1', 2, 2, 3.0, 'EARLY', 0),
                    row(0, 300, 'prd-1', 1, 1, 4.0, 'ON_TIME', 1),
                    row(0, 300, 'prd-1', 1, 1, 8.0, 'LATE', 2),
                ]
            ),
        )


@pytest.mark.parametrize('runner', RUNNERS)
def test_without_lateness_late_orders_are_dropped_and_without_early_firings_no_early_pane(runner):
    with TestPipeline(options=options(runner, streaming=True)) as p:
        rows = p | late_data_stream() | CountPerWindow(window='fixed', size_s=300)
        assert_that(rows, equal_to([row(0, 300, 'prd-1', 3, 3, 7.0, 'ON_TIME', 0)]))


@pytest.mark.parametrize('runner', RUNNERS)
def test_without_early_firings_an_on_time_pane_then_late_panes(runner):
    with TestPipeline(options=options(runner, streaming=True)) as p:
        rows = (
            p
            | late_data_stream()
            | CountPerWindow(window='fixed', size_s=300, allowed_lateness_s=600)
        )
        assert_that(
            rows,
            equal_to(
                [
                    row(0, 300, 'prd-1', 3, 3, 7.0, 'ON_TIME', 0),
                    row(0, 300, 'prd-1', 4, 4, 15.0, 'LATE', 1),
                ]
            ),
        )


@pytest.mark.parametrize('runner', RUNNERS)
def test_out_of_order_orders_before_the_watermark_count_on_time(runner):
    stream = (
        TestStream()
        .add_elements([at_event_time(order('b', 250, 2.0))])
        .add_elements([at_event_time(order('a', 5, 1.0))])
        .add_elements([at_event_time(order('c', 320, 4.0))])
        .add_elements([at_event_time(order('d', 100, 8.0))])
        .advance_watermark_to(seconds(1000))
        .advance_watermark_to_infinity()
    )
    with TestPipeline(options=options(runner, streaming=True)) as p:
        rows = p | stream | CountPerWindow(window='fixed', size_s=300)
        assert_that(
            rows,
            equal_to_per_window(
                {
                    window(0, 300): [row(0, 300, 'prd-1', 3, 3, 11.0)],
                    window(300, 600): [row(300, 600, 'prd-1', 1, 1, 4.0)],
                }
            ),
        )


# Arguments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    'arguments, message',
    [
        ({'window': 'tumbling'}, 'unknown window kind'),
        ({'window': 'sessions'}, 'gap_s is required'),
        ({'window': 'sessions', 'gap_s': 60, 'size_s': 300}, 'size_s does not apply'),
        ({'window': 'sessions', 'gap_s': 60, 'period_s': 30}, 'period_s does not apply'),
        ({'window': 'fixed', 'gap_s': 60}, 'gap_s does not apply'),
        ({'window': 'fixed', 'period_s': 60}, 'period_s does not apply'),
        ({'window': 'sliding', 'size_s': 60}, 'period_s is required'),
        ({'window': 'sliding', 'size_s': 60, 'period_s': 120}, 'at most size_s'),
        ({'size_s': 0}, 'size_s must be greater than 0'),
        ({'size_s': -5}, 'size_s'),
        ({'size_s': float('inf')}, 'size_s must be a finite number'),
        ({'size_s': '300'}, 'size_s must be a finite number'),
        ({'allowed_lateness_s': -1}, 'allowed_lateness_s'),
        ({'allowed_lateness_s': None}, 'allowed_lateness_s'),
        ({'early_firing_s': 0}, 'early_firing_s'),
        ({'accumulation': 'both'}, 'accumulation'),
        ({'key_fn': 'product_id'}, 'key_fn must be callable'),
        ({'value_fn': None}, 'value_fn must be callable'),
    ],
)
def test_wrong_arguments_fail_when_the_pipeline_is_built(arguments, message):
    with pytest.raises(ValueError, match=message):
        CountPerWindow(**arguments)


def test_a_key_function_that_does_not_give_text_fails_the_pipeline():
    with pytest.raises(Exception, match='key_fn must return a str'):
        with TestPipeline(options=options()) as p:
            windowed_counts(p, SAMPLE_ORDERS[:1], key_fn=lambda o: o.quantity)
