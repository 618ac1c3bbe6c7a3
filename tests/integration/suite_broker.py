"""The broker the suite's Kafka tests use: the running one, or one started for the session.

`./run_local.sh test` starts the local broker before pytest; a suite started with plain
`pytest` finds none, and then starts the same local broker (pipelines/local/broker.py,
$GOLDSTREAM_KAFKA_PORT and $GOLDSTREAM_STATE_DIR as run_local.sh uses them) and stops it at
the session's end. A broker it did not start is never stopped. A freshly formatted broker
answers metadata requests before it can serve consumer groups (its offsets topic is made on
the first group request), so the fixture also waits for a group coordinator.
"""

import contextlib
import time
from typing import Iterator

import pytest
from kafka.errors import KafkaError

from connectors.kafka_config import default_brokers
from connectors.kafka_topics import broker_answers, committed_offsets
from pipelines.local import broker
from pipelines.local.process import ProcessFailed

ANSWER_TIMEOUT_S = 10.0
COORDINATOR_DEADLINE_S = 60.0
PROBE_GROUP = 'goldstream-suite-probe'


def wait_for_group_coordinator(bootstrap: str, deadline_s: float = COORDINATOR_DEADLINE_S) -> None:
    """Polls until the broker finds a coordinator for a consumer group; fails the test when
    it has none after `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            committed_offsets(bootstrap, PROBE_GROUP, PROBE_GROUP)
            return
        except KafkaError as error:
            if time.monotonic() > deadline:
                pytest.fail(
                    f'the broker on {bootstrap} has no consumer-group coordinator after '
                    f'{deadline_s:g} s ({error!r}); see its log in .local/kafka/logs.'
                )
        time.sleep(0.5)  # the interval between two coordinator lookups


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
        pytest.fail(
            f'no Kafka broker answers on {bootstrap} ($GOLDSTREAM_BROKERS), which is '
            f'not the local broker ({local.bootstrap}); start that broker, or unset '
            'GOLDSTREAM_BROKERS to let the suite start the local one.'
        )
    try:
        broker.start(local)
    except ProcessFailed as failure:
        pytest.fail(
            f'no Kafka broker answers on {bootstrap}, and starting the local one '
            f'failed:\n{failure.report()}If the tools are missing, run ./run_local.sh '
            'setup; or run the suite with ./run_local.sh test.'
        )
    try:
        wait_for_group_coordinator(bootstrap)
        yield bootstrap
    finally:
        broker.stop(local)
