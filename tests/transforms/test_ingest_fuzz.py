"""Fuzzing decode and validate together: any bytes end as an order or a typed error.

Whatever a producer writes, ``decode_order`` raises only ``DecodeError`` and
``validate_order`` only ``ValidationError``; an order that passes both can be timestamped,
windowed and summed (an event time Beam and Prism hold, a finite amount), and its dead letter
or metric encodes as strict JSON. CI-sized: 300 examples per input family, derandomized so a
failure reproduces; ``GOLDSTREAM_FUZZ_EXAMPLES=20000`` runs many more.
"""

import json
import math
import os

from apache_beam.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP, Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.codec_errors import DecodeError
from connectors.kafka_write import DEFAULT_MAX_RECORD_BYTES
from connectors.order_codec import decode_order, encode_order_avro
from pipelines.streaming.output_encoding import json_value, product_key
from tests.strategies import orders as valid_orders
from tests.transforms.helpers import NOW_S
from transforms.dead_letters import make_dead_letter
from transforms.records import MetricRow, RecordOrigin
from transforms.validation_rules import MAX_ORDER_AMOUNT, ValidationError, validate_order

NOW_MS = int(NOW_S * 1000)
FUZZ = settings(
    max_examples=int(os.environ.get('GOLDSTREAM_FUZZ_EXAMPLES', '300')),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.text(max_size=20)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
extreme_numbers = st.sampled_from(
    [
        -1,
        0,
        -(2**63),
        2**63 - 1,
        2**63,
        -(2**31) - 1,
        2**31,
        -9_223_372_036_854_775,
        9_223_372_036_854_775,
        1e308,
        -1e308,
        1.7976931348623157e308,
        5e-324,
        float('nan'),
        float('inf'),
        float('-inf'),
        -0.0,
        10**400,
    ]
)
long_texts = st.integers(min_value=0, max_value=1_500_000).map(lambda n: 'x' * n)


def check(raw: bytes) -> None:
    """The property: typed errors only, and an accepted order is safe downstream (and its metric far
    under Kafka's record limit)."""
    try:
        fields = decode_order(raw)
    except DecodeError:
        return
    try:
        order = validate_order(fields, NOW_MS)
    except ValidationError as error:
        dead_letter = make_dead_letter(
            'validate',
            error.reason,
            error.message,
            RecordOrigin(raw, None, None, None, None),
            NOW_MS,
        )
        json.loads(json_value(dead_letter))
        return
    assert MIN_TIMESTAMP < Timestamp(micros=order.event_time_ms * 1000) < MAX_TIMESTAMP
    assert order.event_time_ms >= 0
    assert math.isfinite(order.amount) and order.amount <= MAX_ORDER_AMOUNT
    metric = MetricRow(0, 300_000, order.product_id, 2**31, 2**40, order.amount * 2**31, 'EARLY', 0)
    json.loads(json_value(metric))
    assert len(json_value(metric)) + len(product_key(metric)) < DEFAULT_MAX_RECORD_BYTES // 100


@FUZZ
@given(st.binary(max_size=200))
def test_any_bytes_decode_and_validate_to_an_order_or_a_typed_error(raw):
    check(raw)


@FUZZ
@given(
    valid_orders(),
    st.sampled_from(
        [
            'order_id',
            'customer_id',
            'product_id',
            'quantity',
            'price',
            'currency',
            'lat',
            'lon',
            'timestamp',
            'tax',
            'version',
            'card_id',
        ]
    ),
    json_values | extreme_numbers | long_texts,
)
def test_an_order_with_any_json_value_in_a_field_is_an_order_or_a_typed_error(order, field, value):
    check(json.dumps({**order, field: value}).encode())


@FUZZ
@given(
    valid_orders(),
    st.sampled_from(['price', 'tax', 'lat', 'lon', 'quantity', 'timestamp']),
    extreme_numbers,
)
def test_an_avro_order_with_an_extreme_number_is_an_order_or_a_typed_error(order, field, value):
    try:
        raw = encode_order_avro({**order, field: value})
    except (ValueError, OverflowError):
        return  # not representable in the field's Avro type: no producer can write it
    check(raw)


@FUZZ
@given(valid_orders(), st.data())
def test_a_damaged_avro_order_is_an_order_or_a_typed_error(order, data):
    raw = bytearray(encode_order_avro(order))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    check(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
