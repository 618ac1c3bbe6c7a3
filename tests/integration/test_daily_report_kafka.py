"""The daily report read from Kafka (`--source=kafka`) over a generated day on the real broker.

One topic is written for the module: a seeded day of generated traffic (2026-11-18, from
08:00 UTC for about four hours), produced with each record's Kafka timestamp set to its
planned time (`event_timestamps=True`, as a producer in real time would stamp it), and
around it, on partition 0, records at the edges of the day:

* before the traffic: an order three days earlier (outside the margin: never read), an
  order and a malformed record a minute before midnight (read, not counted), and an order
  of 00:00:30 whose Kafka timestamp is 15 s before midnight (counted);
* after the traffic: an order of 23:58 produced at 00:04 the next day (counted), an order
  and a malformed record just after midnight (read, not counted) and an order three hours
  later (past the margin: never read).

The report must equal the generator's ground truth plus the two counted edge orders, and
the report the archive source gives over the archive the streaming pipeline writes from the
same topic.
"""

import datetime
import json
import time
import uuid
from typing import Any, Dict

import apache_beam as beam
import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from connectors.order_codec import encode_order_json
from pipelines.daily_report import pipeline as daily_report
from pipelines.daily_report.figures import day_bounds_ms
from pipelines.generator.config import KIND_MALFORMED, KIND_ORDER, TrafficConfig
from pipelines.generator.plan import PlannedRecord
from pipelines.generator.producer import produce_plan
from pipelines.generator.reference_data import customer_id, product_id
from pipelines.local import harness
from tests.pipelines.daily_report.report_setup import expected_report
from tests.transforms.helpers import counter

# 3,000 records over about 4 hours of event time from 08:00 UTC (the archive report's test
# uses the same): several hours, every fraud rule, late orders, every dead-letter reason.
CONFIG = TrafficConfig(count=3000, seed=5, events_per_second=0.2)
DAY = datetime.date(2026, 11, 18)
START_MS, END_MS = day_bounds_ms(DAY)
MINUTE_MS = 60_000
TABLES = (
    'currency',
    'summary',
    'revenue_per_currency',
    'revenue_per_hour',
    'top_products',
    'top_customers',
    'revenue_per_category',
    'alerts_per_rule',
    'alerts',
    'dead_letters_per_reason',
)


def _eur_hours(report):
    """The revenue_per_hour rows of EUR, the edge orders' currency, by hour."""
    return [row for row in report['revenue_per_hour'] if row['currency'] == 'EUR']


def _edge_order(name: str, number: int, event_ms: int) -> PlannedRecord:
    """A valid order on a card of its own (one order never raises an alert)."""
    timestamp = datetime.datetime.fromtimestamp(event_ms / 1000, datetime.timezone.utc)
    fields: Dict[str, Any] = {
        'order_id': f'edge-{name}',
        'customer_id': customer_id(number),
        'product_id': product_id(number),
        'quantity': 2,
        'price': 12.5 + number,
        'currency': 'EUR',
        'card_id': f'card-edge-{name}',
        'lat': 48.85,
        'lon': 2.35,
        'timestamp': timestamp.isoformat().replace('+00:00', 'Z'),
        'tax': 1.0,
        'version': 2,
    }
    return PlannedRecord(
        f'edge-{name}',
        fields['card_id'].encode(),
        encode_order_json(fields),
        event_ms,
        KIND_ORDER,
        fields['order_id'],
        None,
    )


def _malformed(name: str) -> PlannedRecord:
    return PlannedRecord(
        f'edge-{name}',
        f'card-edge-{name}'.encode(),
        b'{"not": json',
        0,
        KIND_MALFORMED,
        None,
        'decode/BAD_JSON',
    )


# (record, Kafka timestamp), in produce order on partition 0.
EDGES_BEFORE = [
    (_edge_order('three-days-before', 1, START_MS - 3 * 86_400_000), START_MS - 3 * 86_400_000),
    (_edge_order('day-before', 2, START_MS - MINUTE_MS), START_MS - MINUTE_MS),
    (_malformed('bad-day-before'), START_MS - MINUTE_MS // 2),
    (
        _edge_order('stamped-before-midnight', 3, START_MS + MINUTE_MS // 2),
        START_MS - MINUTE_MS // 4,
    ),
]
EDGES_AFTER = [
    (_edge_order('late-after-midnight', 4, END_MS - 2 * MINUTE_MS), END_MS + 4 * MINUTE_MS),
    (_edge_order('day-after', 5, END_MS + MINUTE_MS), END_MS + MINUTE_MS),
    (_malformed('bad-day-after'), END_MS + 2 * MINUTE_MS),
    (_edge_order('three-hours-after', 6, END_MS + 3 * 3_600_000), END_MS + 3 * 3_600_000),
]
READ_EDGES = 6  # all but the first and the last
COUNTED_EDGES = ('stamped-before-midnight', 'late-after-midnight')


def create_topic_keeping_old_records(bootstrap: str, topic: str, partitions: int) -> None:
    """Creates `topic` with no time-based retention: its records are days old, so the
    broker's retention (a day) would otherwise delete them while the tests run."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='goldstream-test-topics')
    try:
        admin.create_topics([NewTopic(topic, partitions, 1, topic_configs={'retention.ms': '-1'})])
    finally:
        admin.close()


def produce_edges(bootstrap: str, topic: str, edges) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all')
    try:
        for record, kafka_ms in edges:
            producer.send(
                topic, key=record.key, value=record.value, partition=0, timestamp_ms=kafka_ms
            ).get(timeout=30)
    finally:
        producer.close()


@pytest.fixture(scope='module')
def day_run(kafka_bootstrap, tmp_path_factory):
    """The topics (orders written), the reference data and the plan of the module."""
    prefix = f'test.daily_report_kafka.{uuid.uuid4().hex[:8]}'
    create_topic_keeping_old_records(kafka_bootstrap, f'{prefix}.orders', 3)
    run = harness.prepare_run(
        kafka_bootstrap,
        harness.Topics.with_prefix(prefix),
        tmp_path_factory.mktemp('report_kafka'),
        CONFIG,
    )
    orders_topic = f'{prefix}.orders'
    produce_edges(kafka_bootstrap, orders_topic, EDGES_BEFORE)
    produce_plan(kafka_bootstrap, orders_topic, run.plan, partitions=None, event_timestamps=True)
    produce_edges(kafka_bootstrap, orders_topic, EDGES_AFTER)
    return run


def run_report(run, runner: str, reports_name: str, *extra: str):
    """Runs the daily report of DAY through `build`; returns (report.json, pipeline result)."""
    reports = run.archive.parent / reports_name
    options = daily_report.pipeline_options(
        run.args(
            f'--runner={runner}', f'--date={DAY.isoformat()}', f'--reports_path={reports}', *extra
        )
    )
    pipeline = beam.Pipeline(options=options)
    daily_report.build(pipeline, options)
    result = pipeline.run()
    result.wait_until_finish()
    report = json.loads((reports / DAY.isoformat() / 'report.json').read_text('utf-8'))
    return report, result


@pytest.fixture(scope='module', params=['PrismRunner', 'DirectRunner'])
def kafka_report(request, day_run):
    started = time.monotonic()
    report, result = run_report(
        day_run, request.param, f'reports-{request.param}', '--source=kafka'
    )
    print(f'\n{request.param}: kafka report in {time.monotonic() - started:.1f} s')
    return report, result


@pytest.fixture(scope='module')
def expected(day_run):
    plan = day_run.plan
    edges = tuple(record for record, _ in EDGES_BEFORE + EDGES_AFTER)
    # The plan's wall clock judged its future timestamps; any later clock gives the same.
    return expected_report(
        plan._replace(records=plan.records + edges), int(time.time() * 1000), DAY
    )


@pytest.mark.parametrize('table', TABLES)
def test_the_kafka_report_equals_the_ground_truth(kafka_report, expected, table):
    report, _ = kafka_report
    assert report[table] == expected[table]


def test_orders_straddling_midnight_count_in_the_day_of_their_event_time(kafka_report):
    report, _ = kafka_report
    hours = _eur_hours(report)
    # The generated traffic runs from 08:00 to about 12:10; 00:00 and 23:00 hold an edge each.
    assert (hours[0]['orders'], hours[23]['orders']) == (1, 1)
    assert report['empty'] is False
    assert report['made']['source'].startswith('kafka topic ')


def test_records_outside_the_day_are_read_but_not_counted(kafka_report):
    _, result = kafka_report
    assert counter(result, 'ReadFromKafka', 'records_read') == CONFIG.count + READ_EDGES
    assert counter(result, 'DailyReport', 'orders_of_other_days') == 2
    assert counter(result, 'DailyReport', 'dead_letters_of_other_days') == 2


def test_without_a_margin_orders_straddling_midnight_are_missed(day_run, expected):
    report, result = run_report(
        day_run, 'PrismRunner', 'reports-no-margin', '--source=kafka', '--kafka_margin_s=0'
    )
    assert counter(result, 'ReadFromKafka', 'records_read') == CONFIG.count
    assert report['summary']['orders'] == expected['summary']['orders'] - len(COUNTED_EDGES)
    assert _eur_hours(report)[0]['orders'] == _eur_hours(report)[23]['orders'] == 0
    assert report['dead_letters_per_reason'] == expected['dead_letters_per_reason']
    assert report['alerts_per_rule'] == expected['alerts_per_rule']


@pytest.fixture(scope='module')
def archive_report(day_run):
    """The archive source's report over the archive the streaming pipeline (bounded, from
    the earliest offsets) writes from the same topic."""
    started = time.monotonic()
    harness.run_bounded(day_run.args('--runner=PrismRunner', '--bounded', '--start_from=earliest'))
    report, _ = run_report(day_run, 'PrismRunner', 'reports-archive', '--source=archive')
    print(f'\nstreaming run and archive report in {time.monotonic() - started:.1f} s')
    return report


def test_the_kafka_report_equals_the_report_of_the_streaming_archive(kafka_report, archive_report):
    report, _ = kafka_report
    # alike but for the stamp of when and from which source each was made
    assert report['made']['source'] != archive_report['made']['source']
    assert dict(report, made=None) == dict(archive_report, made=None)
