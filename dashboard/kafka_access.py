"""The dashboard's reads of Kafka metadata: topics, end offsets, a group's offsets and members.

`KafkaAccess` keeps one group-less consumer (metadata and end offsets) and one admin client
(the group's committed offsets and description), opened on first use and dropped after a
failure, so the next call reconnects: a broker restart costs failed calls, never a stuck
client. Every failure surfaces as `BrokerUnreachable` or `TopicNotFound`, whose messages are
for people. The dashboard joins no consumer group and commits nothing.
"""

import threading
from typing import Any, Dict, List, Optional, Tuple

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from connectors.kafka_security import KafkaSecurity

CLIENT_ID = 'goldstream-dashboard'
REQUEST_TIMEOUT_MS = 5_000
"""How long one metadata or offsets request may take before the broker counts as down."""

RECONNECT_BACKOFF_MAX_MS = 2_000
"""Longest wait between reconnection attempts: the page recovers this soon after a restart."""

Partition = Tuple[str, int]


class BrokerUnreachable(ConnectionError):
    """No broker answered; the message says where and what to check."""


class TopicNotFound(LookupError):
    """The topic does not exist on the cluster; the message names it."""


class KafkaAccess:
    """Metadata reads for the dashboard (see the module docstring). Thread-safe: calls are
    serialized, as kafka-python clients are not meant to be shared between threads.

    Args:
      bootstrap: `host:port[,host:port...]` of the brokers.
      security: How to connect (PLAINTEXT by default).
    """

    def __init__(self, bootstrap: str, security: Optional[KafkaSecurity] = None) -> None:
        self.bootstrap = bootstrap
        self.security = security or KafkaSecurity()
        self._consumer: Optional[KafkaConsumer] = None
        self._admin: Optional[KafkaAdminClient] = None
        self._lock = threading.Lock()
        self.requests = 0
        """Metadata and offset requests made so far (a counter, for the cost to the broker)."""

    def client_config(self, **extra: Any) -> Dict[str, Any]:
        """kafka-python keyword arguments for a client of the dashboard."""
        return {
            'bootstrap_servers': self.bootstrap.split(','),
            'client_id': CLIENT_ID,
            'request_timeout_ms': REQUEST_TIMEOUT_MS,
            'bootstrap_timeout_ms': REQUEST_TIMEOUT_MS,
            'reconnect_backoff_max_ms': RECONNECT_BACKOFF_MAX_MS,
            **self.security.client_config(),
            **extra,
        }

    def topics(self) -> Dict[str, List[int]]:
        """Topic name -> its partitions, internal topics left out."""

        def read(consumer: KafkaConsumer, _) -> Dict[str, List[int]]:
            return {
                topic: sorted(consumer.partitions_for_topic(topic) or ())
                for topic in sorted(consumer.topics())
                if not topic.startswith('__')
            }

        return self._call(read, requests=1)

    def end_offsets(self, topics: List[str]) -> Dict[Partition, int]:
        """(topic, partition) -> the offset the next record will get, for every partition of
        `topics`; raises TopicNotFound for a topic the cluster does not have."""

        def read(consumer: KafkaConsumer, _) -> Dict[Partition, int]:
            partitions = []
            known = consumer.topics()
            for topic in topics:
                if topic not in known:
                    raise TopicNotFound(f'topic {topic!r} does not exist on {self.bootstrap}')
                partitions += [
                    TopicPartition(topic, p)
                    for p in sorted(consumer.partitions_for_topic(topic) or ())
                ]
            offsets = consumer.end_offsets(partitions) if partitions else {}
            return {(tp.topic, tp.partition): offset for tp, offset in offsets.items()}

        return self._call(read, requests=2)

    def group_offsets(self, group: str, topics: List[str]) -> Dict[Partition, int]:
        """(topic, partition) -> the group's committed offset, where it has one on `topics`."""

        def read(_, admin: KafkaAdminClient) -> Dict[Partition, int]:
            offsets = admin.list_group_offsets(group).get(group, {})
            return {
                (tp.topic, tp.partition): meta.offset
                for tp, meta in offsets.items()
                if tp.topic in topics and meta.offset is not None and meta.offset >= 0
            }

        return self._call(read, requests=2)

    def group_members(self, group: str) -> Tuple[Optional[int], Optional[str]]:
        """(members, state) of the group as its coordinator describes it."""

        def read(_, admin: KafkaAdminClient) -> Tuple[Optional[int], Optional[str]]:
            described = admin.describe_groups([group]).get(group) or {}
            members = described.get('members')
            state = described.get('group_state') or described.get('state')
            return (len(members) if members is not None else None), state

        return self._call(read, requests=2)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _call(self, read, requests: int):
        with self._lock:
            try:
                if self._consumer is None:
                    self._consumer = KafkaConsumer(**self.client_config(enable_auto_commit=False))
                if self._admin is None:
                    self._admin = KafkaAdminClient(**self.client_config())
                self.requests += requests
                return read(self._consumer, self._admin)
            except TopicNotFound:
                raise
            except (KafkaError, OSError, ValueError, AssertionError) as error:
                self._drop()
                raise BrokerUnreachable(unreachable_message(self.bootstrap, error)) from None

    def _drop(self) -> None:
        for client in (self._consumer, self._admin):
            if client is not None:
                try:
                    client.close()
                except (KafkaError, OSError):
                    pass  # closing a client of a broker that is gone: nothing left to do
        self._consumer = self._admin = None


def unreachable_message(bootstrap: str, error: BaseException) -> str:
    """A sentence for people about a failed Kafka call (no stack trace, no secrets)."""
    return (
        f'Kafka broker at {bootstrap} is unreachable ({type(error).__name__}: '
        f'{_first_line(error)}). Check that it runs (./run_local.sh broker status) and '
        f'that --brokers and the security settings are right; retrying.'
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else 'no detail'
