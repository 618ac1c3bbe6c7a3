"""decode_value tells each kind, in JSON and in Avro, and reports what does not decode."""

import json

import pytest

from connectors.order_codec import encode_order_avro
from dashboard.record_kinds import (
    ALERT,
    DEAD_LETTER,
    METRIC,
    ORDER,
    UNKNOWN,
    decode_kind,
    decode_value,
)
from pipelines.streaming.output_encoding import value_encoder
from tests.dashboard.samples import SAMPLE_ALERT, SAMPLE_DEAD_LETTER, SAMPLE_METRIC, SAMPLE_ORDER

OUTPUTS = [
    (ALERT, 'alert', SAMPLE_ALERT),
    (METRIC, 'metric', SAMPLE_METRIC),
    (DEAD_LETTER, 'dead_letter', SAMPLE_DEAD_LETTER),
]


@pytest.mark.parametrize('encoding', ['json', 'avro'])
@pytest.mark.parametrize('kind, subject, record', OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_outputs_decode_to_their_fields_without_a_hint(kind, subject, record, encoding):
    value = decode_value(value_encoder(subject, encoding)(record))
    assert value == (kind, encoding, record._asdict(), None)


def test_orders_decode_from_json_and_from_avro():
    assert decode_value(json.dumps(SAMPLE_ORDER).encode()) == (ORDER, 'json', SAMPLE_ORDER, None)
    avro = decode_value(encode_order_avro(SAMPLE_ORDER))
    assert (avro.kind, avro.encoding, avro.fields['order_id'], avro.fields['tax']) == (
        ORDER,
        'avro',
        'o-1',
        1.0,
    )


@pytest.mark.parametrize(
    'raw, encoding, error',
    [
        (b'', 'empty', 'no value'),
        (b'\xff\xfe', 'binary', 'neither JSON nor wire-format Avro'),
        (b'[1, 2]', 'json', 'not an object'),
        (b'\x00\x00\x00\x00\x63abc', 'avro', 'not decodable Avro'),
    ],
)
def test_what_does_not_decode_is_reported_not_raised(raw, encoding, error):
    value = decode_value(raw, METRIC)
    assert (value.kind, value.encoding, value.fields) == (METRIC, encoding, None)
    assert error in value.error


def test_json_without_marker_fields_takes_the_hint_and_decode_kind_checks_it():
    assert decode_value(b'{"a": 1}').kind == UNKNOWN
    assert decode_value(b'{"a": 1}', METRIC).kind == METRIC
    assert decode_kind(value_encoder('alert', 'json')(SAMPLE_ALERT), METRIC) is None
    assert decode_kind(value_encoder('metric', 'avro')(SAMPLE_METRIC), METRIC)['orders'] == 3
