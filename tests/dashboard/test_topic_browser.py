"""The topic browser against the real broker: topics with partitions and end offsets, each
kind of record decoded (JSON and Avro) with key, partition, offset and time, and a readable
message, not a stack trace, for a topic that does not exist and for a broker that is down."""

import html
import json

import pytest
from kafka import KafkaProducer

from connectors.kafka_topics import ensure_topics
from connectors.order_codec import encode_order_avro
from pipelines.streaming.output_encoding import value_encoder
from tests.dashboard.dashboard_process import poll_until, start_dashboard, stop_dashboard
from tests.dashboard.samples import SAMPLE_ALERT, SAMPLE_DEAD_LETTER, SAMPLE_METRIC, SAMPLE_ORDER
from tests.integration.local_scripts import free_port

KINDS = ('orders', 'alerts', 'metrics', 'dlq')


@pytest.fixture(scope='module')
def browsed(kafka_bootstrap, tmp_path_factory):
    """A dashboard over four fresh topics holding one JSON and one Avro record of their kind."""
    prefix = f'test.browser.{free_port()}'
    topics = {kind: f'{prefix}.{kind}' for kind in KINDS}
    ensure_topics(kafka_bootstrap, {topic: 2 for topic in topics.values()})
    records = {
        'orders': [
            (b'card-1', json.dumps(SAMPLE_ORDER).encode()),
            (b'card-1', encode_order_avro({**SAMPLE_ORDER, 'order_id': 'o-avro'})),
        ],
        'alerts': [
            (b'card-1', value_encoder('alert', fmt)(SAMPLE_ALERT)) for fmt in ('json', 'avro')
        ],
        'metrics': [
            (b'p-1', value_encoder('metric', fmt)(SAMPLE_METRIC)) for fmt in ('json', 'avro')
        ],
        'dlq': [
            (None, value_encoder('dead_letter', fmt)(SAMPLE_DEAD_LETTER))
            for fmt in ('json', 'avro')
        ],
    }
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks='all')
    for kind, pairs in records.items():
        for key, value in pairs:
            producer.send(topics[kind], key=key, value=value, partition=1)
    producer.flush()
    producer.close()
    folder = tmp_path_factory.mktemp('browser')
    dashboard = start_dashboard(
        [
            f'--brokers={kafka_bootstrap}',
            f'--orders_topic={topics["orders"]}',
            f'--alerts_topic={topics["alerts"]}',
            f'--metrics_topic={topics["metrics"]}',
            f'--dead_letter_topic={topics["dlq"]}',
            f'--group={prefix}.group',
        ],
        folder / 'dashboard.log',
    )
    yield dashboard, topics
    stop_dashboard(dashboard.process)


def test_the_topic_list_shows_partitions_and_end_offsets(browsed):
    dashboard, topics = browsed
    status, page = dashboard.get('topics')
    assert status == 200
    for topic in topics.values():
        assert f'<a href="/topics/{topic}">{topic}</a>' in page
    status, body = dashboard.get('api/topics')
    listed = {t['name']: t for t in json.loads(body)['topics']}
    for topic in topics.values():
        assert listed[topic]['partitions'] == 2
        assert listed[topic]['end_offsets'] == {'0': 0, '1': 2}


@pytest.mark.parametrize(
    'kind, decoded_kind, fields',
    [
        ('orders', 'order', SAMPLE_ORDER),
        ('alerts', 'alert', SAMPLE_ALERT._asdict()),
        ('metrics', 'metric', SAMPLE_METRIC._asdict()),
        ('dlq', 'dead_letter', SAMPLE_DEAD_LETTER._asdict()),
    ],
)
def test_each_kind_is_decoded_from_json_and_avro(browsed, kind, decoded_kind, fields):
    dashboard, topics = browsed
    status, body = dashboard.get(f'api/topics/{topics[kind]}?limit=5')
    assert status == 200, body
    records = json.loads(body)['records']
    assert sorted(r['encoding'] for r in records) == ['avro', 'json']
    for record in records:
        assert (record['kind'], record['partition'], record['error']) == (decoded_kind, 1, None)
        assert record['offset'] in (0, 1) and record['time'].endswith('Z')
        if kind == 'orders':
            assert record['fields']['product_id'] == fields['product_id']
        else:
            assert record['fields'] == fields
    assert records[0]['key'] == (None if kind == 'dlq' else records[1]['key'])
    status, page = dashboard.get(f'topics/{topics[kind]}?limit=1')
    assert status == 200 and page.count(f'<tr data-kind="{decoded_kind}">') == 1
    assert html.escape(json.dumps(records[0]['fields'], ensure_ascii=False)) in page


def test_a_topic_that_does_not_exist_is_a_sentence_on_the_page(browsed):
    dashboard, topics = browsed
    status, page = dashboard.get('topics/no.such.topic')
    assert status == 404
    assert 'topic &#x27;no.such.topic&#x27; does not exist' in page
    assert 'Traceback' not in page
    status, _ = dashboard.get(f'topics/{topics["orders"]}?limit=many')
    assert status == 400


def test_a_broker_that_is_down_is_a_sentence_on_the_page_and_in_the_status(tmp_path):
    nobody = f'127.0.0.1:{free_port()}'
    dashboard = start_dashboard(
        [f'--brokers={nobody}', '--refresh_s=0.5'], tmp_path / 'dashboard.log'
    )
    try:
        status, page = dashboard.get('topics')
        assert status == 503
        assert f'Kafka broker at {nobody} is unreachable' in page and 'Traceback' not in page
        status, page = dashboard.get('topics/orders')
        assert status == 503 and 'is unreachable' in page
        state = poll_until(
            lambda: (s := dashboard.state())['status']['code'] == 'broker_unreachable' and s,
            30,
            'the status says unreachable',
        )
        assert nobody in state['status']['message']
    finally:
        stop_dashboard(dashboard.process)
