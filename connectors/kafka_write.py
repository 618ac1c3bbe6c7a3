"""WriteToKafka: a pure-Python Kafka sink for Beam on kafka-python.

Every record must be acknowledged by Kafka (acks=all) before its bundle finishes; a record
Kafka did not acknowledge fails the bundle, so the runner retries it. Never a silent drop.

A broker that is down or restarting is waited for, up to `flush_timeout_s` per bundle: the
producer connects on first use, and records whose delivery failed with a retriable error are
sent again. (A failed bundle fails the whole job on Prism, which does not retry bundles, so
the sink rides out an outage rather than failing at once.)
"""
import time
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from kafka import KafkaProducer
from kafka.errors import KafkaError

from connectors.kafka_config import KafkaConnection, checked_topics


class KafkaWriteError(RuntimeError):
    """Kafka did not acknowledge every record of a bundle; the runner retries the bundle."""


class WriteToKafka(beam.PTransform):
    """Writes each element to one Kafka topic as a record.

    Input: any PCollection, bounded or unbounded, in any windowing. Output: a PCollection of
    nothing (for sequencing only). The record's key and value come from `key_fn` and
    `value_fn` (bytes or None). Produced with `acks=all`; `finish_bundle` flushes, sends again
    what failed with a retriable error (a broker restarting), and raises `KafkaWriteError` if
    any record of the bundle is still not acknowledged after `flush_timeout_s`, or failed
    for good. After a retry a record may be written twice (at least once).
    """

    def __init__(self, bootstrap_servers: Union[str, Sequence[str]], topic: str,
                 value_fn: Callable[[Any], Optional[bytes]],
                 key_fn: Optional[Callable[[Any], Optional[bytes]]] = None,
                 security_protocol: str = 'PLAINTEXT', client_options: Optional[dict] = None,
                 flush_timeout_s: float = 300.0):
        """Checks the configuration; raises ValueError saying what to fix.

        Args:
          bootstrap_servers: brokers as `host:port` (list or comma-separated string).
          topic: the topic to write; it must exist when the pipeline runs.
          value_fn: element -> record value bytes.
          key_fn: element -> record key bytes; no key when None.
          security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
          client_options: more kafka-python producer options (SASL, SSL, linger_ms, ...).
          flush_timeout_s: how long a bundle waits for the broker and its acknowledgements
            (connecting, sending again) before it fails.
        """
        super().__init__()
        self._connection = KafkaConnection.of(bootstrap_servers, security_protocol,
                                              client_options)
        (self._topic,) = checked_topics([topic])
        if not callable(value_fn) or (key_fn is not None and not callable(key_fn)):
            raise ValueError('value_fn and key_fn must be functions of an element')
        if not flush_timeout_s > 0:
            raise ValueError(f'flush_timeout_s must be > 0, got {flush_timeout_s!r}')
        self._value_fn = value_fn
        self._key_fn = key_fn
        self._flush_timeout_s = flush_timeout_s

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | 'Produce' >> beam.ParDo(_ProduceRecords(
            self._connection, self._topic, self._value_fn, self._key_fn,
            self._flush_timeout_s))


class _ProduceRecords(beam.DoFn):
    """Elements in, nothing out; one producer per DoFn instance."""

    def __init__(self, connection, topic, value_fn, key_fn, flush_timeout_s):
        self._connection = connection
        self._topic = topic
        self._value_fn = value_fn
        self._key_fn = key_fn
        self._flush_timeout_s = flush_timeout_s
        self._producer = None
        self._pending: List[_Pending] = []
        self._written = Metrics.counter('WriteToKafka', 'records_written')
        self._resent = Metrics.counter('WriteToKafka', 'records_sent_again')

    def setup(self):
        self._producer = None  # connected on first use: the broker may be restarting

    def start_bundle(self):
        self._pending = []
        self._deadline = None

    def process(self, element) -> None:
        key = self._key_fn(element) if self._key_fn is not None else None
        self._pending.append(self._send(key, self._value_fn(element)))

    def finish_bundle(self):
        pending, self._pending = self._pending, []
        if not pending:
            return
        count = len(pending)
        while True:
            try:
                self._producer.flush(timeout=max(0.1, self._remaining_s()))
            except KafkaError:
                pass  # the futures below say which records are missing
            retriable = [p for p in pending if p.future.is_done and p.future.failed()
                         and getattr(p.future.exception, 'retriable', False)]
            failures = [p for p in pending if p.future.is_done and p.future.failed()
                        and p not in retriable]
            waiting = [p for p in pending if not p.future.is_done]
            if failures:
                self._fail(count, repr(failures[0].future.exception))
            if not retriable and not waiting:
                break
            if self._remaining_s() <= 0:
                first = retriable[0].future.exception if retriable else 'not acknowledged'
                self._fail(count, f'{first!r} after {self._flush_timeout_s:g} s')
            self._resent.inc(len(retriable))
            pending = waiting + [self._send(p.key, p.value) for p in retriable]
        self._written.inc(count)

    def teardown(self):
        if self._producer is not None:
            try:
                self._producer.close(timeout=10)
            except KafkaError:
                pass  # nothing left to deliver: every bundle was flushed and checked
            self._producer = None

    def _send(self, key: Optional[bytes], value: Optional[bytes]) -> '_Pending':
        """Sends one record, connecting (again) while the bundle's time allows."""
        while True:
            try:
                if self._producer is None:
                    self._producer = KafkaProducer(**self._connection.producer_config(
                        acks='all', client_id='goldstream-writer',
                        max_block_ms=_BLOCK_MS))
                return _Pending(self._producer.send(self._topic, key=key, value=value),
                                key, value)
            except KafkaError as error:
                if not getattr(error, 'retriable', False) or self._remaining_s() <= 0:
                    raise KafkaWriteError(
                        f'cannot send to {self._topic!r} on {self._connection.describe()}: '
                        f'{error!r}; check that the broker is up and the topic exists') from error
                if self._producer is None:
                    time.sleep(1.0)  # no broker to connect to yet; the wait is bounded

    def _remaining_s(self) -> float:
        if self._deadline is None:
            self._deadline = time.monotonic() + self._flush_timeout_s
        return self._deadline - time.monotonic()

    def _fail(self, count: int, first: str) -> None:
        raise KafkaWriteError(
            f'records to {self._topic!r} were not all acknowledged by Kafka ({count} in the '
            f'bundle; first failure: {first}); the bundle fails so the runner retries it')


_BLOCK_MS = 10_000
"""How long one send waits for the topic's metadata before the sink tries again."""


class _Pending(NamedTuple):
    """A record sent and not yet known to be acknowledged."""
    future: Any
    key: Optional[bytes]
    value: Optional[bytes]
