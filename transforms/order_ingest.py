"""IngestOrders: DecodeEvents then ValidateOrders, with one stream of dead letters."""

import time
from typing import Callable, Optional, Union

import apache_beam as beam

from connectors.schema_catalogue import SchemaLookup
from transforms.decode import DecodeEvents
from transforms.records import DEAD_LETTER, VALID, KafkaRecord
from transforms.validate import ValidateOrders


class IngestOrders(beam.PTransform):
    """Raw order records in; valid ``Order`` s at their event time and every dead letter out.

    Input: a PCollection of ``KafkaRecord`` or of plain ``bytes`` values,
    bounded or unbounded (the streaming pipeline applies it to
    ``ReadFromKafka``).

    Output: a dict of two PCollections:

    * ``[VALID]``: ``Order``, each at its event time (``ValidateOrders``),
      in the input's windows (the global window, from a source).
    * ``[DEAD_LETTER]``: ``DeadLetter`` of both stages flattened, stage
      ``decode`` or ``validate``, ready for the ``orders.dlq`` topic.

    Every input record comes out exactly once: as an order or as a dead
    letter. No windowing or triggering happens here.
    """

    def __init__(self, catalogue: Optional[SchemaLookup] = None,
                 clock: Callable[[], float] = time.time) -> None:
        """Configures both stages.

        Args:
            catalogue: Writer schemas for Avro records (see ``DecodeEvents``).
            clock: Wall clock in seconds (see ``ValidateOrders``).

        Raises:
            ValueError: If ``clock`` is not callable.
        """
        super().__init__()
        self._decode = DecodeEvents(catalogue)
        self._validate = ValidateOrders(clock)

    def expand(self, records: beam.PCollection[Union[KafkaRecord, bytes]]):  # a dict: see the class
        decoded = records | 'DecodeEvents' >> self._decode
        validated = decoded[VALID] | 'ValidateOrders' >> self._validate
        dead_letters = (
            (decoded[DEAD_LETTER], validated[DEAD_LETTER])
            | 'FlattenDeadLetters' >> beam.Flatten())
        return {VALID: validated[VALID], DEAD_LETTER: dead_letters}
