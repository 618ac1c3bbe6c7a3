"""Tests of the order field rules: the fast path agrees with the table."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.codec_errors import DecodeError, DecodeReason
from connectors.order_fields import ORDER_DEFAULTS, ORDER_FIELDS, normalise_order, normalise_parsed
from tests.strategies import orders

SAMPLE_ORDER = {
    'order_id': 'ord-1',
    'customer_id': 'cus-1',
    'product_id': 'prd-1',
    'quantity': 2,
    'price': 9.5,
    'currency': 'USD',
    'card_id': 'card-1',
    'lat': 40.7,
    'lon': -74.0,
    'timestamp': 1714559400250,
    'tax': 0.76,
    'version': 2,
}
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.integers(min_value=2**31 - 2, max_value=2**64),
)


def test_fields_and_defaults_come_from_the_v2_schema():
    assert ORDER_FIELDS[-2:] == ('tax', 'version')
    assert ORDER_DEFAULTS == {'tax': 0.0, 'version': 1}


@settings(max_examples=200, deadline=None)
@given(
    order=st.one_of(orders(version=1), orders(version=2)),
    replacements=st.dictionaries(st.sampled_from(ORDER_FIELDS), ODD_VALUES, max_size=3),
    removals=st.sets(st.sampled_from(ORDER_FIELDS), max_size=2),
    extras=st.dictionaries(st.sampled_from(['coupon', 'notes']), st.integers(), max_size=1),
)
def test_fast_path_gives_what_the_field_table_gives(order, replacements, removals, extras):
    candidate = {**order, **replacements, **extras}
    for name in removals:
        candidate.pop(name, None)
    expected = _outcome(normalise_order, dict(candidate))
    assert _outcome(normalise_parsed, dict(candidate)) == expected


def _outcome(normalise, order):
    try:
        result = normalise(order)
    except DecodeError as exc:
        return (exc.reason, exc.field, exc.message)
    return {name: (type(value), value) for name, value in result.items()}


def test_fast_path_reuses_a_dict_that_already_has_the_shape():
    order = dict(SAMPLE_ORDER)
    assert normalise_parsed(order) is order


def test_normalise_order_returns_a_new_dict_in_schema_order():
    order = dict(reversed(list(SAMPLE_ORDER.items())))
    normalised = normalise_order(order)
    assert normalised is not order and tuple(normalised) == ORDER_FIELDS


@pytest.mark.parametrize('value', [1.5, '2', True])
def test_version_must_be_an_integer(value):
    with pytest.raises(DecodeError, match="field 'version' must be an integer"):
        normalise_order({**SAMPLE_ORDER, 'version': value})


@pytest.mark.parametrize(
    'value, millis',
    [
        (1767225600000.0, 1767225600000),  # what producers that write every number as a float send
        (0.0, 0),
        (-0.0, 0),
        (-1.0, -1),  # a readable value; ValidateOrders rejects it as pre-1970
        (2.0**62, 2**62),  # large, but an Avro long; ValidateOrders says how far ahead
    ],
)
def test_a_whole_float_timestamp_is_the_integer_it_equals(value, millis):
    normalised = normalise_parsed({**SAMPLE_ORDER, 'timestamp': value})
    assert type(normalised['timestamp']) is int
    assert normalised['timestamp'] == millis


def test_a_float_timestamp_with_a_fraction_of_a_millisecond_is_the_wrong_type():
    with pytest.raises(DecodeError) as caught:
        normalise_order({**SAMPLE_ORDER, 'timestamp': 1767225600000.5})
    assert caught.value.reason is DecodeReason.WRONG_TYPE
    assert caught.value.field == 'timestamp'
    assert caught.value.message == (
        "field 'timestamp' must be a whole number of epoch millis (this one has a fraction of "
        'a millisecond), got float 1767225600000.5'
    )


@pytest.mark.parametrize('value', [math.nan, math.inf, -math.inf])
def test_a_float_timestamp_that_is_not_finite_is_the_wrong_type(value):
    with pytest.raises(DecodeError, match='must be a finite whole number') as caught:
        normalise_order({**SAMPLE_ORDER, 'timestamp': value})
    assert caught.value.reason is DecodeReason.WRONG_TYPE


@pytest.mark.parametrize('value', [2.0**63, -(2.0**64)])
def test_a_whole_float_timestamp_outside_an_avro_long_is_the_wrong_type(value):
    with pytest.raises(DecodeError, match=r'\(Avro long\)') as caught:
        normalise_order({**SAMPLE_ORDER, 'timestamp': value})
    assert caught.value.reason is DecodeReason.WRONG_TYPE


def test_other_fields_still_refuse_whole_floats():
    with pytest.raises(DecodeError, match="field 'quantity' must be an integer"):
        normalise_order({**SAMPLE_ORDER, 'quantity': 2.0})
