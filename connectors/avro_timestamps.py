"""Avro timestamp logical types read as epoch millis, with exact integer arithmetic.

Confluent's Avro serializers write a date-time as a ``long`` with the logical
type ``timestamp-millis`` or ``timestamp-micros`` (Avro 1.12 adds
``timestamp-nanos``). fastavro reads the first two as timezone-aware
``datetime`` objects, which fail beyond year 9999 and are not what goldstream
carries: an order's ``timestamp`` is an ISO 8601 string or epoch millis.
``epoch_long_reader`` gives a writer schema in which such a field is read as
the plain ``long`` that was written, and the divisor that turns it into
millis; ``to_millis`` divides, cutting sub-millisecond digits towards the past
(as the ISO 8601 parser of ValidateOrders does), so no float ever rounds a
value. ``local-timestamp-*`` types are left alone: they carry no zone, so their
instant is unknown, and ValidateOrders refuses the naive ``datetime`` that
fastavro makes of them (BAD_TIMESTAMP).
"""

import copy
from typing import Any, cast

import fastavro

UNITS_PER_MILLI = {'timestamp-millis': 1, 'timestamp-micros': 1_000, 'timestamp-nanos': 1_000_000}
"""Each instant logical type of a ``long``, and how many of its units make a millisecond."""


def epoch_long_reader(writer_schema: dict[str, Any], field: str) -> tuple[dict[str, Any], int]:
    """Reads a record field's instant logical type as its plain ``long``.

    Args:
        writer_schema: A record schema as parsed by ``fastavro.parse_schema``.
        field: The name of a top-level field, e.g. ``"timestamp"``. Its type
            may be a ``long`` with a logical type, or a union with one such
            branch (a union holds at most one ``long``).

    Returns:
        The schema to read with and the units per millisecond of the field's
        ``long``: ``writer_schema`` itself and 1 when the field has none of
        ``UNITS_PER_MILLI``'s logical types (or no such field); otherwise a
        parsed copy without that logical type, and 1, 1,000 or 1,000,000.
    """
    for index, candidate in enumerate(writer_schema.get('fields', ())):
        if candidate['name'] == field:
            plain_type, units = _without_instant_type(candidate['type'])
            if plain_type is candidate['type']:
                return writer_schema, 1
            schema = copy.deepcopy(
                {key: value for key, value in writer_schema.items() if not key.startswith('__')}
            )
            schema['fields'][index]['type'] = plain_type
            return cast(dict[str, Any], fastavro.parse_schema(schema)), units
    return writer_schema, 1


def to_millis(value: Any, units_per_milli: int) -> Any:
    """Converts a ``long`` read by ``epoch_long_reader`` to epoch millis; other values pass.

    Floor division: -1 microsecond is -1 millisecond, the millisecond it falls in.
    """
    if type(value) is int:
        return value // units_per_milli
    return value


def _without_instant_type(avro_type: Any) -> tuple[Any, int]:
    if isinstance(avro_type, list):
        for position, branch in enumerate(avro_type):
            plain, units = _without_instant_type(branch)
            if plain is not branch:
                return avro_type[:position] + [plain] + avro_type[position + 1 :], units
        return avro_type, 1
    if (
        isinstance(avro_type, dict)
        and avro_type.get('type') == 'long'
        and avro_type.get('logicalType') in UNITS_PER_MILLI
    ):
        return 'long', UNITS_PER_MILLI[avro_type['logicalType']]
    return avro_type, 1
