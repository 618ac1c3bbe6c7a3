"""ValidateOrders: decoded events in, valid orders at their event time and dead letters out."""

import time
from typing import Callable, Iterable

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from transforms.dead_letters import DeadLetterCounters, make_dead_letter
from transforms.records import (
    DEAD_LETTER,
    STAGE_VALIDATE,
    VALID,
    DeadLetter,
    DecodedEvent,
    Order,
)
from transforms.validation_rules import ValidationError, validate_order


class ValidateOrders(beam.PTransform):
    """Checks decoded orders against the value rules of schemas/order.v2.avsc and types them.

    Input: a PCollection of ``DecodedEvent`` (``DecodeEvents``' valid output),
    bounded or unbounded, in any windowing.

    Output, a tagged result:

    * ``result[VALID]``: ``Order``, one per event that passes every rule of
      ``transforms.validation_rules`` (ids, lengths, ranges, ISO 4217
      currency, coordinates, timestamp format, not before 1970 and at most 1 day
      in the future, an amount of at most 10^15).
      **Each order's element timestamp is set to its event time**
      (``Order.event_time_ms``, the ``timestamp`` field, not the Kafka record
      time): this is where event time starts, because the field is only
      trusted once it has been checked. Windows are not reassigned: orders
      stay in the input's windows (the global window, from a source), so
      apply windowing after this step.
    * ``result[DEAD_LETTER]``: ``DeadLetter`` with stage ``validate``, the
      ``ValidationReason`` of the first rule broken (in field order), the
      original record value and its Kafka origin; at the input element's
      timestamp. Counted with ``Metrics.counter('ValidateOrders', <reason>)``;
      valid orders with ``Metrics.counter('ValidateOrders', 'valid')``.

    Every input event comes out exactly once, on one of the two outputs.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """Configures the check.

        Args:
            clock: Wall clock in seconds since the epoch, read once per event
                for the "at most 1 day in the future" rule and for
                ``DeadLetter.failed_at``; ``time.time`` by default. Must be
                picklable (a module-level function or a lambda).

        Raises:
            ValueError: If ``clock`` is not callable.
        """
        super().__init__()
        self._fn = validate_orders_fn(clock)

    def expand(self, events: beam.PCollection[DecodedEvent]):  # tagged outputs: see the class
        return events | 'Validate' >> beam.ParDo(self._fn).with_output_types(
            Order, **{DEAD_LETTER: DeadLetter}
        ).with_outputs(DEAD_LETTER, main=VALID)


def validate_orders_fn(clock: Callable[[], float] = time.time) -> beam.DoFn:
    """The DoFn of ``ValidateOrders``, for a composite that runs it after another step in one
    DoFn (``IngestOrders``): same outputs, same counters.

    Raises:
        ValueError: If ``clock`` is not callable.
    """
    if not callable(clock):
        raise ValueError(f'clock must be callable, got {clock!r}')
    return _ValidateFn(clock)


class _ValidateFn(beam.DoFn):
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def setup(self) -> None:
        self._dead_letters = DeadLetterCounters('ValidateOrders')
        self._valid = Metrics.counter('ValidateOrders', 'valid')

    def process(self, event: DecodedEvent) -> Iterable[Order]:
        # Orders leave as TimestampedValue(order, event time); dead letters as
        # pvalue.TaggedOutput(DEAD_LETTER, DeadLetter).
        now_ms = int(self._clock() * 1000)
        try:
            order = validate_order(event.fields, now_ms)
        except ValidationError as exc:
            self._dead_letters.inc(exc.reason)
            yield pvalue.TaggedOutput(
                DEAD_LETTER,
                make_dead_letter(  # type: ignore[misc]
                    STAGE_VALIDATE, exc.reason, exc.message, event.origin, now_ms
                ),
            )
            return
        self._valid.inc()
        origin = event.origin
        if origin.topic is not None:
            order = order._replace(
                source_topic=origin.topic,
                source_partition=origin.partition,
                source_offset=origin.offset,
            )
        # Beam reads the annotation as the output type (Order); the timestamp wraps it.
        yield TimestampedValue(order, order_timestamp(order))  # type: ignore[misc]


def order_timestamp(order: Order) -> Timestamp:
    """The element timestamp ValidateOrders gives an order: its event time."""
    return Timestamp(micros=order.event_time_ms * 1000)
