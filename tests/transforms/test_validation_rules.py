"""Tests of the order value rules, without a pipeline: every rule has a reason code."""

import datetime
import json
import math

import pytest
from hypothesis import given, settings

from connectors.order_codec import OrderDecoder, decode_order, encode_order_avro, encode_order_json
from tests.connectors.confluent_orders import (
    LOCAL_MILLIS,
    MICROS,
    MILLIS,
    catalogue_for,
    mock_registry,
    order_schema,
    serialize,
)
from tests.strategies import orders as valid_orders
from tests.transforms.helpers import NOW_S, raw_order
from transforms.currencies import ISO_4217_CODES
from transforms.records import Order
from transforms.validation_rules import (
    MAX_FUTURE_MS,
    MAX_ID_LENGTH,
    MAX_ORDER_AMOUNT,
    ValidationError,
    ValidationReason,
    parse_event_time,
    validate_order,
)

NOW_MS = int(NOW_S * 1000)


def reason_of(**overrides) -> ValidationReason:
    with pytest.raises(ValidationError) as caught:
        validate_order(raw_order(**overrides), NOW_MS)
    return caught.value.reason


def test_a_valid_order_becomes_a_typed_order_at_its_event_time():
    order = validate_order(raw_order(), NOW_MS)
    assert order == Order(
        'ord-0001',
        'cus-0001',
        'prd-001',
        2,
        10.5,
        'EUR',
        'card-0001',
        52.52,
        13.405,
        '2026-11-18T11:00:00.250Z',
        1.25,
        2,
        1_794_999_600_250,
    )
    assert order.amount == 10.5 * 2 + 1.25


@pytest.mark.parametrize('field', ['order_id', 'customer_id', 'product_id', 'card_id'])
@pytest.mark.parametrize('value', ['', '   ', '\t'])
def test_required_ids_may_not_be_empty_or_blank(field, value):
    with pytest.raises(ValidationError) as caught:
        validate_order(raw_order(**{field: value}), NOW_MS)
    assert caught.value.reason is ValidationReason.EMPTY_FIELD
    assert caught.value.field == field


def test_order_id_may_have_64_characters_but_not_65():
    assert validate_order(raw_order(order_id='x' * 64), NOW_MS).order_id == 'x' * 64
    assert reason_of(order_id='x' * 65) is ValidationReason.ORDER_ID_TOO_LONG


def test_order_id_length_counts_characters_not_bytes():
    assert validate_order(raw_order(order_id='é' * 64), NOW_MS).order_id == 'é' * 64


@pytest.mark.parametrize('quantity', [0, -1, -(2**31)])
def test_quantity_below_one_is_out_of_range(quantity):
    assert reason_of(quantity=quantity) is ValidationReason.QUANTITY_OUT_OF_RANGE


def test_quantity_of_one_is_valid():
    assert validate_order(raw_order(quantity=1), NOW_MS).quantity == 1


@pytest.mark.parametrize('price', [0.0, -0.0, -0.01, -1e9])
def test_price_must_be_positive(price):
    assert reason_of(price=price) is ValidationReason.PRICE_NOT_POSITIVE


def test_the_smallest_positive_price_is_valid():
    assert validate_order(raw_order(price=5e-324), NOW_MS).price == 5e-324


@pytest.mark.parametrize('field', ['price', 'tax', 'lat', 'lon'])
@pytest.mark.parametrize('value', [math.nan, math.inf, -math.inf])
def test_numbers_must_be_finite(field, value):
    with pytest.raises(ValidationError) as caught:
        validate_order(raw_order(**{field: value}), NOW_MS)
    assert caught.value.reason is ValidationReason.NOT_FINITE
    assert caught.value.field == field


@pytest.mark.parametrize('currency', ['', 'eur', 'EURO', 'XXX', 'XAU', 'ABC', 'HRK', 'E U'])
def test_currency_must_be_an_iso_4217_code(currency):
    assert reason_of(currency=currency) is ValidationReason.UNKNOWN_CURRENCY


def test_lower_case_currency_gets_a_hint():
    with pytest.raises(ValidationError, match='upper case'):
        validate_order(raw_order(currency='usd'), NOW_MS)


@pytest.mark.parametrize('currency', ['EUR', 'USD', 'GBP', 'JPY', 'CHF', 'XOF', 'CLF'])
def test_iso_4217_currencies_are_valid(currency):
    assert validate_order(raw_order(currency=currency), NOW_MS).currency == currency


def test_the_currency_list_holds_only_three_upper_case_letters():
    assert len(ISO_4217_CODES) > 150
    assert all(len(code) == 3 and code.isalpha() and code.isupper() for code in ISO_4217_CODES)


@pytest.mark.parametrize(
    'lat, valid',
    [(-90.0, True), (90.0, True), (0.0, True), (90.0000001, False), (-90.5, False), (180.0, False)],
)
def test_latitude_range_includes_its_bounds(lat, valid):
    if valid:
        assert validate_order(raw_order(lat=lat), NOW_MS).lat == lat
    else:
        assert reason_of(lat=lat) is ValidationReason.LAT_OUT_OF_RANGE


@pytest.mark.parametrize(
    'lon, valid',
    [(-180.0, True), (180.0, True), (180.0000001, False), (-181.0, False), (360.0, False)],
)
def test_longitude_range_includes_its_bounds(lon, valid):
    if valid:
        assert validate_order(raw_order(lon=lon), NOW_MS).lon == lon
    else:
        assert reason_of(lon=lon) is ValidationReason.LON_OUT_OF_RANGE


@pytest.mark.parametrize('tax', [-0.01, -100.0])
def test_tax_may_not_be_negative(tax):
    assert reason_of(tax=tax) is ValidationReason.TAX_NEGATIVE


def test_zero_tax_is_valid():
    assert validate_order(raw_order(tax=0.0), NOW_MS).tax == 0.0


@pytest.mark.parametrize('version', [0, 3, -1])
def test_only_versions_1_and_2_exist(version):
    assert reason_of(version=version) is ValidationReason.UNKNOWN_VERSION


@pytest.mark.parametrize(
    'text, millis',
    [
        ('2026-11-18T11:00:00Z', 1_794_999_600_000),
        ('2026-11-18T11:00:00.250Z', 1_794_999_600_250),
        ('2026-11-18T13:00:00.250+02:00', 1_794_999_600_250),
        ('2026-11-18T05:30:00-05:30', 1_794_999_600_000),
        ('2026-11-18T11:00:00.250999+00:00', 1_794_999_600_250),
        ('2026-11-18T11:00:00,5Z', 1_794_999_600_500),
        ('20261118T110000Z', 1_794_999_600_000),
        ('2026-11-18T11:00Z', 1_794_999_600_000),
        ('2026-11-18T13:00:00+0200', 1_794_999_600_000),
        ('1969-12-31T23:59:59.999Z', -1),
    ],
)
def test_iso_8601_with_a_zone_is_parsed_to_epoch_millis(text, millis):
    assert parse_event_time(text) == millis


@pytest.mark.parametrize('millis', [0, 1_794_999_600_250, -1])
def test_epoch_millis_are_taken_as_they_are(millis):
    assert parse_event_time(millis) == millis


@pytest.mark.parametrize(
    'text',
    [
        '2026-11-18T09:40:00',  # naive: no zone
        '2026-11-18T09:40:00.250',  # naive
        '2026-11-18',  # a date, no time
        '2026-11-18 09:40:00Z',  # space instead of T
        '2026-11-18t09:40:00Z',  # lower-case t
        '2026-11-18T24:00:00Z',  # hour 24
        '2026-02-30T10:00:00Z',  # no such day
        '2026-W47-3T09:40:00Z',  # week date
        '1794999600250',  # epoch millis as a string
        'yesterday',
        '',
        '2026-11-18T09:40:00Z trailing',
    ],
)
def test_other_timestamps_are_bad(text):
    assert reason_of(timestamp=text) is ValidationReason.BAD_TIMESTAMP


def test_a_naive_timestamp_is_told_to_add_a_zone():
    with pytest.raises(ValidationError, match='no zone'):
        validate_order(raw_order(timestamp='2026-11-18T09:40:00'), NOW_MS)


def test_a_date_time_without_a_zone_from_avro_is_bad_and_says_why():
    naive = datetime.datetime(2026, 11, 18, 9, 40)  # fastavro's local-timestamp-millis
    with pytest.raises(ValidationError, match=r'has no zone \(an Avro local-timestamp\)') as caught:
        validate_order(raw_order(timestamp=naive), NOW_MS)
    assert caught.value.reason is ValidationReason.BAD_TIMESTAMP


def test_epoch_millis_written_as_a_whole_json_float_are_an_event_time():
    raw = json.dumps(raw_order(timestamp=1_794_999_600_250.0)).encode()
    order = validate_order(decode_order(raw), NOW_MS)
    assert order.event_time_ms == 1_794_999_600_250
    assert order.timestamp == '1794999600250'  # as if the producer had written an integer


@pytest.mark.parametrize(
    'declared, written',
    [
        (MILLIS, datetime.datetime(2026, 11, 18, 11, 0, 0, 250_000, tzinfo=datetime.timezone.utc)),
        (MICROS, datetime.datetime(2026, 11, 18, 11, 0, 0, 250_999, tzinfo=datetime.timezone.utc)),
    ],
)
def test_an_order_from_confluents_avro_serializer_is_valid_at_its_event_time(
    declared, written, tmp_path
):
    order = validate_order(decode_confluent(declared, written, tmp_path), NOW_MS)
    assert order.event_time_ms == 1_794_999_600_250
    assert order.timestamp == '1794999600250'
    assert order.order_id == 'ord-confluent-1'


@pytest.mark.parametrize(
    'declared, written, reason',
    [
        (MICROS, -1, ValidationReason.EVENT_TIME_OUT_OF_RANGE),
        (MICROS, 2**62, ValidationReason.TIMESTAMP_IN_FUTURE),  # past year 9999: not CORRUPT_AVRO
        (LOCAL_MILLIS, datetime.datetime(2026, 11, 18, 11, 0), ValidationReason.BAD_TIMESTAMP),
    ],
)
def test_a_confluent_timestamp_out_of_bounds_keeps_its_reason(declared, written, reason, tmp_path):
    with pytest.raises(ValidationError) as caught:
        validate_order(decode_confluent(declared, written, tmp_path), NOW_MS)
    assert caught.value.reason is reason


def decode_confluent(declared, written, folder) -> dict:
    """The order Confluent's AvroSerializer writes with `written` as its timestamp, decoded."""
    schema = order_schema(declared)
    raw = serialize(schema, written, mock_registry())
    return OrderDecoder(catalogue_for(raw, schema, folder)).decode(raw)


def test_epoch_millis_before_year_one_are_bad():
    assert reason_of(timestamp=-62_135_596_800_001) is ValidationReason.BAD_TIMESTAMP


@pytest.mark.parametrize(
    'timestamp',
    [
        -1,  # 1969-12-31T23:59:59.999Z
        -62_135_596_800_000,  # 0001-01-01T00:00:00Z, the earliest readable
        '1969-12-31T23:59:59.999Z',
        '1970-01-01T00:59:59+01:00',  # 1969-12-31T23:59:59Z
        '0001-01-01T00:00:00Z',
    ],
)
def test_event_times_before_1970_are_out_of_range(timestamp):
    assert reason_of(timestamp=timestamp) is ValidationReason.EVENT_TIME_OUT_OF_RANGE


def test_the_epoch_itself_is_a_valid_event_time():
    assert validate_order(raw_order(timestamp=0), NOW_MS).event_time_ms == 0
    assert (
        validate_order(raw_order(timestamp='1970-01-01T01:00:00+01:00'), NOW_MS).event_time_ms == 0
    )


@pytest.mark.parametrize(
    'millis, reason',
    [
        (-9_223_372_036_854_775, ValidationReason.BAD_TIMESTAMP),  # Beam's MIN_TIMESTAMP
        (9_223_372_036_854_775, ValidationReason.TIMESTAMP_IN_FUTURE),  # Beam's MAX_TIMESTAMP
        (-(2**63), ValidationReason.BAD_TIMESTAMP),  # Avro long's minimum
        (2**63 - 1, ValidationReason.TIMESTAMP_IN_FUTURE),  # Avro long's maximum
    ],
)
def test_the_edges_of_beams_timestamp_range_are_dead_letters(millis, reason):
    assert reason_of(timestamp=millis) is reason


@pytest.mark.parametrize(
    'overrides',
    [
        {'price': 1e308, 'quantity': 2},  # overflows to inf
        {'price': 1.7e308, 'tax': 1.7e308},  # so does the tax added
        {'price': MAX_ORDER_AMOUNT, 'quantity': 1, 'tax': 1.0},
        {'price': 1e12, 'quantity': 2**31 - 1},
    ],
)
def test_amounts_over_the_bound_or_infinite_are_out_of_range(overrides):
    assert reason_of(**overrides) is ValidationReason.AMOUNT_OUT_OF_RANGE


def test_an_amount_at_the_bound_is_valid():
    order = validate_order(raw_order(price=MAX_ORDER_AMOUNT / 4, quantity=4, tax=0.0), NOW_MS)
    assert order.amount == MAX_ORDER_AMOUNT


@pytest.mark.parametrize('field', ['customer_id', 'product_id', 'card_id'])
def test_ids_longer_than_256_characters_are_too_long(field):
    assert validate_order(raw_order(**{field: 'x' * MAX_ID_LENGTH}), NOW_MS)
    assert reason_of(**{field: 'x' * (MAX_ID_LENGTH + 1)}) is ValidationReason.ID_TOO_LONG
    assert reason_of(**{field: 'x' * 600_000}) is ValidationReason.ID_TOO_LONG


def test_timestamps_up_to_one_day_ahead_are_valid_and_later_ones_are_in_the_future():
    assert validate_order(raw_order(timestamp=NOW_MS + MAX_FUTURE_MS), NOW_MS)
    assert reason_of(timestamp=NOW_MS + MAX_FUTURE_MS + 1) is ValidationReason.TIMESTAMP_IN_FUTURE
    assert reason_of(timestamp='2026-11-19T11:06:40.001Z') is ValidationReason.TIMESTAMP_IN_FUTURE
    assert validate_order(raw_order(timestamp='2026-11-19T11:06:40Z'), NOW_MS)


def test_the_first_broken_rule_in_field_order_is_the_reason():
    assert reason_of(order_id='', quantity=0, currency='xx') is ValidationReason.EMPTY_FIELD
    assert reason_of(quantity=0, currency='xx') is ValidationReason.QUANTITY_OUT_OF_RANGE
    assert reason_of(lat=100.0, timestamp='bad') is ValidationReason.LAT_OUT_OF_RANGE


def test_every_reason_code_equals_its_name():
    assert all(reason.value == reason.name == str(reason) for reason in ValidationReason)


def test_the_error_names_reason_and_message():
    with pytest.raises(ValidationError) as caught:
        validate_order(raw_order(quantity=0), NOW_MS)
    assert str(caught.value) == 'QUANTITY_OUT_OF_RANGE: quantity must be at least 1, got 0'


@settings(max_examples=200, deadline=None)
@given(valid_orders(version=2))
def test_every_valid_generated_order_passes_whatever_its_encoding(fields):
    for raw in (encode_order_json(fields), encode_order_avro(fields)):
        order = validate_order(decode_order(raw), NOW_MS)
        assert order.order_id == fields['order_id']
        assert order.event_time_ms == parse_event_time(fields['timestamp'])
