"""Tests of DecodeEvents: raw records in, decoded events or dead letters out."""

import base64
import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from connectors.avro_wire import frame
from connectors.order_codec import decode_order, encode_order_avro, encode_order_json
from tests.transforms.helpers import counter, options, raw_order
from transforms.decode import DecodeEvents
from transforms.records import DEAD_LETTER, VALID, KafkaHeader, KafkaRecord, RecordOrigin

V1_ORDER = {k: v for k, v in raw_order(order_id='ord-v1').items() if k not in ('tax', 'version')}
JSON_V2 = encode_order_json(raw_order(order_id='ord-json'))
AVRO_V2 = encode_order_avro(raw_order(order_id='ord-avro'))
AVRO_V1 = encode_order_avro(V1_ORDER, version=1)
KAFKA_V2 = KafkaRecord(
    b'card-0001',
    encode_order_json(raw_order(order_id='ord-kafka')),
    'orders',
    2,
    41,
    1_795_000_000_000,
    [KafkaHeader('source', b'test')],
)

# (raw input, expected decode reason); every one a different way to fail.
SAMPLE_BAD = [
    (b'', 'EMPTY'),
    (KafkaRecord(b'card-9', None, 'orders', 0, 7, 0, []), 'EMPTY'),
    (b'{"order_id": ', 'BAD_JSON'),
    (b'\xff\xfe{}', 'NOT_UTF8'),
    (b'"\xff"', 'NOT_UTF8'),
    (b'[1, 2]', 'NOT_AN_OBJECT'),
    (b'\x05abc', 'UNKNOWN_MAGIC_BYTE'),
    (frame(999, b'\x00'), 'UNKNOWN_SCHEMA_ID'),
    (AVRO_V2[:9], 'TRUNCATED_AVRO'),
    (json.dumps({k: v for k, v in raw_order().items() if k != 'price'}).encode(), 'MISSING_FIELD'),
    (json.dumps(raw_order(quantity='2')).encode(), 'WRONG_TYPE'),
]


def value_of(element) -> bytes:
    return (element.value or b'') if isinstance(element, KafkaRecord) else element


def test_json_and_avro_of_both_versions_decode_to_version_2_events():
    with TestPipeline(options=options()) as p:
        result = p | beam.Create([JSON_V2, AVRO_V2, AVRO_V1, KAFKA_V2]) | DecodeEvents()
        decoded = result[VALID] | beam.Map(
            lambda event: (event.fields['order_id'], event.fields['tax'], event.fields['version'])
        )
        assert_that(
            decoded,
            equal_to(
                [
                    ('ord-json', 1.25, 2),
                    ('ord-avro', 1.25, 2),
                    ('ord-v1', 0.0, 1),
                    ('ord-kafka', 1.25, 2),
                ]
            ),
        )
        assert_that(result[DEAD_LETTER], equal_to([]), label='NoDeadLetters')


def test_a_decoded_event_keeps_the_origin_of_its_record():
    with TestPipeline(options=options()) as p:
        result = p | beam.Create([KAFKA_V2, JSON_V2]) | DecodeEvents()
        assert_that(
            result[VALID] | beam.Map(lambda event: event.origin),
            equal_to(
                [
                    RecordOrigin(KAFKA_V2.value, b'card-0001', 'orders', 2, 41),
                    RecordOrigin(JSON_V2, None, None, None, None),
                ]
            ),
        )


def test_the_fields_are_the_codecs_version_2_dict():
    with TestPipeline(options=options()) as p:
        result = p | beam.Create([AVRO_V1]) | DecodeEvents()
        assert_that(
            result[VALID] | beam.Map(lambda event: event.fields), equal_to([decode_order(AVRO_V1)])
        )


def test_every_undecodable_record_is_a_dead_letter_with_its_reason_and_raw_bytes():
    expected = [
        ('decode', reason, base64.b64encode(value_of(raw)).decode('ascii'))
        for raw, reason in SAMPLE_BAD
    ]
    with TestPipeline(options=options()) as p:
        result = p | beam.Create([raw for raw, _ in SAMPLE_BAD]) | DecodeEvents()
        assert_that(result[VALID], equal_to([]), label='NothingValid')
        assert_that(
            result[DEAD_LETTER] | beam.Map(lambda dl: (dl.stage, dl.reason, dl.raw)),
            equal_to(expected),
        )


def test_a_dead_letter_names_its_kafka_origin_and_key_and_says_what_was_wrong():
    record = KafkaRecord(b'card-7', b'{"order_id": ', 'orders', 1, 99, 5, [])
    with TestPipeline(options=options()) as p:
        dead = (p | beam.Create([record]) | DecodeEvents())[DEAD_LETTER]
        assert_that(
            dead
            | beam.Map(
                lambda dl: (
                    dl.topic,
                    dl.partition,
                    dl.offset,
                    dl.key,
                    'JSON' in dl.message,
                    dl.failed_at > 0,
                )
            ),
            equal_to([('orders', 1, 99, base64.b64encode(b'card-7').decode(), True, True)]),
        )


def test_dead_letters_are_counted_per_reason():
    p = TestPipeline(options=options())
    _ = p | beam.Create([JSON_V2, b'', b'{', b'{', KAFKA_V2]) | DecodeEvents()
    result = p.run()
    result.wait_until_finish()
    assert counter(result, 'DecodeEvents', 'decoded') == 2
    assert counter(result, 'DecodeEvents', 'EMPTY') == 1
    assert counter(result, 'DecodeEvents', 'BAD_JSON') == 2
