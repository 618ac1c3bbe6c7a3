"""check_kafka_access without a broker: one line naming what to check. The secured broker's
cases (a refused login, a wrong CA) are in tests/integration/test_kafka_security_broker.py."""

import socket

import pytest

from connectors.kafka_access_check import KafkaAccessError, check_kafka_access
from connectors.kafka_security import KafkaSecurity


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def test_nothing_listening_is_one_line_naming_the_brokers():
    port = free_port()
    with pytest.raises(KafkaAccessError) as raised:
        check_kafka_access(f'127.0.0.1:{port}', timeout_s=1)
    message = str(raised.value)
    assert '\n' not in message and f'127.0.0.1:{port}' in message and '--brokers' in message


def test_a_tls_listener_that_is_not_there_is_a_failed_handshake(tmp_path):
    with socket.socket() as listener:  # accepts TCP, speaks no TLS: closes at once
        listener.bind(('127.0.0.1', 0))
        listener.listen()
        ca = tmp_path / 'ca.pem'
        ca.write_text('')
        with pytest.raises(KafkaAccessError, match='TLS') as raised:
            check_kafka_access(
                f'127.0.0.1:{listener.getsockname()[1]}',
                KafkaSecurity('SSL', ssl_cafile=str(ca)),
                timeout_s=1,
            )
    assert '\n' not in str(raised.value)
