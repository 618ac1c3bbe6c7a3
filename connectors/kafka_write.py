"""WriteToKafka: a pure-Python Kafka sink for Beam on kafka-python.

Every record must be acknowledged by Kafka (acks=all) before its bundle finishes; a record
Kafka did not acknowledge fails the bundle, so the runner retries it. Never a silent drop.

A broker that is down or restarting is waited for, up to `flush_timeout_s` per bundle: the
producer connects on first use, and records whose delivery failed with a retriable error are
sent again. (A failed bundle fails the whole job on Prism, which does not retry bundles, so
the sink rides out an outage rather than failing at once.)

A record bigger than the topic takes (Kafka's default `max.message.bytes` is about 1 MB) would
be refused at every retry and so fail the job; `fit_fn` shrinks such an element until its
record fits (for dead letters: `transforms.dead_letter_fit.FitDeadLetter` cuts the raw bytes).
"""

import time
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.windowed_value import WindowedValue
from kafka import KafkaProducer
from kafka.errors import KafkaError

from connectors.kafka_commit import DELIVERED, Acknowledged, Origin, acknowledged_of, runs_of
from connectors.kafka_config import KafkaConnection, checked_topics
from connectors.kafka_security import KafkaSecurity

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

    Input: any PCollection, bounded or unbounded, in any windowing. Output: nothing, unless
    `origin_of` is given: then, once a bundle's records are all acknowledged, the Kafka
    offsets they came from (`origin_of(element)`: (topic, partition, offset) of the record
    read) as ``connectors.kafka_commit.Acknowledged`` marks of kind DELIVERED, and every
    ``Acknowledged`` mark that came in with the elements (it is not written: it travels
    with them, so it leaves only after the records before it are acknowledged too), for
    ``CommitDurableOffsets``. The record's key and value come from `key_fn` and
    `value_fn` (bytes or None). Produced with `acks=all`; `finish_bundle` flushes, sends again
    what failed with a retriable error (a broker restarting), and raises `KafkaWriteError` if
    any record of the bundle is still not acknowledged after `flush_timeout_s`, or failed
    for good. After a retry a record may be written twice (at least once).
    """

    def __init__(
        self,
        bootstrap_servers: Union[str, Sequence[str]],
        topic: str,
        value_fn: Callable[[Any], Optional[bytes]],
        key_fn: Optional[Callable[[Any], Optional[bytes]]] = None,
        security_protocol: str = 'PLAINTEXT',
        client_options: Optional[dict] = None,
        flush_timeout_s: float = 300.0,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        fit_fn: Optional[Callable[[Any, int], Any]] = None,
        security: Optional[KafkaSecurity] = None,
        origin_of: Optional[Callable[[Any], Origin]] = None,
    ):
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
          max_record_bytes: the largest record (key plus value bytes) the topic takes; set it
            to the topic's `max.message.bytes` less some room when that is not Kafka's default.
            It must stay `REQUEST_OVERHEAD_BYTES` under the producer's `max_request_size`
            (raise both in `client_options` for bigger records).
          fit_fn: `(element, max value bytes) -> element` whose value is smaller, called for
            an element whose record is over `max_record_bytes` (the key is kept as it is). An
            oversized element without `fit_fn`, or still too big after it, raises
            `RecordTooLargeError` (the bundle fails) rather than being dropped.
          security: how to authenticate and encrypt (what every command line's Kafka
            security options give); the password is read on the worker, when its client is
            made, from the variable or file the settings name. Instead of `security_protocol`
            and the SASL/SSL `client_options`.
          origin_of: element -> (topic, partition, offset) it was read from: acknowledged
            records are reported as DELIVERED marks (see the class).
        """
        super().__init__()
        self._connection = KafkaConnection.of(
            bootstrap_servers, security_protocol, client_options, security
        )
        (self._topic,) = checked_topics([topic])
        if not callable(value_fn) or (key_fn is not None and not callable(key_fn)):
            raise ValueError('value_fn and key_fn must be functions of an element')
        if not flush_timeout_s > 0:
            raise ValueError(f'flush_timeout_s must be > 0, got {flush_timeout_s!r}')
        # From the options, not producer_config(): that would read the password here, on the
        # machine that builds the pipeline.
        max_request_size = self._connection.client_options.get(
            'max_request_size', KafkaProducer.DEFAULT_CONFIG['max_request_size']
        )
        if not isinstance(max_record_bytes, int) or not (
            0 < max_record_bytes <= max_request_size - REQUEST_OVERHEAD_BYTES
        ):
            raise ValueError(
                f"max_record_bytes must be an int from 1 to the producer's max_request_size "
                f'less {REQUEST_OVERHEAD_BYTES} ({max_request_size - REQUEST_OVERHEAD_BYTES}), '
                f'got {max_record_bytes!r}; raise max_request_size in client_options for '
                f'bigger records'
            )
        if fit_fn is not None and not callable(fit_fn):
            raise ValueError('fit_fn must be a function of an element and a size')
        if origin_of is not None and not callable(origin_of):
            raise ValueError('origin_of must be a function of an element')
        self._origin_of = origin_of
        self._value_fn = value_fn
        self._key_fn = key_fn
        self._flush_timeout_s = flush_timeout_s
        self._max_record_bytes = max_record_bytes
        self._fit_fn = fit_fn

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | 'Produce' >> beam.ParDo(
            _ProduceRecords(
                self._connection,
                self._topic,
                self._value_fn,
                self._key_fn,
                self._flush_timeout_s,
                self._max_record_bytes,
                self._fit_fn,
                self._origin_of,
            )
        )


class _ProduceRecords(beam.DoFn):
    """Elements in, nothing out; one producer per DoFn instance."""

    def __init__(
        self,
        connection,
        topic,
        value_fn,
        key_fn,
        flush_timeout_s,
        max_record_bytes=DEFAULT_MAX_RECORD_BYTES,
        fit_fn=None,
        origin_of=None,
    ):
        self._connection = connection
        self._topic = topic
        self._value_fn = value_fn
        self._key_fn = key_fn
        self._flush_timeout_s = flush_timeout_s
        self._max_record_bytes = max_record_bytes
        self._fit_fn = fit_fn
        self._origin_of = origin_of
        self._producer: Any = None  # kafka-python's KafkaProducer, made on first use
        self._pending: List[_Pending] = []
        self._acknowledging = _Acknowledging()
        self._written = Metrics.counter('WriteToKafka', 'records_written')
        self._resent = Metrics.counter('WriteToKafka', 'records_sent_again')
        self._fitted = Metrics.counter('WriteToKafka', 'records_fitted')

    def setup(self):
        self._producer = None  # connected on first use: the broker may be restarting

    def start_bundle(self):
        self._pending = []
        self._deadline = None
        self._acknowledging = _Acknowledging()

    def process(
        self, element, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam
    ) -> None:
        if isinstance(element, Acknowledged):
            self._acknowledging.carry(element, window, timestamp)
            return
        if self._origin_of is not None:
            self._acknowledging.add(self._origin_of(element), window, timestamp)
        key = self._key_fn(element) if self._key_fn is not None else None
        value = self._value_fn(element)
        if record_size(key, value) > self._max_record_bytes:
            value = self._fitted_value(element, key, record_size(key, value))
        self._pending.append(self._send(key, value))

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
            f'({self._max_record_bytes}) and '
            + ('no fit_fn was given' if self._fit_fn is None else 'fit_fn could not shrink it')
            + '; Kafka would refuse it at every retry'
        )

    def finish_bundle(self):
        self._flush_all()
        yield from self._acknowledging.marks()

    def _flush_all(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        count = len(pending)
        if self._producer is None:
            # Torn down mid-bundle: the runner is cancelling the job or stopping the worker.
            raise KafkaWriteError(
                f'the writer to {self._topic!r} was torn down before Kafka acknowledged the '
                f'{count} records of the bundle (the job is being cancelled or its worker is '
                'stopping); the bundle fails so the runner retries it'
            )
        while True:
            try:
                self._producer.flush(timeout=max(0.1, self._remaining_s()))
            except KafkaError:
                pass  # the futures below say which records are missing
            retriable: List[Any] = []
            failures: List[Any] = []
            waiting: List[Any] = []
            for record in pending:
                future = record.future
                if not future.is_done:
                    waiting.append(record)
                elif future.failed():
                    retry = getattr(future.exception, 'retriable', False)
                    (retriable if retry else failures).append(record)
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
                    self._producer = KafkaProducer(
                        **self._connection.producer_config(
                            acks='all', client_id='goldstream-writer', max_block_ms=_BLOCK_MS
                        )
                    )
                return _Pending(self._producer.send(self._topic, key=key, value=value), key, value)
            except KafkaError as error:
                if not getattr(error, 'retriable', False) or self._remaining_s() <= 0:
                    raise KafkaWriteError(
                        f'cannot send to {self._topic!r} on {self._connection.describe()}: '
                        f'{error!r}; check that the broker is up and the topic exists'
                    ) from error
                if self._producer is None:
                    time.sleep(1.0)  # no broker to connect to yet; the wait is bounded

    def _remaining_s(self) -> float:
        if self._deadline is None:
            self._deadline = time.monotonic() + self._flush_timeout_s
        return self._deadline - time.monotonic()

    def _fail(self, count: int, first: str) -> None:
        raise KafkaWriteError(
            f'records to {self._topic!r} were not all acknowledged by Kafka ({count} in the '
            f'bundle; first failure: {first}); the bundle fails so the runner retries it'
        )


_BLOCK_MS = 10_000
"""How long one send waits for the topic's metadata before the sink tries again."""


class _Acknowledging:
    """The marks a bundle reports once its records are acknowledged: the origins of its
    records (DELIVERED) and the marks that came in with its elements, per window, at the
    earliest timestamp of the window's elements."""

    def __init__(self) -> None:
        self._origins: Dict[Any, List[Origin]] = {}
        self._carried: Dict[Any, List[Acknowledged]] = {}
        self._earliest: Dict[Any, Any] = {}

    def add(self, origin: Origin, window, timestamp) -> None:
        self._origins.setdefault(window, []).append(origin)
        self._seen(window, timestamp)

    def carry(self, mark: Acknowledged, window, timestamp) -> None:
        self._carried.setdefault(window, []).append(mark)
        self._seen(window, timestamp)

    def _seen(self, window, timestamp) -> None:
        earliest = self._earliest.get(window)
        if earliest is None or timestamp < earliest:
            self._earliest[window] = timestamp

    def marks(self) -> Iterable[WindowedValue]:
        for window, timestamp in self._earliest.items():
            offsets: Dict[Tuple[str, str, int], List[int]] = {}
            for mark in self._carried.get(window, ()):
                runs = offsets.setdefault((mark.kind, mark.topic, mark.partition), [])
                runs.extend(offset for start, stop in mark.runs for offset in range(start, stop))
            merged = [
                Acknowledged(topic, partition, kind, runs_of(found))
                for (kind, topic, partition), found in sorted(offsets.items())
            ]
            merged += acknowledged_of(DELIVERED, self._origins.get(window, ()))
            for mark in merged:
                yield WindowedValue(mark, timestamp, (window,))


class _Pending(NamedTuple):
    """A record sent and not yet known to be acknowledged."""

    future: Any
    key: Optional[bytes]
    value: Optional[bytes]
