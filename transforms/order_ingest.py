"""IngestOrders: DecodeEvents then ValidateOrders in one step, with one stream of dead letters."""

import time
from typing import Callable, Iterable, Optional, Union

import apache_beam as beam
from apache_beam import pvalue

from connectors.schema_catalogue import SchemaLookup
from transforms.decode import decode_events_fn
from transforms.records import DEAD_LETTER, VALID, DeadLetter, KafkaRecord, Order
from transforms.validate import validate_orders_fn


class IngestOrders(beam.PTransform):
    """Raw order records in; valid ``Order`` s at their event time and every dead letter out.

    Input: a PCollection of ``KafkaRecord`` or of plain ``bytes`` values,
    bounded or unbounded (the streaming pipeline applies it to
    ``ReadFromKafka``).

    Output: a dict of two PCollections:

    * ``[VALID]``: ``Order``, each at its event time (``ValidateOrders``),
      in the input's windows (the global window, from a source).
    * ``[DEAD_LETTER]``: ``DeadLetter`` of both stages, stage ``decode`` or
      ``validate``, ready for the ``orders.dlq`` topic.

    Every input record comes out exactly once: as an order or as a dead
    letter. No windowing or triggering happens here.

    It is ``DecodeEvents`` then ``ValidateOrders`` run as one DoFn with the same outputs and
    counters: with the two steps' dead letters flattened instead, Prism ran the flatten
    between stages and every consumer of the dead letters as a stage of its own, a few
    more bundles for each read bundle (docs/runners.md).
    """

    def __init__(
        self, catalogue: Optional[SchemaLookup] = None, clock: Callable[[], float] = time.time
    ) -> None:
        """Configures both stages.

        Args:
            catalogue: Writer schemas for Avro records (see ``DecodeEvents``).
            clock: Wall clock in seconds (see ``ValidateOrders``).

        Raises:
            ValueError: If ``clock`` is not callable.
        """
        super().__init__()
        self._decode = decode_events_fn(catalogue)
        self._validate = validate_orders_fn(clock)

    def expand(self, records: beam.PCollection[Union[KafkaRecord, bytes]]):  # a dict: see the class
        ingested = records | 'DecodeAndValidate' >> beam.ParDo(
            _IngestFn(self._decode, self._validate)
        ).with_output_types(Order, **{DEAD_LETTER: DeadLetter}).with_outputs(
            DEAD_LETTER, main=VALID
        )
        return {VALID: ingested[VALID], DEAD_LETTER: ingested[DEAD_LETTER]}


class _IngestFn(beam.DoFn):
    """Decodes a record, then validates what decoded: both steps' DoFns in one."""

    def __init__(self, decode: beam.DoFn, validate: beam.DoFn) -> None:
        self._decode = decode
        self._validate = validate

    def setup(self) -> None:
        self._decode.setup()
        self._validate.setup()

    def process(self, element: Union[KafkaRecord, bytes]) -> Iterable[Order]:
        for decoded in self._decode.process(element):
            if isinstance(decoded, pvalue.TaggedOutput):
                yield decoded  # type: ignore[misc]  # a decode dead letter (tagged output)
            else:
                yield from self._validate.process(decoded)

    def teardown(self) -> None:
        self._validate.teardown()
        self._decode.teardown()
