"""Avro timestamp logical types as epoch millis: the schema rewrite, and orders written by
Confluent's own AvroSerializer read back through the project's decoder."""

import datetime

import fastavro
import pytest

from connectors.avro_timestamps import epoch_long_reader, to_millis
from connectors.order_codec import OrderDecoder
from tests.connectors.confluent_orders import (
    LOCAL_MILLIS,
    MICROS,
    MILLIS,
    NANOS,
    SAMPLE_RECORD,
    UTC,
    catalogue_for,
    mock_registry,
    order_schema,
    serialize,
)

NEW_YEAR_2026_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z in epoch millis."""


def timestamp_type(parsed_schema: dict) -> object:
    return next(f['type'] for f in parsed_schema['fields'] if f['name'] == 'timestamp')


# The schema rewrite ----------------------------------------------------------------------


@pytest.mark.parametrize(
    'declared, plain, units',
    [
        (MILLIS, 'long', 1),
        (MICROS, 'long', 1_000),
        (NANOS, 'long', 1_000_000),
        (['string', MICROS], ['string', 'long'], 1_000),
        (['null', 'string', MILLIS], ['null', 'string', 'long'], 1),
    ],
)
def test_an_instant_logical_type_is_read_as_its_plain_long(declared, plain, units):
    writer = fastavro.parse_schema(order_schema(declared))
    reader, units_per_milli = epoch_long_reader(writer, 'timestamp')
    assert timestamp_type(reader) == plain
    assert units_per_milli == units
    assert timestamp_type(writer) != plain  # the catalogue's parsed schema is left as it was


@pytest.mark.parametrize(
    'declared',
    [
        ['string', 'long'],
        'long',
        LOCAL_MILLIS,
        {'type': 'long', 'logicalType': 'local-timestamp-micros'},
    ],
)
def test_a_schema_without_an_instant_logical_type_is_kept_as_it_is(declared):
    writer = fastavro.parse_schema(order_schema(declared))
    assert epoch_long_reader(writer, 'timestamp') == (writer, 1)


def test_a_schema_without_the_field_is_kept_as_it_is():
    writer = fastavro.parse_schema(
        {'type': 'record', 'name': 'R', 'fields': [{'name': 'at', 'type': MICROS}]}
    )
    reader, units = epoch_long_reader(writer, 'timestamp')
    assert reader is writer and units == 1


@pytest.mark.parametrize(
    'value, units, millis',
    [
        (1_767_225_600_123_999, 1_000, 1_767_225_600_123),  # cut, never rounded up
        (-1, 1_000, -1),  # the millisecond -1 us falls in
        (-1_000, 1_000, -1),
        (2**63 - 1, 1_000_000, (2**63 - 1) // 1_000_000),  # exact: no float on the way
        (1_767_225_600_123, 1, 1_767_225_600_123),
    ],
)
def test_to_millis_divides_exactly_towards_the_past(value, units, millis):
    assert to_millis(value, units) == millis


def test_to_millis_leaves_a_string_alone():
    assert to_millis('2026-01-01T00:00:00Z', 1_000) == '2026-01-01T00:00:00Z'


# Bytes from Confluent's AvroSerializer through the decoder --------------------------------


def decode_confluent(declared, timestamp, tmp_path) -> dict:
    schema = order_schema(declared)
    raw = serialize(schema, timestamp, mock_registry())
    return OrderDecoder(catalogue_for(raw, schema, tmp_path)).decode(raw)


@pytest.mark.parametrize(
    'declared, written, millis',
    [
        pytest.param(
            MILLIS,
            datetime.datetime(2026, 1, 1, tzinfo=UTC),
            NEW_YEAR_2026_MS,
            id='millis-datetime',
        ),
        pytest.param(
            MILLIS,
            datetime.datetime(2026, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC),
            NEW_YEAR_2026_MS + 250,
            id='millis-with-a-fraction-of-a-second',
        ),
        pytest.param(
            MICROS,
            datetime.datetime(2026, 1, 1, 0, 0, 0, 123_999, tzinfo=UTC),
            NEW_YEAR_2026_MS + 123,
            id='micros-cut-to-the-millisecond',
        ),
        pytest.param(
            MICROS,
            datetime.datetime(
                2026, 1, 1, 2, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
            NEW_YEAR_2026_MS,
            id='micros-from-another-zone',
        ),
        pytest.param(MICROS, -1, -1, id='micros-just-before-1970'),
        pytest.param(MILLIS, 2**62, 2**62, id='millis-beyond-year-9999'),
        pytest.param(MICROS, 2**62, 2**62 // 1_000, id='micros-beyond-year-9999'),
        pytest.param(NANOS, 1_767_225_600_123_456_789, NEW_YEAR_2026_MS + 123, id='nanos'),
        pytest.param(
            ['string', MICROS],
            datetime.datetime(2026, 1, 1, tzinfo=UTC),
            NEW_YEAR_2026_MS,
            id='micros-in-a-union-with-string',
        ),
    ],
)
def test_a_confluent_timestamp_decodes_to_epoch_millis(declared, written, millis, tmp_path):
    decoded = decode_confluent(declared, written, tmp_path)
    assert decoded == {**SAMPLE_RECORD, 'timestamp': millis}
    assert type(decoded['timestamp']) is int


def test_an_iso_string_in_a_union_with_a_logical_timestamp_stays_a_string(tmp_path):
    decoded = decode_confluent(['string', MICROS], '2026-01-01T00:00:00Z', tmp_path)
    assert decoded['timestamp'] == '2026-01-01T00:00:00Z'


def test_a_local_timestamp_has_no_zone_and_decodes_as_a_naive_date_time(tmp_path):
    decoded = decode_confluent(LOCAL_MILLIS, datetime.datetime(2026, 1, 1), tmp_path)
    assert decoded['timestamp'] == datetime.datetime(2026, 1, 1)  # ValidateOrders refuses it
    assert decoded['timestamp'].tzinfo is None


def test_the_decoder_keeps_the_rewritten_schema_for_the_next_record(tmp_path):
    schema = order_schema(MICROS)
    registry = mock_registry()
    first = serialize(schema, 1_000_999, registry)
    second = serialize(schema, 2_000_999, registry)
    decoder = OrderDecoder(catalogue_for(first, schema, tmp_path))
    assert [decoder.decode(raw)['timestamp'] for raw in (first, second)] == [1_000, 2_000]
