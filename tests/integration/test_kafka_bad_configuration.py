"""Configuration that only the brokers can refuse fails when the pipeline starts, clearly."""

import socket

import apache_beam as beam
import pytest

from connectors.kafka_read import ReadFromKafka
from tests.integration.pipeline_runners import options_for


def run_bounded_read(bootstrap, topic, **kwargs):
    with beam.Pipeline(options=options_for('PrismRunner')) as pipeline:
        _ = pipeline | 'ReadOrders' >> ReadFromKafka(
            bootstrap, [topic], start_from='earliest', stop_at='end', **kwargs
        )


def test_unknown_topic_fails_at_start_naming_the_topic(kafka_bootstrap):
    with pytest.raises(Exception, match="topic 'no.such.topic' does not exist"):
        run_bounded_read(kafka_bootstrap, 'no.such.topic')


def test_unreachable_brokers_fail_at_start_naming_the_servers():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(('127.0.0.1', 0))
        dead = f'127.0.0.1:{sock.getsockname()[1]}'
    with pytest.raises(Exception, match=f'no Kafka broker answered at {dead}'):
        run_bounded_read(dead, 'orders', client_options={'bootstrap_timeout_ms': 3000})
