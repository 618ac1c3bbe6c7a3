"""DecodeEvents: raw Kafka records in, decoded order events and dead letters out."""

import time
from typing import Iterable, Optional, Union

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from connectors.codec_errors import DecodeError
from connectors.order_codec import OrderDecoder, shared_order_decoder
from connectors.schema_catalogue import SchemaLookup
from transforms.dead_letters import DeadLetterCounters, make_dead_letter, origin_of
from transforms.records import (
    DEAD_LETTER,
    STAGE_DECODE,
    VALID,
    DeadLetter,
    DecodedEvent,
    KafkaRecord,
)

RawRecord = Union[KafkaRecord, bytes]


class DecodeEvents(beam.PTransform):
    """Decodes raw order records, JSON or wire-format Avro, into ``DecodedEvent`` s.

    Input: a PCollection of ``KafkaRecord`` (what ``ReadFromKafka`` emits) or
    of plain ``bytes`` record values (then topic, partition, offset and key
    are None); bounded or unbounded. The record value is decoded with
    ``connectors.order_codec`` (a version 1 Avro order reads as version 2),
    which checks field types, not values.

    Output, a tagged result:

    * ``result[VALID]``: ``DecodedEvent`` (the version 2 order dict and the
      record's origin), one per decodable record. Values are unchecked: apply
      ``ValidateOrders`` next.
    * ``result[DEAD_LETTER]``: ``DeadLetter`` with stage ``decode`` and the
      codec's ``DecodeReason`` (``EMPTY``, ``BAD_JSON``, ``TRUNCATED_AVRO``,
      ``UNKNOWN_SCHEMA_ID``, ``MISSING_FIELD``, ``WRONG_TYPE``...), one per
      record that is not an order. Counted with
      ``Metrics.counter('DecodeEvents', <reason>)``; valid ones with
      ``Metrics.counter('DecodeEvents', 'decoded')``.

    Every input record comes out exactly once, on one of the two outputs.
    Elements keep their timestamps and windows (the Kafka record time): the
    event time is only trusted, and set, by ``ValidateOrders``. No windowing
    or triggering happens here. Errors other than bad records (e.g. a schema
    registry that cannot be reached) fail the bundle, so the runner retries it.
    """

    def __init__(self, catalogue: Optional[SchemaLookup] = None) -> None:
        """Configures the decoder.

        Args:
            catalogue: Where writer schemas of Avro records come from; the
                project's catalogue (``schemas/catalogue.json``) when None.
                Must be picklable.
        """
        super().__init__()
        self._catalogue = catalogue

    def expand(self, records: beam.PCollection[RawRecord]):  # tagged outputs: see the class
        return records | 'Decode' >> beam.ParDo(_DecodeFn(self._catalogue)).with_output_types(
            DecodedEvent, **{DEAD_LETTER: DeadLetter}
        ).with_outputs(DEAD_LETTER, main=VALID)


def decode_events_fn(catalogue: Optional[SchemaLookup] = None) -> beam.DoFn:
    """The DoFn of ``DecodeEvents``, for a composite that runs it and the next step in one
    DoFn (``IngestOrders``): same outputs, same counters."""
    return _DecodeFn(catalogue)


class _DecodeFn(beam.DoFn):
    def __init__(self, catalogue: Optional[SchemaLookup]) -> None:
        self._catalogue = catalogue
        self._decoder: Optional[OrderDecoder] = None

    def setup(self) -> None:
        # The shared decoder, when it is the project's catalogue: a record the source just
        # decoded for its event time is not decoded twice.
        self._decoder = (
            shared_order_decoder() if self._catalogue is None else OrderDecoder(self._catalogue)
        )
        self._dead_letters = DeadLetterCounters('DecodeEvents')
        self._decoded = Metrics.counter('DecodeEvents', 'decoded')

    def process(self, element: RawRecord) -> Iterable[DecodedEvent]:
        # Dead letters leave as pvalue.TaggedOutput(DEAD_LETTER, DeadLetter).
        origin = origin_of(element)
        assert self._decoder is not None  # made in setup
        try:
            fields = self._decoder.decode(origin.raw)
        except DecodeError as exc:
            self._dead_letters.inc(exc.reason)
            yield pvalue.TaggedOutput(
                DEAD_LETTER,
                make_dead_letter(  # type: ignore[misc]
                    STAGE_DECODE, exc.reason, exc.message, origin, int(time.time() * 1000)
                ),
            )
            return
        self._decoded.inc()
        yield DecodedEvent(fields, origin)
