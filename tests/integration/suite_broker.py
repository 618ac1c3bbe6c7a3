"""The broker the suite's Kafka tests use: the running one, or one started for the session.

`./run_local.sh test` starts the local broker before pytest; a suite started with plain
`pytest` finds none, and then starts the same local broker (pipelines/local/broker.py,
$GOLDSTREAM_KAFKA_PORT and $GOLDSTREAM_STATE_DIR as run_local.sh uses them) and stops it at
the session's end. A broker it did not start is never stopped.
"""
import contextlib
from typing import Iterator

import pytest

from connectors.kafka_config import default_brokers
from connectors.kafka_topics import broker_answers
from pipelines.local import broker
from pipelines.local.process import ProcessFailed

ANSWER_TIMEOUT_S = 10.0


@contextlib.contextmanager
def suite_broker() -> Iterator[str]:
    """Yields `host:port` of a broker that answers; fails the test (never skips) when there
    is none and none can be started."""
    bootstrap = default_brokers()
    if broker_answers(bootstrap, ANSWER_TIMEOUT_S):
        yield bootstrap
        return
    local = broker.Broker.from_environment()
    if local.bootstrap != bootstrap:
        pytest.fail(f'no Kafka broker answers on {bootstrap} ($GOLDSTREAM_BROKERS), which is '
                    f'not the local broker ({local.bootstrap}); start that broker, or unset '
                    'GOLDSTREAM_BROKERS to let the suite start the local one.')
    try:
        broker.start(local)
    except ProcessFailed as failure:
        pytest.fail(f'no Kafka broker answers on {bootstrap}, and starting the local one '
                    f'failed:\n{failure.report()}If the tools are missing, run ./run_local.sh '
                    'setup; or run the suite with ./run_local.sh test.')
    try:
        yield bootstrap
    finally:
        broker.stop(local)
