"""Integration tests run against the real Kafka broker that `./run_local.sh test` starts."""
import os
import uuid

import pytest

from connectors.kafka_topics import broker_answers


@pytest.fixture(scope='session')
def kafka_bootstrap() -> str:
    """`host:port` of the running broker; fails (never skips) when there is none."""
    bootstrap = os.environ.get('GOLDSTREAM_KAFKA_BOOTSTRAP', '127.0.0.1:9092')
    if not broker_answers(bootstrap, 10.0):
        pytest.fail(f'no Kafka broker answers on {bootstrap}. Run the suite with '
                    f'./run_local.sh test, or start one with ./run_local.sh broker start.')
    return bootstrap


@pytest.fixture
def topic_name(request) -> str:
    """A topic name no other test (or earlier run) uses."""
    return f'test.{request.node.name[:40]}.{uuid.uuid4().hex[:8]}'.replace('[', '.').replace(']', '')
