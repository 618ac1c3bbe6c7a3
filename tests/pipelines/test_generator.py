"""The order generator: deterministic, valid for the codecs, half JSON and half Avro."""
import collections

import pytest

from connectors.order_codec import decode_order
from pipelines.generator import encoder_for, generate_orders, order_fingerprint


def test_same_seed_gives_the_same_orders_and_another_seed_does_not():
    assert list(generate_orders(50, seed=3)) == list(generate_orders(50, seed=3))
    assert list(generate_orders(50, seed=3)) != list(generate_orders(50, seed=4))


def test_order_ids_are_unique():
    ids = [order['order_id'] for order in generate_orders(2000)]
    assert len(set(ids)) == len(ids)


def test_mixed_format_alternates_and_every_record_decodes_to_its_order():
    orders = list(generate_orders(400, seed=5))
    encode = encoder_for('mixed')
    raws = [encode(n, order) for n, order in enumerate(orders)]
    assert collections.Counter(raw[0] == 0 for raw in raws) == {True: 200, False: 200}
    assert [order_fingerprint(decode_order(raw)) for raw in raws] == \
        [order_fingerprint(order) for order in orders]


def test_v1_and_v2_events_are_both_generated_and_v1_carries_no_tax():
    orders = list(generate_orders(200))
    assert {order['version'] for order in orders} == {1, 2}
    assert all(order['tax'] == 0.0 for order in orders if order['version'] == 1)


def test_unknown_format_is_refused_with_the_choices():
    with pytest.raises(ValueError, match='json, avro, mixed'):
        encoder_for('xml')
