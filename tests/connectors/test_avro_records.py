"""Tests of the generic wire-format codec for alerts, metrics and dead letters."""

import pytest

from connectors.avro_records import decode_avro_record, encode_avro_record
from connectors.avro_wire import frame
from connectors.codec_errors import DecodeError, DecodeReason
from connectors.order_codec import encode_order_avro
from connectors.schema_catalogue import default_catalogue

SAMPLE_ALERT = {
    'alert_id': '3f2a9c',
    'rule': 'VELOCITY',
    'card_id': 'card-8c1d2f44',
    'order_ids': ['ord-1', 'ord-2'],
    'event_time': 1714559400250,
    'detected_at': 1714559401000,
    'details': {'count': '20', 'window_s': '60'},
}
SAMPLE_METRIC = {
    'window_start': 1714559400000,
    'window_end': 1714559700000,
    'product_id': 'prd-00231',
    'orders': 12,
    'units': 30,
    'revenue': 612.5,
    'pane': 'EARLY',
    'pane_index': 0,
}
SAMPLE_DEAD_LETTER = {
    'stage': 'decode',
    'reason': 'BAD_JSON',
    'message': 'not valid JSON',
    'raw': 'e2JhZA==',
    'topic': 'orders',
    'partition': 3,
    'offset': 1234,
    'failed_at': 1714559401000,
    'key': 'Y2FyZC04YzFkMmY0NA==',
}


@pytest.mark.parametrize(
    'subject, record',
    [('alert', SAMPLE_ALERT), ('metric', SAMPLE_METRIC), ('dead_letter', SAMPLE_DEAD_LETTER)],
)
def test_records_round_trip_with_their_subject_schema(subject, record):
    raw = encode_avro_record(subject, record, version=1)
    assert raw[:5] == frame(default_catalogue().id_for(subject, 1), b'')
    assert decode_avro_record(raw, subject) == record


def test_nullable_fields_with_defaults_may_be_left_out():
    origin = ('topic', 'partition', 'offset', 'key')
    record = {k: v for k, v in SAMPLE_DEAD_LETTER.items() if k not in origin}
    decoded = decode_avro_record(
        encode_avro_record('dead_letter', record, version=1), 'dead_letter'
    )
    assert decoded == {**record, 'topic': None, 'partition': None, 'offset': None, 'key': None}


def test_a_record_that_does_not_match_the_schema_is_refused():
    with pytest.raises(ValueError, match='alert'):
        encode_avro_record('alert', {**SAMPLE_ALERT, 'order_ids': 'ord-1'})


def test_an_unknown_subject_is_refused():
    with pytest.raises(ValueError, match="'payment'"):
        encode_avro_record('payment', SAMPLE_ALERT)


def test_a_record_of_another_subject_is_an_unknown_schema_id():
    with pytest.raises(DecodeError) as caught:
        decode_avro_record(
            encode_order_avro(
                {
                    'order_id': 'o',
                    'customer_id': 'c',
                    'product_id': 'p',
                    'quantity': 1,
                    'price': 1.0,
                    'currency': 'EUR',
                    'card_id': 'k',
                    'lat': 0.0,
                    'lon': 0.0,
                    'timestamp': 0,
                }
            ),
            'alert',
        )
    assert caught.value.reason is DecodeReason.UNKNOWN_SCHEMA_ID
    assert "'order'" in caught.value.message


def test_order_v1_can_be_read_as_v2_through_reader_version():
    order = {
        'order_id': 'o',
        'customer_id': 'c',
        'product_id': 'p',
        'quantity': 1,
        'price': 1.0,
        'currency': 'EUR',
        'card_id': 'k',
        'lat': 0.0,
        'lon': 0.0,
        'timestamp': 0,
    }
    raw = encode_avro_record('order', order, version=1)
    assert decode_avro_record(raw, 'order') == order
    assert decode_avro_record(raw, 'order', reader_version=2) == {**order, 'tax': 0.0, 'version': 1}


@pytest.mark.parametrize(
    'damage, reason',
    [
        pytest.param(lambda raw: raw[:-3], DecodeReason.TRUNCATED_AVRO, id='truncated'),
        pytest.param(lambda raw: raw + b'\x02', DecodeReason.CORRUPT_AVRO, id='trailing-bytes'),
        pytest.param(lambda raw: b'\x05' + raw[1:], DecodeReason.UNKNOWN_MAGIC_BYTE, id='magic'),
        pytest.param(lambda raw: b'', DecodeReason.EMPTY, id='empty'),
    ],
)
def test_damaged_records_raise_decode_error(damage, reason):
    with pytest.raises(DecodeError) as caught:
        decode_avro_record(damage(encode_avro_record('metric', SAMPLE_METRIC)), 'metric')
    assert caught.value.reason is reason


def test_latest_version_needs_a_catalogue_that_can_tell_it():
    class TwoMethodLookup:
        def schema_for_id(self, schema_id):
            return default_catalogue().schema_for_id(schema_id)

        def id_for(self, subject, version):
            return default_catalogue().id_for(subject, version)

    lookup = TwoMethodLookup()
    with pytest.raises(ValueError, match='latest_version'):
        encode_avro_record('metric', SAMPLE_METRIC, catalogue=lookup)
    raw = encode_avro_record('metric', SAMPLE_METRIC, version=1, catalogue=lookup)
    assert decode_avro_record(raw, 'metric', catalogue=lookup) == SAMPLE_METRIC
