"""The published records match their Avro schemas, and the typed records have Beam schemas."""

import apache_beam as beam
import pytest

from connectors.avro_records import decode_avro_record, encode_avro_record
from schemas import load_schema
from transforms.records import (
    Alert,
    Customer,
    DeadLetter,
    EnrichedOrder,
    MetricRow,
    Order,
    Product,
    WindowCount,
)

SAMPLE_ALERT = Alert(
    '0123456789abcdef0123456789abcdef',
    'VELOCITY',
    'card-1',
    ['o1', 'o2'],
    1_794_999_600_000,
    1_795_000_000_000,
    {'count': '20', 'window_s': '60'},
)
SAMPLE_METRIC = MetricRow(1_794_999_600_000, 1_794_999_900_000, 'prd-1', 3, 7, 123.5, 'EARLY', 0)
SAMPLE_DEAD_LETTER = DeadLetter(
    'validate',
    'UNKNOWN_CURRENCY',
    'currency is unknown',
    'e2JhZH0=',
    'orders',
    2,
    41,
    1_795_000_000_000,
    'Y2FyZC0x',
)


@pytest.mark.parametrize(
    'record_type, schema_file',
    [
        (Alert, 'alert.v1.avsc'),
        (MetricRow, 'metric.v1.avsc'),
        (DeadLetter, 'dead_letter.v2.avsc'),
    ],
)
def test_published_records_have_the_fields_of_their_schema_in_order(record_type, schema_file):
    assert list(record_type._fields) == [f['name'] for f in load_schema(schema_file)['fields']]


@pytest.mark.parametrize(
    'subject, record',
    [
        ('alert', SAMPLE_ALERT),
        ('metric', SAMPLE_METRIC),
        ('dead_letter', SAMPLE_DEAD_LETTER),
        (
            'dead_letter',
            SAMPLE_DEAD_LETTER._replace(topic=None, partition=None, offset=None, key=None),
        ),
    ],
)
def test_published_records_round_trip_through_their_avro_schema(subject, record):
    decoded = decode_avro_record(encode_avro_record(subject, record._asdict()), subject)
    assert type(record)(**decoded) == record


def test_a_window_count_of_a_product_is_a_metric():
    count = WindowCount(1, 2, 'prd-1', 3, 4, 5.5, 'LATE', 2)
    assert MetricRow.from_window_count(count) == MetricRow(1, 2, 'prd-1', 3, 4, 5.5, 'LATE', 2)


@pytest.mark.parametrize(
    'value',
    [
        Order('o', 'c', 'p', 1, 2.5, 'EUR', 'k', 1.0, 2.0, '123', 0.0, 2, 123),
        SAMPLE_ALERT,
        SAMPLE_METRIC,
        SAMPLE_DEAD_LETTER,
        WindowCount(1, 2, 'k', 3, 4, 5.5, 'ON_TIME', 0),
        EnrichedOrder(
            Order('o', 'c', 'p', 1, 2.5, 'EUR', 'k', 1.0, 2.0, '123', 0.0, 2, 123),
            Customer('c', 'Ann', 'retail', 'DE', '2020-01-01'),
            None,
            True,
            False,
        ),
        EnrichedOrder(
            Order('o', 'c', 'p', 1, 2.5, 'EUR', 'k', 1.0, 2.0, '123', 0.0, 2, 123),
            None,
            Product('p', 'Pen', 'office', 1.5, 3),
            False,
            True,
        ),
    ],
    ids=lambda value: type(value).__name__,
)
def test_typed_records_are_beam_rows(value):
    coder = beam.coders.registry.get_coder(type(value))
    assert isinstance(coder, beam.coders.RowCoder)
    assert coder.decode(coder.encode(value)) == value


def test_an_order_amount_is_price_times_quantity_plus_tax():
    assert Order('o', 'c', 'p', 3, 2.5, 'EUR', 'k', 0.0, 0.0, '0', 1.25, 2, 0).amount == 8.75


def test_a_version_1_dead_letter_reads_as_version_2_with_the_defaults():
    v1 = SAMPLE_DEAD_LETTER._asdict()
    for name in ('raw_size', 'raw_sha256', 'raw_truncated'):
        del v1[name]
    decoded = decode_avro_record(
        encode_avro_record('dead_letter', v1, version=1), 'dead_letter', reader_version=2
    )
    assert DeadLetter(**decoded) == SAMPLE_DEAD_LETTER
