"""The streaming pipeline's own element functions: the source's event time of a raw record,
and an accepted order as the archive stores it."""
import json
import time

import pytest

from connectors.kafka_record import KafkaRecord
from pipelines.streaming import order_archive_record, order_event_time_ms
from tests.transforms.helpers import raw_order
from transforms.records import Order


def record(value: bytes) -> KafkaRecord:
    return KafkaRecord(b'k', value, 'orders', 0, 0, 0, [])


def test_a_readable_order_is_read_at_its_event_time():
    value = json.dumps(raw_order(timestamp=1_700_000_000_000)).encode()
    assert order_event_time_ms(record(value)) == 1_700_000_000_000


@pytest.mark.parametrize('timestamp', [-1, '1969-12-31T23:59:59Z', -9_223_372_036_854_775,
                                       9_223_372_036_854_775,
                                       int(time.time() * 1000) + 3 * 86_400_000])
def test_no_record_gets_an_event_time_before_1970_or_beyond_tomorrow(timestamp):
    value = json.dumps(raw_order(timestamp=timestamp)).encode()
    assert order_event_time_ms(record(value)) is None


def test_an_unreadable_record_has_no_event_time():
    assert order_event_time_ms(record(b'[' * 100_000)) is None


@pytest.mark.parametrize('timestamp, archived', [
    ('1700000000000', 1_700_000_000_000),
    ('-1', -1),
    ('0', 0),
    ('2026-11-18T11:00:00Z', '2026-11-18T11:00:00Z'),
])
def test_epoch_millis_are_archived_as_numbers_whatever_their_sign(timestamp, archived):
    order = Order('o', 'c', 'p', 1, 1.0, 'EUR', 'card', 0.0, 0.0, timestamp, 0.0, 2, 0)
    assert order_archive_record(order)['timestamp'] == archived
