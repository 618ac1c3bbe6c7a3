"""Creating and inspecting Kafka topics with kafka-python's admin client.

Every function takes the client's `KafkaSecurity` (plaintext when None).
"""

import time
from typing import Any, Dict, Iterable, List, Mapping, Optional

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from connectors.kafka_security import KafkaSecurity


def _security_config(security: Optional[KafkaSecurity]) -> Dict[str, Any]:
    return (security or KafkaSecurity()).client_config()


def ensure_topics(
    bootstrap: str,
    partitions_by_topic: Mapping[str, int],
    timeout_s: float = 30.0,
    security: Optional[KafkaSecurity] = None,
) -> None:
    """Creates each missing topic and waits until the broker reports all its partitions.

    Args:
      bootstrap: `host:port` of a broker.
      partitions_by_topic: topic name to partition count, for topics to create when missing.
        An existing topic is left as it is, whatever its partition count.
      timeout_s: how long to wait for the broker to show the new topics' partitions.
      security: how to connect.

    Raises:
      TimeoutError: the partitions did not appear in time.
    """
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id='goldstream-topics', **_security_config(security)
    )
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(name, partitions, 1)
            for name, partitions in partitions_by_topic.items()
            if name not in existing
        ]
        if missing:
            try:
                admin.create_topics(missing, timeout_ms=int(timeout_s * 1000))
            except TopicAlreadyExistsError:
                pass  # another client created it meanwhile: what we wanted
    finally:
        admin.close()
    _wait_for_partitions(bootstrap, list(partitions_by_topic), timeout_s, security)


def missing_topics(
    bootstrap: str, topics: Iterable[str], security: Optional[KafkaSecurity] = None
) -> List[str]:
    """The topics of `topics` that the cluster at `bootstrap` does not have, in their order."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id='goldstream-topics', **_security_config(security)
    )
    try:
        existing = set(admin.list_topics())
    finally:
        admin.close()
    return [topic for topic in topics if topic not in existing]


def _wait_for_partitions(
    bootstrap: str, topics: list, timeout_s: float, security: Optional[KafkaSecurity]
) -> None:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, client_id='goldstream-topics', **_security_config(security)
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            pending = [t for t in topics if not consumer.partitions_for_topic(t)]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f'topics {pending} have no partitions on {bootstrap} after {timeout_s:.0f} s'
                )
            consumer.poll(timeout_ms=100)  # refreshes metadata; also the wait between checks
    finally:
        consumer.close()


def end_offsets(
    bootstrap: str, topic: str, security: Optional[KafkaSecurity] = None
) -> Dict[int, int]:
    """Returns partition -> the offset the next record will get, for every partition of `topic`."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, client_id='goldstream-offsets', **_security_config(security)
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise ValueError(f'topic {topic!r} does not exist on {bootstrap}')
        offsets = consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in offsets.items()}
    finally:
        consumer.close()


def committed_offsets(bootstrap: str, group: str, topic: str) -> Dict[int, int]:
    """Returns partition -> `group`'s committed offset on `topic`, for the partitions where
    the group has committed one."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='goldstream-offsets')
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return {
        tp.partition: meta.offset
        for tp, meta in offsets.items()
        if tp.topic == topic and meta.offset is not None and meta.offset >= 0
    }


def broker_answers(
    bootstrap: str, timeout_s: float = 3.0, security: Optional[KafkaSecurity] = None
) -> bool:
    """Returns True when a broker at `bootstrap` returns cluster metadata within `timeout_s`."""
    timeout_ms = int(timeout_s * 1000)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            client_id='goldstream-ready-check',
            **_security_config(security),
        )
    except (KafkaError, OSError, ValueError):
        return False
    try:
        return bool(admin.describe_cluster().get('brokers'))
    except (KafkaError, OSError, ValueError):
        return False
    finally:
        admin.close()
