"""WriteToKafka: a pure-Python Kafka sink for Beam on kafka-python.

Every record must be acknowledged by Kafka (acks=all) before its bundle finishes; a record
Kafka did not acknowledge fails the bundle, so the runner retries it. Never a silent drop.
"""
from typing import Any, Callable, Optional, Sequence, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from kafka import KafkaProducer
from kafka.errors import KafkaError

from connectors.kafka_config import KafkaConnection, checked_topics
from connectors.kafka_security import KafkaSecurity


class KafkaWriteError(RuntimeError):
    """Kafka did not acknowledge every record of a bundle; the runner retries the bundle."""


class WriteToKafka(beam.PTransform):
    """Writes each element to one Kafka topic as a record.

    Input: any PCollection, bounded or unbounded, in any windowing. Output: a PCollection of
    nothing (for sequencing only). The record's key and value come from `key_fn` and
    `value_fn` (bytes or None). Produced with `acks=all`; `finish_bundle` flushes and raises
    `KafkaWriteError` if any record of the bundle was not acknowledged. After a retry a record
    may be written twice (at least once).
    """

    def __init__(self, bootstrap_servers: Union[str, Sequence[str]], topic: str,
                 value_fn: Callable[[Any], Optional[bytes]],
                 key_fn: Optional[Callable[[Any], Optional[bytes]]] = None,
                 security_protocol: str = 'PLAINTEXT', client_options: Optional[dict] = None,
                 flush_timeout_s: float = 60.0,
                 security: Optional[KafkaSecurity] = None):
        """Checks the configuration; raises ValueError saying what to fix.

        Args:
          bootstrap_servers: brokers as `host:port` (list or comma-separated string).
          topic: the topic to write; it must exist when the pipeline runs.
          value_fn: element -> record value bytes.
          key_fn: element -> record key bytes; no key when None.
          security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
          client_options: more kafka-python producer options (SASL, SSL, linger_ms, ...).
          flush_timeout_s: how long `finish_bundle` waits for acknowledgements.
          security: how to authenticate and encrypt (what every command line's Kafka
            security options give); the password is read on the worker, when its client is
            made, from the variable or file the settings name. Instead of `security_protocol`
            and the SASL/SSL `client_options`.
        """
        super().__init__()
        self._connection = KafkaConnection.of(bootstrap_servers, security_protocol,
                                              client_options, security)
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
        self._pending = []
        self._written = Metrics.counter('WriteToKafka', 'records_written')

    def setup(self):
        self._producer = KafkaProducer(**self._connection.producer_config(
            acks='all', client_id='goldstream-writer'))

    def start_bundle(self):
        self._pending = []

    def process(self, element) -> None:
        key = self._key_fn(element) if self._key_fn is not None else None
        self._pending.append(self._producer.send(
            self._topic, key=key, value=self._value_fn(element)))

    def finish_bundle(self):
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            self._producer.flush(timeout=self._flush_timeout_s)
        except KafkaError:
            pass  # the futures below say which records are missing
        failures = []
        for future in pending:
            if not future.is_done:
                failures.append('not acknowledged in time')
            elif future.failed():
                failures.append(repr(future.exception))
        if failures:
            raise KafkaWriteError(
                f'{len(failures)} of {len(pending)} records to {self._topic!r} were not '
                f'acknowledged by Kafka (first: {failures[0]}); the bundle fails so the runner '
                f'retries it')
        self._written.inc(len(pending))

    def teardown(self):
        if self._producer is not None:
            try:
                self._producer.close(timeout=self._flush_timeout_s)
            except KafkaError:
                pass  # nothing left to deliver: every bundle was flushed and checked
            self._producer = None
