"""Tests of the order codecs: round trips, version resolution, every failure."""

import io
import json
import pickle
from typing import Any, cast

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.avro_wire import frame
from connectors.codec_errors import DecodeError, DecodeReason
from connectors.order_codec import (
    ORDER_FIELDS,
    OrderDecoder,
    decode_order,
    encode_order_avro,
    encode_order_json,
)
from connectors.schema_catalogue import SchemaEntry, default_catalogue
from schemas import load_schema
from tests.connectors.avro_bytes import avro_double, avro_long, avro_string
from tests.strategies import orders

EXAMPLES = settings(max_examples=200, deadline=None)

SAMPLE_ORDER: dict[str, Any] = {
    'order_id': 'ord-7f3a9c2e',
    'customer_id': 'cus-004512',
    'product_id': 'prd-00231',
    'quantity': 3,
    'price': 19.99,
    'currency': 'EUR',
    'card_id': 'card-8c1d2f44',
    'lat': 48.8566,
    'lon': 2.3522,
    'timestamp': '2024-05-01T12:30:00.250+02:00',
    'tax': 3.8,
    'version': 2,
}
SAMPLE_V1_ORDER = {k: v for k, v in SAMPLE_ORDER.items() if k not in ('tax', 'version')}
REQUIRED_FIELDS = tuple(SAMPLE_V1_ORDER)
ALERT_SCHEMA_ID = default_catalogue().id_for('alert', 1)
ORDER_V2_SCHEMA_ID = default_catalogue().id_for('order', 2)


def parsed_schema(name: str) -> dict[str, Any]:
    """A schema file of schemas/, parsed as the catalogue parses it."""
    return cast(dict[str, Any], fastavro.parse_schema(load_schema(name)))


def as_json(order: dict[str, Any]) -> bytes:
    return json.dumps(order).encode('utf-8')


def expected_v2(order: dict[str, Any], version: int) -> dict[str, Any]:
    """The decoded form of ``order`` as written by a producer of ``version``."""
    return {**order, 'tax': float(order.get('tax', 0.0)), 'version': version}


def sample_body(
    order_id: bytes = avro_string(SAMPLE_ORDER['order_id']),
    timestamp: bytes = avro_long(0) + avro_string(SAMPLE_ORDER['timestamp']),
) -> bytes:
    """SAMPLE_ORDER's v2 Avro body, built by hand; parts can be replaced."""
    return b''.join(
        [
            order_id,
            avro_string(SAMPLE_ORDER['customer_id']),
            avro_string(SAMPLE_ORDER['product_id']),
            avro_long(SAMPLE_ORDER['quantity']),
            avro_double(SAMPLE_ORDER['price']),
            avro_string(SAMPLE_ORDER['currency']),
            avro_string(SAMPLE_ORDER['card_id']),
            avro_double(SAMPLE_ORDER['lat']),
            avro_double(SAMPLE_ORDER['lon']),
            timestamp,
            avro_double(SAMPLE_ORDER['tax']),
            avro_long(SAMPLE_ORDER['version']),
        ]
    )


SAMPLE_AVRO = frame(ORDER_V2_SCHEMA_ID, sample_body())


def test_hand_built_body_is_what_the_encoder_writes():
    assert encode_order_avro(SAMPLE_ORDER) == SAMPLE_AVRO


# Round trips ---------------------------------------------------------------


@EXAMPLES
@given(order=orders(version=2))
def test_json_round_trip_v2(order):
    assert decode_order(encode_order_json(order)) == order


@EXAMPLES
@given(order=orders(version=1))
def test_json_round_trip_v1_reads_as_v2(order):
    assert decode_order(as_json(order)) == expected_v2(order, version=1)


@EXAMPLES
@given(order=orders(version=2))
def test_avro_round_trip_v2(order):
    assert decode_order(encode_order_avro(order, version=2)) == order


@EXAMPLES
@given(order=orders(version=1))
def test_avro_v1_is_read_as_v2_with_tax_zero_and_version_one(order):
    decoded = decode_order(encode_order_avro(order, version=1))
    assert decoded == expected_v2(order, version=1)
    assert decoded['tax'] == 0.0 and decoded['version'] == 1


@EXAMPLES
@given(order=orders(version=2), text=st.text(max_size=80))
def test_round_trips_keep_any_unicode_text(order, text):
    order = {**order, 'order_id': text, 'customer_id': text.upper()}
    assert decode_order(encode_order_json(order)) == order
    assert decode_order(encode_order_avro(order)) == order


def test_v1_body_written_with_the_v1_schema_resolves_to_v2():
    v1_schema = fastavro.parse_schema(load_schema('order.v1.avsc'))
    v1_id = default_catalogue().id_for('order', 1)
    raw = frame(v1_id, _schemaless_body(v1_schema, SAMPLE_V1_ORDER))
    assert decode_order(raw) == expected_v2(SAMPLE_V1_ORDER, version=1)


def _schemaless_body(schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    stream = io.BytesIO()
    fastavro.schemaless_writer(stream, schema, record)
    return stream.getvalue()


def test_decoded_order_has_the_v2_fields_and_plain_types():
    order = {**SAMPLE_V1_ORDER, 'price': 20, 'lat': 0, 'lon': -3}
    decoded = decode_order(as_json(order))
    assert tuple(decoded) == ORDER_FIELDS
    assert [type(decoded[name]) for name in ('price', 'lat', 'lon', 'tax')] == [float] * 4
    assert decoded['price'] == 20.0 and decoded['version'] == 1


def test_json_extra_fields_are_ignored():
    decoded = decode_order(as_json({**SAMPLE_ORDER, 'coupon': 'SPRING', 'notes': [1, 2]}))
    assert decoded == SAMPLE_ORDER


def test_json_may_start_with_whitespace_and_timestamp_may_be_millis():
    order = {**SAMPLE_ORDER, 'timestamp': 1714559400250}
    assert decode_order(b'\n\t ' + as_json(order) + b'\r\n') == order


def test_json_epoch_millis_written_as_a_whole_float_decode_to_that_integer():
    decoded = decode_order(
        b'{"order_id": "ord-1", "customer_id": "cus-1", "product_id": "p", '
        b'"quantity": 1, "price": 2.5, "currency": "EUR", "card_id": "c", '
        b'"lat": 0, "lon": 0, "timestamp": 1767225600000.0}'
    )
    assert decoded['timestamp'] == 1767225600000
    assert type(decoded['timestamp']) is int


def test_json_float_timestamp_with_a_fraction_says_why_it_is_refused():
    expected = r'a fraction of a millisecond\), got float 1767225600000\.5$'
    with pytest.raises(DecodeError, match=expected):
        decode_order(json_with(timestamp=1767225600000.5))


def test_bytearray_and_memoryview_are_accepted():
    assert decode_order(bytearray(SAMPLE_AVRO)) == SAMPLE_ORDER
    assert decode_order(memoryview(as_json(SAMPLE_ORDER))) == SAMPLE_ORDER


def test_non_bytes_input_is_a_caller_error():
    with pytest.raises(TypeError, match='must be bytes'):
        decode_order(json.dumps(SAMPLE_ORDER))  # type: ignore[arg-type]


def test_encoded_json_is_compact_utf8():
    encoded = encode_order_json({**SAMPLE_ORDER, 'customer_id': 'Zoë'})
    assert b', ' not in encoded and b': ' not in encoded
    assert 'Zoë'.encode('utf-8') in encoded


def test_avro_encoding_writes_the_schema_version_into_the_version_field():
    decoded = decode_order(encode_order_avro({**SAMPLE_ORDER, 'version': 1}, version=2))
    assert decoded['version'] == 2


# Every DecodeReason ----------------------------------------------------------


def json_without(field: str) -> bytes:
    return as_json({k: v for k, v in SAMPLE_ORDER.items() if k != field})


def json_with(**fields: Any) -> bytes:
    return as_json({**SAMPLE_ORDER, **fields})


R = DecodeReason
FAILURES = [
    pytest.param(b'', R.EMPTY, None, id='empty-bytes'),
    pytest.param(None, R.EMPTY, None, id='null-kafka-value'),
    pytest.param(b'\xff\xfe', R.NOT_UTF8, None, id='not-utf8'),
    pytest.param(b'{"order_id": "caf\xe9"}', R.NOT_UTF8, None, id='latin1-text'),
    pytest.param(
        json_with(order_id='x').replace(b'"x"', b'"\\ud800"'),
        R.NOT_UTF8,
        'order_id',
        id='unpaired-surrogate-escape',
    ),
    pytest.param(b'{bad', R.BAD_JSON, None, id='bad-json'),
    pytest.param(json_with(price=1.0).replace(b'1.0', b'NaN'), R.BAD_JSON, None, id='nan'),
    pytest.param(
        json_with(timestamp=1).replace(b'"timestamp": 1,', b'"timestamp": NaN,'),
        R.BAD_JSON,
        None,
        id='timestamp-nan',
    ),
    pytest.param(
        json_with(timestamp=1).replace(b'"timestamp": 1,', b'"timestamp": -Infinity,'),
        R.BAD_JSON,
        None,
        id='timestamp-minus-infinity',
    ),
    pytest.param(as_json(SAMPLE_ORDER) + b' {}', R.BAD_JSON, None, id='two-objects'),
    pytest.param(b'[' * 100_000, R.BAD_JSON, None, id='too-deeply-nested'),
    pytest.param(b'[1,2]', R.NOT_AN_OBJECT, None, id='array'),
    pytest.param(b'"order"', R.NOT_AN_OBJECT, None, id='string'),
    pytest.param(b'null', R.NOT_AN_OBJECT, None, id='null'),
    pytest.param(b'\x07' + SAMPLE_AVRO[1:], R.UNKNOWN_MAGIC_BYTE, None, id='magic-0x07'),
    pytest.param(b'\x01' + SAMPLE_AVRO[1:], R.UNKNOWN_MAGIC_BYTE, None, id='magic-0x01'),
    pytest.param(frame(999, sample_body()), R.UNKNOWN_SCHEMA_ID, None, id='schema-id-999'),
    pytest.param(
        frame(ALERT_SCHEMA_ID, sample_body()), R.UNKNOWN_SCHEMA_ID, None, id='alert-schema-id'
    ),
    pytest.param(b'\x00\x00\x00', R.TRUNCATED_AVRO, None, id='short-header'),
    pytest.param(SAMPLE_AVRO[:5], R.TRUNCATED_AVRO, None, id='header-only'),
    pytest.param(SAMPLE_AVRO[:20], R.TRUNCATED_AVRO, None, id='truncated-body'),
    pytest.param(SAMPLE_AVRO[:-1], R.TRUNCATED_AVRO, None, id='last-byte-missing'),
    pytest.param(SAMPLE_AVRO + b'\x00garbage', R.CORRUPT_AVRO, None, id='trailing-garbage'),
    pytest.param(
        frame(ORDER_V2_SCHEMA_ID, sample_body(timestamp=avro_long(5) + avro_long(1))),
        R.CORRUPT_AVRO,
        None,
        id='invalid-union-index',
    ),
    pytest.param(
        frame(ORDER_V2_SCHEMA_ID, sample_body(order_id=avro_long(-3) + b'abc')),
        R.CORRUPT_AVRO,
        None,
        id='negative-length',
    ),
    pytest.param(
        frame(ORDER_V2_SCHEMA_ID, sample_body(order_id=avro_long(2) + b'\xff\xfe')),
        R.CORRUPT_AVRO,
        None,
        id='invalid-utf8-in-avro-string',
    ),
    *[
        pytest.param(json_without(name), R.MISSING_FIELD, name, id=f'missing-{name}')
        for name in REQUIRED_FIELDS
    ],
    pytest.param(json_with(quantity='3'), R.WRONG_TYPE, 'quantity', id='quantity-str'),
    pytest.param(json_with(quantity=True), R.WRONG_TYPE, 'quantity', id='quantity-bool'),
    pytest.param(json_with(quantity=2.0), R.WRONG_TYPE, 'quantity', id='quantity-float'),
    pytest.param(json_with(quantity=2**31), R.WRONG_TYPE, 'quantity', id='quantity-over-int32'),
    pytest.param(json_with(quantity=None), R.WRONG_TYPE, 'quantity', id='quantity-null'),
    pytest.param(json_with(price='19.99'), R.WRONG_TYPE, 'price', id='price-str'),
    pytest.param(json_with(price=False), R.WRONG_TYPE, 'price', id='price-bool'),
    pytest.param(json_with(price=10**400), R.WRONG_TYPE, 'price', id='price-over-double'),
    pytest.param(json_with(lat=[48.8]), R.WRONG_TYPE, 'lat', id='lat-array'),
    pytest.param(json_with(lon={'deg': 2}), R.WRONG_TYPE, 'lon', id='lon-object'),
    pytest.param(json_with(order_id=123), R.WRONG_TYPE, 'order_id', id='order-id-number'),
    pytest.param(json_with(customer_id=None), R.WRONG_TYPE, 'customer_id', id='customer-id-null'),
    pytest.param(json_with(product_id=True), R.WRONG_TYPE, 'product_id', id='product-id-bool'),
    pytest.param(json_with(currency=978), R.WRONG_TYPE, 'currency', id='currency-number'),
    pytest.param(json_with(card_id=['c']), R.WRONG_TYPE, 'card_id', id='card-id-array'),
    pytest.param(
        json_with(timestamp=1767225600000.5),
        R.WRONG_TYPE,
        'timestamp',
        id='timestamp-float-with-a-fraction',
    ),
    pytest.param(
        json_with(timestamp=1).replace(b'"timestamp": 1,', b'"timestamp": 1e400,'),
        R.WRONG_TYPE,
        'timestamp',
        id='timestamp-overflows-to-infinity',
    ),
    pytest.param(json_with(timestamp=True), R.WRONG_TYPE, 'timestamp', id='timestamp-bool'),
    pytest.param(json_with(timestamp=2**63), R.WRONG_TYPE, 'timestamp', id='timestamp-over-long'),
    pytest.param(json_with(tax='0.5'), R.WRONG_TYPE, 'tax', id='tax-str'),
    pytest.param(json_with(tax=None), R.WRONG_TYPE, 'tax', id='tax-null'),
    pytest.param(json_with(version=2.5), R.WRONG_TYPE, 'version', id='version-float'),
]


@pytest.mark.parametrize('raw, reason, field', FAILURES)
def test_bad_records_raise_decode_error_with_reason(raw, reason, field):
    with pytest.raises(DecodeError) as caught:
        decode_order(raw)
    assert caught.value.reason is reason
    assert caught.value.field == field
    assert str(caught.value) == f'{reason.value}: {caught.value.message}'


def test_every_reason_has_a_failure_case():
    tested = {param.values[1] for param in FAILURES}
    assert tested == set(DecodeReason)


def test_str_of_error_starts_with_the_reason():
    with pytest.raises(DecodeError) as caught:
        decode_order(json_with(quantity='3'))
    assert str(caught.value) == "WRONG_TYPE: field 'quantity' must be an integer, got str '3'"


def test_missing_field_message_says_what_was_expected():
    expected = "required field 'quantity' is missing; expected an integer"
    with pytest.raises(DecodeError, match=expected):
        decode_order(json_without('quantity'))


def test_schema_id_of_another_subject_names_that_subject():
    with pytest.raises(DecodeError, match="'alert'"):
        decode_order(frame(ALERT_SCHEMA_ID, sample_body()))


def test_unknown_magic_byte_message_shows_the_byte():
    with pytest.raises(DecodeError, match='0x07'):
        decode_order(b'\x07abc')


# Nothing but DecodeError escapes --------------------------------------------


@EXAMPLES
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_decode_error(raw):
    _decode_or_decode_error(raw)


@EXAMPLES
@given(order=orders(), data=st.data())
def test_damaged_avro_decodes_or_raises_decode_error(order, data):
    raw = bytearray(encode_order_avro(order))
    position = data.draw(st.integers(min_value=1, max_value=len(raw) - 1))
    damage = data.draw(st.sampled_from(['flip', 'cut', 'insert']))
    if damage == 'flip':
        raw[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    elif damage == 'cut':
        del raw[position:]
    else:
        raw[position:position] = data.draw(st.binary(min_size=1, max_size=8))
    _decode_or_decode_error(bytes(raw))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@EXAMPLES
@given(order=orders(), replacements=st.dictionaries(st.sampled_from(ORDER_FIELDS), JSON_VALUES))
def test_json_with_any_values_decodes_or_raises_decode_error(order, replacements):
    _decode_or_decode_error(json.dumps({**order, **replacements}).encode('utf-8'))


def _decode_or_decode_error(raw: bytes) -> None:
    try:
        decoded = decode_order(raw)
    except DecodeError:
        return
    assert set(decoded) == set(ORDER_FIELDS)


# Encoding errors -------------------------------------------------------------


@pytest.mark.parametrize('encode', [encode_order_json, encode_order_avro], ids=['json', 'avro'])
def test_encoding_an_order_without_a_field_names_it(encode):
    with pytest.raises(ValueError, match="'card_id' is missing"):
        encode({k: v for k, v in SAMPLE_ORDER.items() if k != 'card_id'})


@pytest.mark.parametrize('encode', [encode_order_json, encode_order_avro], ids=['json', 'avro'])
def test_encoding_a_wrong_type_names_the_field(encode):
    with pytest.raises(ValueError, match="field 'quantity' must be an integer, got bool True"):
        encode({**SAMPLE_ORDER, 'quantity': True})


def test_encoding_tax_as_v1_would_lose_it_so_it_is_refused():
    with pytest.raises(ValueError, match='tax'):
        encode_order_avro(SAMPLE_ORDER, version=1)


def test_encoding_an_unknown_version_is_refused():
    with pytest.raises(ValueError, match='version 9'):
        encode_order_avro(SAMPLE_ORDER, version=9)


def test_encoding_an_unpaired_surrogate_is_refused():
    order = {**SAMPLE_ORDER, 'order_id': '\ud800'}
    with pytest.raises(ValueError):
        encode_order_json(order)
    with pytest.raises(ValueError):
        encode_order_avro(order)


# A schema lookup of the user's own -------------------------------------------


class RegistryStub:
    """A SchemaLookup with ids of its own, as a registry client would have."""

    def __init__(self) -> None:
        self.entries = {
            101: SchemaEntry('order', 1, 101, parsed_schema('order.v1.avsc')),
            102: SchemaEntry('order', 2, 102, parsed_schema('order.v2.avsc')),
            103: SchemaEntry('alert', 1, 103, parsed_schema('alert.v1.avsc')),
        }
        self.lookups = 0

    def schema_for_id(self, schema_id: int) -> SchemaEntry:
        self.lookups += 1
        return self.entries[schema_id]

    def id_for(self, subject: str, version: int) -> int:
        for entry in self.entries.values():
            if (entry.subject, entry.version) == (subject, version):
                return entry.schema_id
        raise KeyError((subject, version))


@pytest.mark.parametrize('version', [1, 2])
def test_a_custom_schema_lookup_is_used_to_encode_and_decode(version):
    registry = RegistryStub()
    order = SAMPLE_ORDER if version == 2 else SAMPLE_V1_ORDER
    raw = encode_order_avro(order, version=version, catalogue=registry)
    assert raw[:5] == frame(100 + version, b'')
    assert OrderDecoder(registry).decode(raw) == expected_v2(order, version)
    assert decode_order(raw, catalogue=registry) == expected_v2(order, version)


def test_decoder_looks_up_each_schema_id_once():
    registry = RegistryStub()
    decoder = OrderDecoder(registry)
    raw = encode_order_avro(SAMPLE_ORDER, catalogue=registry)
    registry.lookups = 0
    for _ in range(3):
        decoder.decode(raw)
    assert registry.lookups == 1


@pytest.mark.parametrize('schema_id', [103, 2], ids=['other-subject', 'unknown-id'])
def test_custom_schema_lookup_rejects_ids_it_does_not_have_for_orders(schema_id):
    with pytest.raises(DecodeError) as caught:
        OrderDecoder(RegistryStub()).decode(frame(schema_id, sample_body()))
    assert caught.value.reason is DecodeReason.UNKNOWN_SCHEMA_ID


def test_custom_schema_lookup_failure_other_than_key_error_propagates():
    class Unreachable(RegistryStub):
        def schema_for_id(self, schema_id: int) -> SchemaEntry:
            raise ConnectionError('registry down')

    with pytest.raises(ConnectionError):
        OrderDecoder(Unreachable()).decode(frame(102, sample_body()))


def test_decoder_survives_pickling_with_its_cache():
    decoder = OrderDecoder()
    decoder.decode(SAMPLE_AVRO)
    assert pickle.loads(pickle.dumps(decoder)).decode(SAMPLE_AVRO) == SAMPLE_ORDER


def test_the_same_value_object_twice_in_a_row_is_decoded_once(monkeypatch):
    decoder = OrderDecoder()
    calls = []
    real = decoder._decode
    monkeypatch.setattr(decoder, '_decode', lambda raw: calls.append(raw) or real(raw))
    value = json.dumps(SAMPLE_ORDER).encode()
    first = decoder.decode(value)
    assert decoder.decode(value) is first and len(calls) == 1
    decoder.decode(bytes(bytearray(value)))  # equal, but another object: decoded again
    assert len(calls) == 2
    with pytest.raises(DecodeError):
        decoder.decode(b'')
    with pytest.raises(DecodeError):
        decoder.decode(b'')
