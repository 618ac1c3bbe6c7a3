"""Integration tests run against the real Kafka broker that `./run_local.sh test` starts (or,
under plain pytest, the one a session fixture starts), and the tests of Kafka security against
the secured broker a fixture starts once per session."""

import uuid
from typing import Iterator

import pytest

from tests.integration import secure_kafka
from tests.integration.suite_broker import suite_broker


@pytest.fixture(scope='session')
def kafka_bootstrap() -> Iterator[str]:
    """`host:port` of the running broker, or of the local one started for the session when
    none answers (and stopped at its end); fails (never skips) when none can be started."""
    with suite_broker() as bootstrap:
        yield bootstrap


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
