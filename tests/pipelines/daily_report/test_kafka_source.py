"""The daily report's Kafka source without a broker: the day's cut, the range, the options.

`IngestKafkaDay` gets records as `ReadFromKafka` emits them (at their Kafka timestamps); the
read itself runs against the real broker in `tests/integration/test_daily_report_kafka.py`.
"""

import base64
import datetime

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from connectors.order_codec import encode_order_json
from pipelines.daily_report import pipeline as daily_report
from pipelines.daily_report.figures import day_bounds_ms
from pipelines.daily_report.kafka_source import (
    DayEndClock,
    IngestKafkaDay,
    ReadKafkaDay,
    kafka_time_range_ms,
)
from pipelines.daily_report.options import KafkaSourceSettings, report_settings
from tests.transforms.helpers import counter, raw_order
from transforms.records import DEAD_LETTER, VALID, KafkaRecord

DAY = datetime.date(2026, 11, 18)
START_MS, END_MS = day_bounds_ms(DAY)
MINUTE_MS = 60_000


def _iso(millis: int) -> str:
    return datetime.datetime.fromtimestamp(millis / 1000, datetime.timezone.utc).isoformat()


def _order(order_id: str, event_ms: int) -> bytes:
    return encode_order_json(raw_order(order_id=order_id, timestamp=_iso(event_ms)))


# (name, value, Kafka timestamp): what a read of the day with a 10-minute margin can see.
SAMPLE_RECORDS = [
    ('in-day', _order('in-day', START_MS + 8 * 3_600_000), START_MS + 8 * 3_600_000),
    (
        'late-at-midnight',
        _order('late-at-midnight', END_MS - 2 * MINUTE_MS),
        END_MS + 4 * MINUTE_MS,
    ),
    (
        'stamped-before-the-day',
        _order('stamped-before-the-day', START_MS + MINUTE_MS // 2),
        START_MS - MINUTE_MS // 4,
    ),
    ('of-the-day-before', _order('of-the-day-before', START_MS - MINUTE_MS), START_MS - MINUTE_MS),
    ('of-the-day-after', _order('of-the-day-after', END_MS + MINUTE_MS), END_MS + MINUTE_MS),
    ('bad-json-in-day', b'not json', START_MS + 9 * 3_600_000),
    ('bad-json-before', b'not json', START_MS - 2 * MINUTE_MS),
    ('bad-json-after', b'not json', END_MS + 2 * MINUTE_MS),
    (
        'zero-quantity-in-day',
        encode_order_json(raw_order(order_id='q0', quantity=0)),
        START_MS + 10 * 3_600_000,
    ),
    # More than a day after the day's end: TIMESTAMP_IN_FUTURE, whenever the report runs.
    ('future-in-day', _order('future', END_MS + 25 * 3_600_000), START_MS + 11 * 3_600_000),
]


def _records(pipeline, sample=SAMPLE_RECORDS):
    """The sample as ReadFromKafka emits it: KafkaRecords at their Kafka timestamps."""
    records = [
        KafkaRecord(name.encode(), value, 'orders', 0, offset, at_ms, [])
        for offset, (name, value, at_ms) in enumerate(sample)
    ]
    return pipeline | 'Records' >> beam.Create(records) | 'AtKafkaTime' >> beam.Map(_at_kafka_time)


def _at_kafka_time(record: KafkaRecord) -> TimestampedValue:
    return TimestampedValue(record, record.timestamp_ms / 1000)


def _order_id_and_time(order):
    return order.order_id, order.event_time_ms


def _key_and_reason(dead_letter):
    return base64.b64decode(dead_letter.key).decode(), dead_letter.reason


def test_the_day_keeps_orders_by_event_time_and_dead_letters_by_kafka_time():
    pipeline = TestPipeline()
    day = _records(pipeline) | 'IngestKafkaDay' >> IngestKafkaDay(DAY)
    assert_that(
        day[VALID] | 'Orders' >> beam.Map(_order_id_and_time),
        equal_to(
            [
                ('in-day', START_MS + 8 * 3_600_000),
                ('late-at-midnight', END_MS - 2 * MINUTE_MS),
                ('stamped-before-the-day', START_MS + MINUTE_MS // 2),
            ]
        ),
        label='OrdersOfTheDay',
    )
    assert_that(
        day[DEAD_LETTER] | 'DeadLetters' >> beam.Map(_key_and_reason),
        equal_to(
            [
                ('bad-json-in-day', 'BAD_JSON'),
                ('zero-quantity-in-day', 'QUANTITY_OUT_OF_RANGE'),
                ('future-in-day', 'TIMESTAMP_IN_FUTURE'),
            ]
        ),
        label='DeadLettersOfTheDay',
    )
    result = pipeline.run()
    result.wait_until_finish()
    assert counter(result, 'DailyReport', 'orders_of_other_days') == 2
    assert counter(result, 'DailyReport', 'dead_letters_of_other_days') == 2


def test_orders_of_the_day_are_at_their_event_time():
    with TestPipeline() as pipeline:
        orders = (_records(pipeline, SAMPLE_RECORDS[:3]) | 'IngestKafkaDay' >> IngestKafkaDay(DAY))[
            VALID
        ]
        stamped = orders | 'Timestamps' >> beam.Map(
            lambda order, at=beam.DoFn.TimestampParam: at.micros // 1000
        )
        assert_that(
            stamped,
            equal_to([START_MS + 8 * 3_600_000, END_MS - 2 * MINUTE_MS, START_MS + MINUTE_MS // 2]),
        )


def test_the_time_range_is_the_day_widened_by_the_margin():
    assert kafka_time_range_ms(DAY, 0) == (START_MS, END_MS)
    assert kafka_time_range_ms(DAY, 605) == (START_MS - 605_000, END_MS + 605_000)
    assert kafka_time_range_ms(DAY, 0.0015) == (START_MS - 2, END_MS + 2)
    assert kafka_time_range_ms(datetime.date(1970, 1, 1), 60) == (0, 86_460_000)
    with pytest.raises(ValueError, match='margin_s'):
        kafka_time_range_ms(DAY, -1)


def test_the_validation_clock_is_the_end_of_the_day():
    assert DayEndClock(DAY)() == END_MS / 1000


def test_configuration_errors_are_raised_when_the_pipeline_is_built():
    with pytest.raises(ValueError, match='margin_s'):
        ReadKafkaDay('127.0.0.1:9092', 'orders', DAY, -5)
    with pytest.raises(ValueError, match='topic'):
        ReadKafkaDay('127.0.0.1:9092', '', DAY, 0)
    with pytest.raises(ValueError, match='day'):
        IngestKafkaDay('2026-11-18')


def _settings(*args):
    return report_settings(PipelineOptions(['--date=2026-11-18', *args]))


def test_the_archive_is_the_default_source():
    settings = _settings()
    assert settings.source == 'archive' and settings.kafka is None


def test_the_kafka_source_reads_the_streaming_options_topic_and_derives_its_margin():
    assert _settings(
        '--source=kafka', '--brokers=h:1', '--orders_topic=o'
    ).kafka == KafkaSourceSettings('h:1', 'o', 605.0)
    assert (
        _settings(
            '--source=kafka', '--allowed_lateness_s=60', '--max_out_of_orderness_s=2'
        ).kafka.margin_s
        == 62.0
    )
    assert _settings('--source=kafka', '--kafka_margin_s=0').kafka.margin_s == 0.0


def test_a_negative_margin_fails_when_the_options_are_parsed():
    with pytest.raises(ValueError, match='--kafka_margin_s'):
        daily_report.pipeline_options(
            ['--date=2026-11-18', '--source=kafka', '--kafka_margin_s=-1']
        )
