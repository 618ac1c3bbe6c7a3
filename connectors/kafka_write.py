"""WriteToKafka: a pure-Python Kafka sink for Beam on kafka-python.

Every record must be acknowledged by Kafka (acks=all) before its bundle finishes; a record
Kafka did not acknowledge fails the bundle, so the runner retries it. Never a silent drop.

A record bigger than the topic takes (Kafka's default `max.message.bytes` is about 1 MB) would
be refused at every retry and so fail the job; `fit_fn` shrinks such an element until its
record fits (for dead letters: `transforms.dead_letter_fit.FitDeadLetter` cuts the raw bytes).
"""
from typing import Any, Callable, Optional, Sequence, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from kafka import KafkaProducer
from kafka.errors import KafkaError

from connectors.kafka_config import KafkaConnection, checked_topics


DEFAULT_MAX_RECORD_BYTES = 1_000_000
"""Key plus value bytes of one record, at most: under the broker's default `message.max.bytes`
(1,048,588) and kafka-python's `max_request_size` (1,048,576), with room for the batch header."""
REQUEST_OVERHEAD_BYTES = 1024
"""What a produce request adds to a record's key and value (batch and record headers), at
most; `max_record_bytes` must leave this much under the producer's `max_request_size`."""


class KafkaWriteError(RuntimeError):
    """Kafka did not acknowledge every record of a bundle; the runner retries the bundle."""


class RecordTooLargeError(ValueError):
    """An element's record is over `max_record_bytes` and no `fit_fn` could shrink it."""


def record_size(key: Optional[bytes], value: Optional[bytes]) -> int:
    """Bytes of a record's key and value, what `max_record_bytes` bounds."""
    return len(key or b'') + len(value or b'')


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
                 max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
                 fit_fn: Optional[Callable[[Any, int], Any]] = None):
        """Checks the configuration; raises ValueError saying what to fix.

        Args:
          bootstrap_servers: brokers as `host:port` (list or comma-separated string).
          topic: the topic to write; it must exist when the pipeline runs.
          value_fn: element -> record value bytes.
          key_fn: element -> record key bytes; no key when None.
          security_protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
          client_options: more kafka-python producer options (SASL, SSL, linger_ms, ...).
          flush_timeout_s: how long `finish_bundle` waits for acknowledgements.
          max_record_bytes: the largest record (key plus value bytes) the topic takes; set it
            to the topic's `max.message.bytes` less some room when that is not Kafka's default.
            It must stay `REQUEST_OVERHEAD_BYTES` under the producer's `max_request_size`
            (raise both in `client_options` for bigger records).
          fit_fn: `(element, max value bytes) -> element` whose value is smaller, called for
            an element whose record is over `max_record_bytes` (the key is kept as it is). An
            oversized element without `fit_fn`, or still too big after it, raises
            `RecordTooLargeError` (the bundle fails) rather than being dropped.
        """
        super().__init__()
        self._connection = KafkaConnection.of(bootstrap_servers, security_protocol,
                                              client_options)
        (self._topic,) = checked_topics([topic])
        if not callable(value_fn) or (key_fn is not None and not callable(key_fn)):
            raise ValueError('value_fn and key_fn must be functions of an element')
        if not flush_timeout_s > 0:
            raise ValueError(f'flush_timeout_s must be > 0, got {flush_timeout_s!r}')
        max_request_size = self._connection.producer_config().get(
            'max_request_size', KafkaProducer.DEFAULT_CONFIG['max_request_size'])
        if not isinstance(max_record_bytes, int) or not (
                0 < max_record_bytes <= max_request_size - REQUEST_OVERHEAD_BYTES):
            raise ValueError(
                f'max_record_bytes must be an int from 1 to the producer\'s max_request_size '
                f'less {REQUEST_OVERHEAD_BYTES} ({max_request_size - REQUEST_OVERHEAD_BYTES}), '
                f'got {max_record_bytes!r}; raise max_request_size in client_options for '
                f'bigger records')
        if fit_fn is not None and not callable(fit_fn):
            raise ValueError('fit_fn must be a function of an element and a size')
        self._value_fn = value_fn
        self._key_fn = key_fn
        self._flush_timeout_s = flush_timeout_s
        self._max_record_bytes = max_record_bytes
        self._fit_fn = fit_fn

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | 'Produce' >> beam.ParDo(_ProduceRecords(
            self._connection, self._topic, self._value_fn, self._key_fn,
            self._flush_timeout_s, self._max_record_bytes, self._fit_fn))


class _ProduceRecords(beam.DoFn):
    """Elements in, nothing out; one producer per DoFn instance."""

    def __init__(self, connection, topic, value_fn, key_fn, flush_timeout_s,
                 max_record_bytes=DEFAULT_MAX_RECORD_BYTES, fit_fn=None):
        self._connection = connection
        self._topic = topic
        self._value_fn = value_fn
        self._key_fn = key_fn
        self._flush_timeout_s = flush_timeout_s
        self._max_record_bytes = max_record_bytes
        self._fit_fn = fit_fn
        self._producer = None
        self._pending = []
        self._written = Metrics.counter('WriteToKafka', 'records_written')
        self._fitted = Metrics.counter('WriteToKafka', 'records_fitted')

    def setup(self):
        self._producer = KafkaProducer(**self._connection.producer_config(
            acks='all', client_id='goldstream-writer'))

    def start_bundle(self):
        self._pending = []

    def process(self, element) -> None:
        key = self._key_fn(element) if self._key_fn is not None else None
        value = self._value_fn(element)
        if record_size(key, value) > self._max_record_bytes:
            value = self._fitted_value(element, key, record_size(key, value))
        self._pending.append(self._producer.send(self._topic, key=key, value=value))

    def _fitted_value(self, element, key, size) -> Optional[bytes]:
        """The value of `element` shrunk by `fit_fn` to fit, or RecordTooLargeError."""
        if self._fit_fn is not None:
            budget = self._max_record_bytes - len(key or b'')
            value = self._value_fn(self._fit_fn(element, budget))
            if record_size(key, value) <= self._max_record_bytes:
                self._fitted.inc()
                return value
        raise RecordTooLargeError(
            f'a record of {size} bytes for {self._topic!r} is over max_record_bytes '
            f'({self._max_record_bytes}) and ' +
            ('no fit_fn was given' if self._fit_fn is None else 'fit_fn could not shrink it') +
            '; Kafka would refuse it at every retry')

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
