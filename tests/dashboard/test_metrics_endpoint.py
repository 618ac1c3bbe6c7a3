"""/metrics parses with Prometheus' own parser and its figures follow the traffic: orders in
(the topic's end offsets), orders out (the group's commits), lag per partition, alerts per
rule and dead letters per reason. The pipeline is played by hand here (records produced and
offsets committed), so every expected value is known exactly."""

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from prometheus_client.parser import text_string_to_metric_families

from connectors.kafka_topics import ensure_topics
from pipelines.streaming.output_encoding import value_encoder
from tests.dashboard.dashboard_process import poll_until, start_dashboard, stop_dashboard
from tests.dashboard.samples import SAMPLE_ALERT, SAMPLE_DEAD_LETTER

DEADLINE_S = 30


def scrape(dashboard) -> dict:
    """(sample name, sorted labels) -> value of one /metrics scrape."""
    status, text = dashboard.get('metrics')
    assert status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def watched(kafka_bootstrap, topic_name, tmp_path):
    topics = {kind: f'{topic_name}.{kind}' for kind in ('orders', 'alerts', 'metrics', 'dlq')}
    ensure_topics(kafka_bootstrap, {topic: 2 for topic in topics.values()})
    dashboard = start_dashboard(
        [
            f'--brokers={kafka_bootstrap}',
            f'--orders_topic={topics["orders"]}',
            f'--alerts_topic={topics["alerts"]}',
            f'--metrics_topic={topics["metrics"]}',
            f'--dead_letter_topic={topics["dlq"]}',
            f'--group={topic_name}.group',
            '--refresh_s=0.5',
        ],
        tmp_path / 'dashboard.log',
    )
    yield dashboard, topics, f'{topic_name}.group'
    stop_dashboard(dashboard.process)


def play_pipeline(bootstrap, topics, group, orders, committed, alerts, dead_letters, round_):
    """Produces `orders` orders (half to each partition), commits `committed` per partition,
    writes `alerts` VELOCITY alerts and `dead_letters` dead letters, ids unique per round."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all')
    for i in range(orders):
        producer.send(topics['orders'], b'{"order_id": "o"}', partition=i % 2)
    alert = value_encoder('alert', 'json')
    for i in range(alerts):
        producer.send(topics['alerts'], alert(SAMPLE_ALERT._replace(alert_id=f'a-{round_}-{i}')))
    dead_letter = value_encoder('dead_letter', 'avro')
    for _ in range(dead_letters):
        producer.send(topics['dlq'], dead_letter(SAMPLE_DEAD_LETTER))
    producer.flush()
    producer.close()
    committer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    committer.commit(
        {
            TopicPartition(topics['orders'], p): OffsetAndMetadata(offset, '', -1)
            for p, offset in committed.items()
        }
    )
    committer.close()


def test_counters_move_while_traffic_flows(kafka_bootstrap, watched):
    dashboard, topics, group = watched
    orders_topic = topics['orders']
    in_key = ('goldstream_orders_in_total', (('topic', orders_topic),))
    out_key = ('goldstream_orders_out_total', (('group', group), ('topic', orders_topic)))
    alerts_key = ('goldstream_fraud_alerts_total', (('rule', 'VELOCITY'),))
    dead_key = ('goldstream_dead_letters_total', (('reason', 'INVALID_JSON'), ('stage', 'decode')))

    def lag(partition):
        return (
            'goldstream_consumer_lag_records',
            (('group', group), ('partition', str(partition)), ('topic', orders_topic)),
        )

    play_pipeline(kafka_bootstrap, topics, group, 40, {0: 10, 1: 10}, 0, 0, 1)
    first = poll_until(
        lambda: (m := scrape(dashboard)).get(lag(0)) == 10 and m,
        DEADLINE_S,
        'lag 10 on partition 0',
    )
    assert first[lag(1)] == 10
    assert first[('goldstream_pipeline_up', ())] == 1

    play_pipeline(kafka_bootstrap, topics, group, 60, {0: 45, 1: 35}, 3, 2, 2)

    def moved():
        now = scrape(dashboard)
        return (
            now
            if (
                now[in_key] - first[in_key] == 60
                and now[out_key] - first[out_key] == 60
                and now.get(alerts_key) == 3
                and now.get(dead_key) == 2
            )
            else None
        )

    second = poll_until(moved, DEADLINE_S, 'orders in/out, alerts and dead letters counted')
    assert (second[lag(0)], second[lag(1)]) == (5, 15)
    assert second[('goldstream_dashboard_broker_up', ())] == 1
    assert second[('goldstream_dashboard_offset_requests_total', ())] > 0

    play_pipeline(kafka_bootstrap, topics, group, 10, {0: 55, 1: 55}, 3, 0, 2)  # a replay
    third = poll_until(
        lambda: (m := scrape(dashboard))[out_key] - second[out_key] == 30 and m,
        DEADLINE_S,
        'the group caught up',
    )
    assert third[alerts_key] == 3  # the same alert ids again: counted once
    assert third[in_key] - second[in_key] == 10
    assert (third[lag(0)], third[lag(1)]) == (0, 0)
