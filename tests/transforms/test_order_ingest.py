"""Tests of IngestOrders: decode and validate, and the balance of records in and out."""

import base64
import collections
import itertools

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.order_codec import encode_order_avro, encode_order_json
from pipelines.generator.cli import encoder_for, generate_orders
from tests.strategies import orders
from tests.transforms.helpers import counter, fixed_clock, options, raw_order
from transforms.order_ingest import IngestOrders
from transforms.records import DEAD_LETTER, VALID, KafkaRecord

GOOD = [
    encode(order)
    for order, encode in zip(
        generate_orders(40, seed=3, start_ms=1_794_990_000_000),
        itertools.cycle([encode_order_json, lambda o: encode_order_avro(o, version=o['version'])]),
    )
]

# (raw record, stage, reason) of every bad record in the mixed sample.
BAD = [
    (b'', 'decode', 'EMPTY'),
    (b'not json', 'decode', 'BAD_JSON'),
    (b'\x00\x00\x00\x00\x02\x02', 'decode', 'TRUNCATED_AVRO'),
    (b'{"order_id": "x"}', 'decode', 'MISSING_FIELD'),
    (encode_order_json(raw_order(order_id='')), 'validate', 'EMPTY_FIELD'),
    (encode_order_avro(raw_order(quantity=0)), 'validate', 'QUANTITY_OUT_OF_RANGE'),
    (encode_order_json(raw_order(currency='EURO')), 'validate', 'UNKNOWN_CURRENCY'),
    (encode_order_json(raw_order(lat=95.0)), 'validate', 'LAT_OUT_OF_RANGE'),
    (encode_order_json(raw_order(timestamp='2026-11-18 11:00')), 'validate', 'BAD_TIMESTAMP'),
    (encode_order_avro(raw_order(timestamp=1_900_000_000_000)), 'validate', 'TIMESTAMP_IN_FUTURE'),
]
MIXED = [
    KafkaRecord(None, raw, 'orders', n % 3, n, 0, [])
    for n, raw in enumerate(GOOD[:20] + [raw for raw, _, _ in BAD] + GOOD[20:])
]


def test_records_in_equal_valid_orders_plus_dead_letters_each_naming_its_reason():
    with TestPipeline(options=options()) as p:
        result = p | beam.Create(MIXED) | IngestOrders(clock=fixed_clock)
        counts = (
            (
                result[VALID] | 'TagValid' >> beam.Map(lambda _: 'valid'),
                result[DEAD_LETTER] | 'TagDead' >> beam.Map(lambda _: 'dead'),
            )
            | beam.Flatten()
            | beam.combiners.Count.PerElement()
        )
        assert_that(counts, equal_to([('valid', len(GOOD)), ('dead', len(BAD))]), label='Balance')
        assert_that(
            result[DEAD_LETTER]
            | 'Reasons' >> beam.Map(lambda dl: (base64.b64decode(dl.raw), dl.stage, dl.reason)),
            equal_to(BAD),
            label='EveryDeadLetterNamesItsReason',
        )
        assert_that(
            result[VALID] | 'Ids' >> beam.Map(lambda o: o.order_id),
            equal_to([f'ord-3-{n:08d}' for n in range(len(GOOD))]),
            label='AllGood',
        )


def test_the_dead_letters_of_both_stages_keep_their_kafka_offsets():
    expected = [(raw.offset, raw.partition) for raw in MIXED if raw.offset in range(20, 30)]
    with TestPipeline(options=options()) as p:
        dead = (p | beam.Create(MIXED) | IngestOrders(clock=fixed_clock))[DEAD_LETTER]
        assert_that(dead | beam.Map(lambda dl: (dl.offset, dl.partition)), equal_to(expected))


def test_each_reason_is_counted_once_per_record():
    p = TestPipeline(options=options())
    _ = p | beam.Create(MIXED) | IngestOrders(clock=fixed_clock)
    result = p.run()
    result.wait_until_finish()
    expected = collections.Counter((stage, reason) for _, stage, reason in BAD)
    namespaces = {'decode': 'DecodeEvents', 'validate': 'ValidateOrders'}
    for (stage, reason), count in expected.items():
        assert counter(result, namespaces[stage], reason) == count, reason
    assert counter(result, 'ValidateOrders', 'valid') == len(GOOD)


def test_the_generator_encodings_all_pass():
    encode = encoder_for('mixed')
    records = [
        encode(n, o) for n, o in enumerate(generate_orders(30, seed=5, start_ms=1_794_990_000_000))
    ]
    with TestPipeline(options=options()) as p:
        result = p | beam.Create(records) | IngestOrders(clock=fixed_clock)
        assert_that(result[DEAD_LETTER], equal_to([]), label='NoDeadLetters')
        assert_that(result[VALID] | beam.combiners.Count.Globally(), equal_to([30]))


@st.composite
def mixed_records(draw):
    """Valid orders (JSON or Avro, v1 or v2) mixed with arbitrary bytes, in any order."""
    records = []
    for n in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(['json', 'avro-v1', 'avro-v2', 'junk']))
        if kind == 'junk':
            records.append(draw(st.binary(max_size=40)))
            continue
        fields = draw(orders(version=1 if kind == 'avro-v1' else 2))
        fields['order_id'] = f'ord-{n}'
        records.append(
            encode_order_json(fields)
            if kind == 'json'
            else encode_order_avro(fields, version=1 if kind == 'avro-v1' else 2)
        )
    return records


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_records())
def test_for_any_mix_every_record_comes_out_once_as_an_order_or_a_dead_letter(records):
    with TestPipeline(options=options()) as p:
        result = p | beam.Create(records) | IngestOrders(clock=fixed_clock)
        outcomes = (
            result[VALID] | 'Valid' >> beam.Map(lambda o: ('valid', '')),
            result[DEAD_LETTER] | 'Dead' >> beam.Map(lambda dl: ('dead', dl.reason)),
        ) | beam.Flatten()

        def balanced(found):
            if len(found) != len(records):
                raise BeamAssertException(f'{len(records)} records in, {len(found)} out')
            if any(kind == 'dead' and not reason for kind, reason in found):
                raise BeamAssertException(f'a dead letter without a reason: {found}')

        assert_that(outcomes, balanced)
