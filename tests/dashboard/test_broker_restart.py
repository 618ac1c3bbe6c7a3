"""The dashboard outlives a broker restart: while the broker is down the page's status says it
is unreachable (and /metrics says broker_up 0), and once it is back the figures move on
without restarting the dashboard. A second broker of its own (ports and state of the test) is
stopped and started, so the suite's broker is never disturbed."""

from kafka import KafkaProducer

from connectors.kafka_topics import ensure_topics
from pipelines.streaming.output_encoding import value_encoder
from tests.dashboard.dashboard_process import poll_until, start_dashboard, stop_dashboard
from tests.dashboard.samples import SAMPLE_ALERT
from tests.integration.local_scripts import run_script

DEADLINE_S = 60


def send_alert(bootstrap: str, topic: str, alert_id: str) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all')
    producer.send(topic, value_encoder('alert', 'json')(SAMPLE_ALERT._replace(alert_id=alert_id)))
    producer.flush()
    producer.close()


def test_the_page_says_the_broker_is_down_and_recovers_when_it_is_back(own_broker, tmp_path):
    env, bootstrap = own_broker
    ensure_topics(bootstrap, {'orders': 1, 'fraud.alerts': 1, 'order.metrics': 1, 'orders.dlq': 1})
    send_alert(bootstrap, 'fraud.alerts', 'before-restart')
    dashboard = start_dashboard(
        [f'--brokers={bootstrap}', '--refresh_s=0.5'], tmp_path / 'dashboard.log'
    )
    try:
        poll_until(
            lambda: dashboard.state()['alerts_by_rule'] == {'VELOCITY': 1},
            DEADLINE_S,
            'the first alert is shown',
        )

        stopped = run_script(env, 'broker', 'stop')
        assert stopped.returncode == 0, stopped.stderr
        down = poll_until(
            lambda: (s := dashboard.state())['status']['code'] == 'broker_unreachable' and s,
            DEADLINE_S,
            'the page says unreachable',
        )
        assert f'Kafka broker at {bootstrap} is unreachable' in down['status']['message']
        assert down['alerts_by_rule'] == {'VELOCITY': 1}  # the last figures stay
        status, metrics = dashboard.get('metrics')
        assert status == 200 and 'goldstream_dashboard_broker_up 0.0' in metrics

        started = run_script(env, 'broker', 'start')
        assert started.returncode == 0, started.stderr
        poll_until(
            lambda: dashboard.state()['status']['code'] != 'broker_unreachable',
            DEADLINE_S,
            'the page sees the broker again',
        )
        send_alert(bootstrap, 'fraud.alerts', 'after-restart')
        poll_until(
            lambda: dashboard.state()['alerts_by_rule'] == {'VELOCITY': 2},
            DEADLINE_S,
            'the alert written after the restart is shown',
        )
        assert dashboard.process.poll() is None
    finally:
        stop_dashboard(dashboard.process)
