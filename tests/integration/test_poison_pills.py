"""Poison pills through the real pipeline: no input kills the job (docs/poison_pills.md).

A bounded run over every poison pill ends and balances (an order before 1970 made Prism panic
there and fail the job). One unbounded streaming job on the default runner (Prism) reads valid
orders, then every kind
of input that once failed a job or could (orders before 1970, at Beam's minimum and maximum
timestamps, a 2 MB record, non-finite numbers, deep nesting), then valid orders again. The
job must go on: the later orders are archived, and every record read is archived or
dead-lettered, once (in = archived orders + archived dead letters). The 2 MB dead letter
reaches the dead-letter topic cut to fit, with its size and hash; the archive keeps it whole.
"""

import base64
import hashlib
import json
import math
import time
import uuid
from typing import Any, Dict

import apache_beam as beam
import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.kafka_topics import ensure_topics
from connectors.order_codec import encode_order_avro
from pipelines.generator.reference_data import write_reference_data
from pipelines.local.harness import read_archive
from pipelines.local.live_run import OUTPUTS, LiveRun
from pipelines.streaming import pipeline as streaming

BIG_BYTES = 2 * 1024 * 1024
ORDERS_TOPIC_MAX_BYTES = 3 * 1024 * 1024  # so the orders topic takes the 2 MB record
DLQ_MAX_BYTES = 1_000_000  # the pipeline's default --max_record_bytes
BALANCE_DEADLINE_S = 60


def order(order_id: str, **overrides) -> dict:
    fields = {
        'order_id': order_id,
        'customer_id': 'cus-0001',
        'product_id': 'prd-001',
        'quantity': 1,
        'price': 10.0,
        'currency': 'EUR',
        'card_id': f'card-{order_id}',
        'lat': 52.5,
        'lon': 13.4,
        'timestamp': int(time.time() * 1000),
        'tax': 0.0,
        'version': 2,
    }
    fields.update(overrides)
    return fields


def encoded(fields: dict) -> bytes:
    return json.dumps(fields).encode()


def nested(depth: int) -> bytes:
    return b'{"order_id":' + b'{"a":' * depth + b'1' + b'}' * depth + b'}'


# name -> (record value, the dead letter's "stage/reason")
POISON_PILLS = {
    'pre_1970_millis': (encoded(order('p1', timestamp=-1)), 'validate/EVENT_TIME_OUT_OF_RANGE'),
    'pre_1970_iso': (
        encoded(order('p2', timestamp='1969-07-20T20:17:40Z')),
        'validate/EVENT_TIME_OUT_OF_RANGE',
    ),
    'year_one': (
        encoded(order('p3', timestamp='0001-01-01T00:00:00Z')),
        'validate/EVENT_TIME_OUT_OF_RANGE',
    ),
    'beam_min_timestamp': (
        encoded(order('p4', timestamp=-9_223_372_036_854_775)),
        'validate/BAD_TIMESTAMP',
    ),
    'beam_max_timestamp': (
        encoded(order('p5', timestamp=9_223_372_036_854_775)),
        'validate/TIMESTAMP_IN_FUTURE',
    ),
    'long_minimum': (encoded(order('p6', timestamp=-(2**63))), 'validate/BAD_TIMESTAMP'),
    'price_overflows': (
        encoded(order('p7', price=1e308, quantity=2)),
        'validate/AMOUNT_OUT_OF_RANGE',
    ),
    'price_nan': (encoded(order('p8', price=float('nan'))), 'decode/BAD_JSON'),
    'price_infinity': (encoded(order('p9', price=float('inf'))), 'decode/BAD_JSON'),
    'price_1e999': (encoded(order('p10')).replace(b'10.0', b'1e999'), 'validate/NOT_FINITE'),
    'avro_price_nan': (encode_order_avro(order('p11', price=float('nan'))), 'validate/NOT_FINITE'),
    'avro_long_minimum': (
        encode_order_avro(order('p12', timestamp=-(2**63))),
        'validate/BAD_TIMESTAMP',
    ),
    'avro_pre_1970': (
        encode_order_avro(order('p13', timestamp=-86_400_000)),
        'validate/EVENT_TIME_OUT_OF_RANGE',
    ),
    'huge_product_id': (encoded(order('p14', product_id='x' * 600_000)), 'validate/ID_TOO_LONG'),
    'deep_array': (b'[' * 200_000, 'decode/BAD_JSON'),
    'deep_object': (nested(100_000), 'decode/BAD_JSON'),
    'two_megabytes': (b'{"order_id": "' + b'x' * (BIG_BYTES - 14), 'decode/BAD_JSON'),
}


def create_orders_topic(bootstrap: str, prefix: str) -> None:
    """`<prefix>.orders`, one partition, taking records of up to ORDERS_TOPIC_MAX_BYTES."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics(
            [
                NewTopic(
                    f'{prefix}.orders',
                    1,
                    1,
                    topic_configs={'max.message.bytes': str(ORDERS_TOPIC_MAX_BYTES)},
                )
            ]
        )
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, values) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks='all', max_request_size=ORDERS_TOPIC_MAX_BYTES
    )
    try:
        for value in values:
            producer.send(topic, key=b'pill', value=value).get(30)
    finally:
        producer.close()


def test_a_bounded_run_over_every_poison_pill_ends_and_balances(kafka_bootstrap, tmp_path):
    prefix = f'pills.{uuid.uuid4().hex[:8]}'
    create_orders_topic(kafka_bootstrap, prefix)
    ensure_topics(kafka_bootstrap, {f'{prefix}.{name}': 1 for name in OUTPUTS})
    write_reference_data(tmp_path / 'reference', seed=7, customers=10, products=5)
    valid = [encoded(order(f'valid-{i}')) for i in range(3)]
    produce(
        kafka_bootstrap, f'{prefix}.orders', [*valid, *(pill for pill, _ in POISON_PILLS.values())]
    )

    options = streaming.pipeline_options(
        [
            '--runner=DirectRunner',
            '--bounded',
            f'--brokers={kafka_bootstrap}',
            f'--orders_topic={prefix}.orders',
            f'--alerts_topic={prefix}.alerts',
            f'--metrics_topic={prefix}.metrics',
            f'--dead_letter_topic={prefix}.dlq',
            f'--consumer_group={prefix}.group',
            f'--reference_data={tmp_path / "reference"}',
            f'--archive_path={tmp_path / "archive"}',
        ]
    )
    with beam.Pipeline(options=options) as pipeline:
        streaming.build(pipeline, options)

    archived = read_archive(tmp_path / 'archive', streaming.ORDERS_DATASET)
    dead = read_archive(tmp_path / 'archive', streaming.DEAD_LETTERS_DATASET)
    assert sorted(o['order_id'] for o in archived) == [f'valid-{i}' for i in range(3)]
    assert sorted(f'{d["stage"]}/{d["reason"]}' for d in dead) == sorted(
        reason for _, reason in POISON_PILLS.values()
    )


@pytest.fixture
def live_run(kafka_bootstrap, tmp_path):
    prefix = f'pills.{uuid.uuid4().hex[:8]}'
    create_orders_topic(kafka_bootstrap, prefix)
    run = LiveRun.start(
        kafka_bootstrap,
        tmp_path,
        ['--runner=DirectRunner', '--archive_flush_s=1', '--early_firing_s=2'],
        prefix=prefix,
    )
    try:
        yield run
    finally:
        code = run.stop()
    assert code == 130, (
        f'Ctrl-C must stop the job cleanly (exit 130), got {code}:\n{run.log_tail()}'
    )


def test_no_poison_pill_kills_the_job_and_every_record_is_archived_or_dead_lettered(live_run):
    assert len(POISON_PILLS['two_megabytes'][0]) == BIG_BYTES
    before = [encoded(order(f'before-{i}')) for i in range(3)]
    after = [encoded(order(f'after-{i}')) for i in range(3)]
    produce(
        live_run.bootstrap,
        live_run.topic('orders'),
        [*before, *(pill for pill, _ in POISON_PILLS.values()), *after],
    )

    expected_orders = {json.loads(v)['order_id'] for v in before + after}
    expected_dead = len(POISON_PILLS) + 1  # and the probe LiveRun.start sent (EMPTY)
    archive = {}

    def balanced() -> bool:
        archive['orders'] = read_archive(live_run.folder / 'archive', streaming.ORDERS_DATASET)
        archive['dead'] = read_archive(live_run.folder / 'archive', streaming.DEAD_LETTERS_DATASET)
        return len(archive['orders']) + len(archive['dead']) >= len(expected_orders) + expected_dead

    live_run.poll(balanced, BALANCE_DEADLINE_S, 'not every record was archived')
    assert sorted(o['order_id'] for o in archive['orders']) == sorted(expected_orders)
    assert len(archive['dead']) == expected_dead, 'each record archived once'
    reasons = sorted(f'{d["stage"]}/{d["reason"]}' for d in archive['dead'])
    assert reasons == sorted([reason for _, reason in POISON_PILLS.values()] + ['decode/EMPTY'])

    # The archive keeps the 2 MB payload whole; the topic has it cut to fit, with size and hash.
    big = POISON_PILLS['two_megabytes'][0]
    digest = hashlib.sha256(big).hexdigest()
    archived_big = [d for d in archive['dead'] if d['raw_sha256'] == digest]
    assert len(archived_big) == 1 and base64.b64decode(archived_big[0]['raw']) == big
    assert not archived_big[0]['raw_truncated'] and archived_big[0]['raw_size'] == BIG_BYTES

    live_run.poll(
        lambda: len(live_run.read('dlq')) >= expected_dead,
        30,
        'not every dead letter reached the topic',
    )
    on_topic = [r.value for r in live_run.read('dlq')]
    assert len(on_topic) == expected_dead
    cut = [d for d in on_topic if d['raw_sha256'] == digest]
    assert len(cut) == 1 and cut[0]['raw_truncated'] and cut[0]['raw_size'] == BIG_BYTES
    kept = base64.b64decode(cut[0]['raw'])
    assert big.startswith(kept) and len(kept) > DLQ_MAX_BYTES // 2
    assert all(not d['raw_truncated'] for d in on_topic if d is not cut[0])

    live_run.poll(
        lambda: counted_orders(live_run) == len(expected_orders),
        30,
        'the metrics do not count the valid orders',
    )
    assert all(math.isfinite(r.value['revenue']) for r in live_run.read('metrics'))
    assert live_run.running(), 'the job must still run'


def counted_orders(run: LiveRun) -> int:
    """Orders the metrics count: the latest pane of each window and product, summed."""
    latest: Dict[Any, Any] = {}
    for record in run.read('metrics'):
        metric = record.value
        key = (metric['window_start'], metric['product_id'])
        if metric['pane_index'] >= latest.get(key, {'pane_index': -1})['pane_index']:
            latest[key] = metric
    return sum(metric['orders'] for metric in latest.values())
