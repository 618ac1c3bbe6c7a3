"""Tests of EnrichOrders: reference data as side inputs, read once or re-read on an interval."""

import math
import pathlib
import time
import uuid

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to
from apache_beam.transforms.window import FixedWindows, TimestampedValue

from tests.transforms.helpers import at_event_time, counter, options, order
from tests.transforms.test_reference_data import CUSTOMERS_CSV, PRODUCTS_JSONL
from transforms.enrich import EnrichOrders
from transforms.records import Customer, EnrichedOrder, Product
from transforms.reference_data import ReferenceData, ReferenceDataError, load_reference_data

ANN = Customer('cus-1', 'Ann Lee', 'retail', 'DE', '2020-01-31')
PEN = Product('prd-1', 'Pen', 'office', 1.5, 300)

SAMPLE_ORDERS = [
    order('known', 0, customer_id='cus-1', product_id='prd-1'),
    order('new-customer', 1, customer_id='cus-404', product_id='prd-1'),
    order('new-product', 2, customer_id='cus-1', product_id='prd-404'),
    order('both-new', 3, customer_id='cus-405', product_id='prd-405'),
]


@pytest.fixture
def reference(tmp_path) -> str:
    (tmp_path / 'customers.csv').write_text(CUSTOMERS_CSV, encoding='utf-8')
    (tmp_path / 'products.jsonl').write_text(PRODUCTS_JSONL, encoding='utf-8')
    return str(tmp_path)


def test_orders_are_joined_with_their_customer_and_product_and_unknown_ones_kept(reference):
    known, new_customer, new_product, both_new = SAMPLE_ORDERS
    with TestPipeline(options=options()) as p:
        enriched = p | beam.Create(SAMPLE_ORDERS) | EnrichOrders(reference)
        assert_that(
            enriched,
            equal_to(
                [
                    EnrichedOrder(known, ANN, PEN, True, True),
                    EnrichedOrder(new_customer, None, PEN, False, True),
                    EnrichedOrder(new_product, ANN, None, True, False),
                    EnrichedOrder(both_new, None, None, False, False),
                ]
            ),
        )


def test_unknown_customers_and_products_are_counted(reference):
    p = TestPipeline(options=options())
    _ = p | beam.Create(SAMPLE_ORDERS) | EnrichOrders(reference)
    result = p.run()
    result.wait_until_finish()
    assert counter(result, 'EnrichOrders', 'orders') == 4
    assert counter(result, 'EnrichOrders', 'unknown_customer') == 2
    assert counter(result, 'EnrichOrders', 'unknown_product') == 2
    assert counter(result, 'EnrichOrders', 'reference_loads') == 1


def test_orders_keep_their_timestamps_and_windows(reference):
    def stamp(element, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        return element.order.order_id, timestamp.micros // 1000, window.end.micros // 1000

    with TestPipeline(options=options()) as p:
        enriched = (
            p
            | beam.Create(SAMPLE_ORDERS[:1])
            | beam.Map(at_event_time)
            | beam.WindowInto(FixedWindows(60))
            | EnrichOrders(reference)
        )
        event_ms = SAMPLE_ORDERS[0].event_time_ms
        assert_that(
            enriched | beam.Map(stamp),
            equal_to([('known', event_ms, event_ms - event_ms % 60_000 + 60_000)]),
        )


class MarkingReader:
    """Reads the reference files and names every customer after this load, a fresh token.

    Each load also leaves a file named after its token in ``marks``, so the test can
    count the loads and tell which load enriched which order.
    """

    def __init__(self, marks: str) -> None:
        self._marks = marks

    def __call__(self, path: str) -> ReferenceData:
        data = load_reference_data(path)
        token = uuid.uuid4().hex
        (pathlib.Path(self._marks) / token).touch()
        return ReferenceData(
            {k: c._replace(name=token) for k, c in data.customers.items()}, data.products
        )


def test_in_streaming_the_reference_data_is_re_read_every_interval(reference, tmp_path):
    marks = tmp_path / 'loads'
    marks.mkdir()
    interval = 1.0
    start = math.floor(time.time()) - 10.0  # in the past: the runner catches up at once
    at = [0.2, 0.8, 1.5, 2.5]  # two orders in the first interval, one per other
    orders = [
        order(f'o{n}', 0, customer_id='cus-1')._replace(
            event_time_ms=round((start + offset) * 1000)
        )
        for n, offset in enumerate(at)
    ]

    def loads_by_interval(enriched):
        names = {e.order.order_id: e.customer.name for e in enriched}
        if sorted(names) != ['o0', 'o1', 'o2', 'o3']:
            raise BeamAssertException(f'expected every order enriched once, got {names}')
        if not (names['o0'] == names['o1'] and len({names['o1'], names['o2'], names['o3']}) == 3):
            raise BeamAssertException(f'expected one load per interval, got {names}')

    with TestPipeline(options=options('PrismRunner', streaming=True)) as p:
        enriched = (
            p
            | beam.Create(orders)
            | beam.Map(lambda o: TimestampedValue(o, o.event_time_ms / 1000))
            | EnrichOrders(
                reference,
                refresh_interval_s=interval,
                refresh_start_s=start,
                refresh_stop_s=start + 3 * interval,
                reader=MarkingReader(str(marks)),
            )
        )
        assert_that(enriched, loads_by_interval)
    assert len(list(marks.iterdir())) == 1 + 3  # the snapshot at build time, one per interval


def test_orders_outside_the_refreshed_intervals_use_the_snapshot_read_at_build_time(
    reference, tmp_path
):
    marks = tmp_path / 'loads'
    marks.mkdir()
    start = math.floor(time.time()) - 10.0
    backlog = order('backlog', 0, customer_id='cus-1')._replace(
        event_time_ms=round((start - 3600) * 1000)
    )
    with TestPipeline(options=options('PrismRunner', streaming=True)) as p:
        enrich = EnrichOrders(
            reference,
            refresh_interval_s=1,
            refresh_start_s=start,
            refresh_stop_s=start + 2,
            reader=MarkingReader(str(marks)),
        )
        enriched = (
            p
            | beam.Create([backlog])
            | beam.Map(lambda o: TimestampedValue(o, o.event_time_ms / 1000))
            | enrich
        )
        [snapshot] = [mark.name for mark in marks.iterdir()]  # read while building
        assert_that(
            enriched | beam.Map(lambda e: (e.customer.name, e.product_known)),
            equal_to([(snapshot, True)]),
        )


def test_a_missing_reference_folder_fails_a_refreshing_pipeline_when_it_is_built(tmp_path):
    with pytest.raises(ReferenceDataError, match='no customers reference file'):
        with TestPipeline(options=options('PrismRunner', streaming=True)) as p:
            _ = p | beam.Create(SAMPLE_ORDERS) | EnrichOrders(str(tmp_path), refresh_interval_s=60)


def test_refreshing_needs_orders_in_the_global_window(reference):
    with pytest.raises(ValueError, match='global window'):
        with TestPipeline(options=options()) as p:
            _ = (
                p
                | beam.Create(SAMPLE_ORDERS)
                | beam.WindowInto(FixedWindows(60))
                | EnrichOrders(reference, refresh_interval_s=60)
            )


@pytest.mark.parametrize(
    'arguments, message',
    [
        ({'reference_path': ''}, 'reference_path'),
        ({'refresh_interval_s': 0}, 'refresh_interval_s'),
        ({'refresh_interval_s': float('nan')}, 'refresh_interval_s'),
        ({'refresh_start_s': 10.0}, 'need refresh_interval_s'),
        ({'refresh_interval_s': 5, 'refresh_start_s': 10, 'refresh_stop_s': 10}, 'after'),
        ({'reader': 'files'}, 'reader'),
    ],
)
def test_wrong_arguments_fail_when_the_pipeline_is_built(arguments, message):
    arguments = {'reference_path': '/reference', **arguments}
    with pytest.raises(ValueError, match=message):
        EnrichOrders(**arguments)
