"""Integration tests run against the real Kafka broker that `./run_local.sh test` starts, and
the tests of Kafka security against the secured broker a fixture starts once per session."""
import uuid
from typing import Iterator

import pytest

from connectors.kafka_config import default_brokers
from connectors.kafka_topics import broker_answers
from tests.integration import secure_kafka


@pytest.fixture(scope='session')
def kafka_bootstrap() -> str:
    """`host:port` of the running broker; fails (never skips) when there is none."""
    bootstrap = default_brokers()
    if not broker_answers(bootstrap, 10.0):
        pytest.fail(f'no Kafka broker answers on {bootstrap}. Run the suite with '
                    f'./run_local.sh test, or start one with ./run_local.sh broker start.')
    return bootstrap


@pytest.fixture
def topic_name(request) -> str:
    """A topic name no other test (or earlier run) uses."""
    name = f'test.{request.node.name[:40]}.{uuid.uuid4().hex[:8]}'
    return name.replace('[', '.').replace(']', '')


@pytest.fixture(scope='session')
def secured_kafka() -> Iterator[secure_kafka.SecureKafka]:
    """The secured broker (SASL_SSL, SCRAM-SHA-512, client certificates) on
    $GOLDSTREAM_KAFKA_SECURE_PORT (default the plaintext port + 2): started for the session unless
    it runs, and then stopped
    at its end."""
    started = secure_kafka.start()
    try:
        yield secure_kafka.describe()
    finally:
        if started:
            secure_kafka.stop()
