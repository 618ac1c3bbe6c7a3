"""Building ``DeadLetter`` records: one shape for every stage.

A dead letter keeps the record value byte for byte (base64, as published on
``orders.dlq``), its size and SHA-256, its Kafka origin and key, the stage and reason code, and a
sentence for people. Stages count their dead letters with
``Metrics.counter(<stage transform>, <reason>)``; ``DeadLetterCounters``
keeps those counters.
"""

import base64
import hashlib
from typing import Any, Dict, Optional, Union, overload

from apache_beam.metrics import Metrics

from transforms.records import DeadLetter, KafkaRecord, RecordOrigin


def origin_of(element: Union[KafkaRecord, bytes, bytearray, memoryview, None]) -> RecordOrigin:
    """The origin of a raw input element: a ``KafkaRecord`` or plain bytes.

    Args:
        element: A Kafka record, or a record value given as bytes (then
            topic, partition, offset and key are None). None is a null value.

    Returns:
        The origin; ``raw`` is ``b''`` for a null value.

    Raises:
        TypeError: For any other element type (a pipeline wiring error).
    """
    if isinstance(element, KafkaRecord):
        value = element.value
        raw = b'' if value is None else bytes(value)
        return RecordOrigin(raw, element.key, element.topic, element.partition, element.offset)
    if isinstance(element, bytes):
        return RecordOrigin(element, None, None, None, None)
    if isinstance(element, (bytearray, memoryview)):
        return RecordOrigin(bytes(element), None, None, None, None)
    if element is None:
        return RecordOrigin(b'', None, None, None, None)
    raise TypeError(
        f'expected a KafkaRecord or bytes, got {type(element).__name__}; '
        'DecodeEvents reads raw Kafka records'
    )


@overload
def b64(data: bytes) -> str: ...
@overload
def b64(data: None) -> None: ...
def b64(data: Optional[bytes]) -> Optional[str]:
    """Standard base64 with padding, as text; None stays None."""
    if data is None:
        return None
    return base64.b64encode(data).decode('ascii')


def make_dead_letter(
    stage: str, reason: str, message: str, origin: RecordOrigin, failed_at_ms: int
) -> DeadLetter:
    """Builds the dead letter of a rejected record.

    Args:
        stage: ``STAGE_DECODE`` or ``STAGE_VALIDATE``.
        reason: The reason code (a str enum value is kept as its text).
        message: What was wrong and what was expected.
        origin: Where the record came from.
        failed_at_ms: Wall-clock time of the rejection, epoch milliseconds.

    Returns:
        The ``DeadLetter``.
    """
    return DeadLetter(
        stage,
        str(reason),
        message,
        b64(origin.raw),
        origin.topic,
        origin.partition,
        origin.offset,
        failed_at_ms,
        b64(origin.key),
        len(origin.raw),
        sha256_hex(origin.raw),
        False,
    )


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 lower-case hex digits (``DeadLetter.raw_sha256``)."""
    return hashlib.sha256(data).hexdigest()


class DeadLetterCounters:
    """One ``Metrics.counter`` per reason code, made on first use.

    Args:
        namespace: The counter namespace, the stage transform's name (e.g.
            ``ValidateOrders``); counter names are the reason codes.
    """

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace
        self._counters: Dict[str, Any] = {}

    def inc(self, reason: str) -> None:
        """Counts one dead letter for ``reason``."""
        counter = self._counters.get(reason)
        if counter is None:
            counter = self._counters[reason] = Metrics.counter(self._namespace, str(reason))
        counter.inc()
