"""The streaming pipeline's own helpers: the source's event time of a raw record, the sinks' size
settings, and an accepted order as the archive stores it."""

import json
import pickle
import time

import pytest

from connectors.kafka_record import KafkaRecord
from connectors.kafka_write import DEFAULT_MAX_RECORD_BYTES, WriteToKafka
from pipelines.streaming.pipeline import (
    OrderEventTime,
    order_archive_record,
    order_event_time_ms,
    sink_size_settings,
)
from tests.connectors.confluent_orders import (
    MICROS,
    catalogue_for,
    mock_registry,
    order_schema,
    serialize,
)
from tests.transforms.helpers import raw_order
from transforms.records import Order


def record(value: bytes) -> KafkaRecord:
    return KafkaRecord(b'k', value, 'orders', 0, 0, 0, [])


def test_a_readable_order_is_read_at_its_event_time():
    value = json.dumps(raw_order(timestamp=1_700_000_000_000)).encode()
    assert order_event_time_ms(record(value)) == 1_700_000_000_000


@pytest.mark.parametrize(
    'timestamp',
    [
        -1,
        '1969-12-31T23:59:59Z',
        -9_223_372_036_854_775,
        9_223_372_036_854_775,
        int(time.time() * 1000) + 3 * 86_400_000,
    ],
)
def test_no_record_gets_an_event_time_before_1970_or_beyond_tomorrow(timestamp):
    value = json.dumps(raw_order(timestamp=timestamp)).encode()
    assert order_event_time_ms(record(value)) is None


def test_an_unreadable_record_has_no_event_time():
    assert order_event_time_ms(record(b'[' * 100_000)) is None


def test_an_avro_order_of_another_catalogue_is_read_at_its_event_time(tmp_path):
    schema = order_schema(MICROS)
    value = serialize(schema, 1_700_000_000_000_999, mock_registry())
    event_time = OrderEventTime(catalogue_for(value, schema, tmp_path))
    assert event_time(record(value)) == 1_700_000_000_000
    assert order_event_time_ms(record(value)) is None  # the project's catalogue lacks the id
    assert pickle.loads(pickle.dumps(event_time))(record(value)) == 1_700_000_000_000


@pytest.mark.parametrize(
    'timestamp, archived',
    [
        ('1700000000000', 1_700_000_000_000),
        ('-1', -1),
        ('0', 0),
        ('2026-11-18T11:00:00Z', '2026-11-18T11:00:00Z'),
    ],
)
def test_epoch_millis_are_archived_as_numbers_whatever_their_sign(timestamp, archived):
    order = Order('o', 'c', 'p', 1, 1.0, 'EUR', 'card', 0.0, 0.0, timestamp, 0.0, 2, 0)
    assert order_archive_record(order)['timestamp'] == archived


def test_the_default_record_limit_keeps_the_producers_default_request_size():
    assert sink_size_settings(DEFAULT_MAX_RECORD_BYTES) == {
        'max_record_bytes': DEFAULT_MAX_RECORD_BYTES
    }


def test_a_bigger_record_limit_raises_the_producers_request_size_with_it():
    settings = sink_size_settings(5_000_000)
    assert settings['client_options']['max_request_size'] > 5_000_000
    WriteToKafka('127.0.0.1:9', 'out', value_fn=bytes, **settings)
