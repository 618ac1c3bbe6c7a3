"""Orders on the wire: encode and decode JSON and wire-format Avro orders.

The façade over ``json_order_codec`` and ``avro_wire``. Whatever the format
and version, a decoded order is the version 2 dict of ``ORDER_FIELDS``:
``order_id``, ``customer_id``, ``product_id``, ``currency``, ``card_id``
(str), ``quantity`` (int), ``price``, ``lat``, ``lon`` (float), ``timestamp``
(str, or int epoch millis), ``tax`` (float, 0.0 when absent) and ``version``
(int, 1 when absent). Decoding checks types, not values.

Epoch millis arrive as a JSON integer, a JSON number that is a whole number
(``1767225600000.0``), or an Avro ``long``, plain or with the logical type
``timestamp-millis``, ``timestamp-micros`` or ``timestamp-nanos`` (what
Confluent's Avro serializers write for a date-time): the last two are divided
down to millis exactly (``avro_timestamps``). See docs/schemas.md.
"""

from typing import Any, Mapping, cast

import fastavro

from connectors.avro_records import (
    decode_avro_record,
    encode_avro_record,
    entry_for_version,
    writer_entry,
)
from connectors.avro_timestamps import epoch_long_reader, to_millis
from connectors.avro_wire import MAGIC_BYTE, frame, read_framed_record, read_schema_id, write_body
from connectors.codec_errors import DecodeError, DecodeReason
from connectors.json_order_codec import decode_json_order, encode_order_json
from connectors.order_fields import ORDER_DEFAULTS, ORDER_FIELDS, READ_SCHEMA_FILE, normalise_order
from connectors.schema_catalogue import SchemaLookup, default_catalogue
from schemas import load_schema

__all__ = [
    'ORDER_FIELDS',
    'ORDER_SUBJECT',
    'OrderDecoder',
    'decode_avro_record',
    'decode_order',
    'encode_avro_record',
    'encode_order_avro',
    'encode_order_json',
]

ORDER_SUBJECT = 'order'
_Schemas = tuple[dict[str, Any], dict[str, Any] | None, int]
_JSON_WHITESPACE_BYTES = frozenset(b' \t\n\r')  # may start JSON text


class OrderDecoder:
    """Decodes raw order records, JSON or wire-format Avro, into version 2 dicts.

    Writer schemas are looked up once per schema id and kept; Avro records
    are resolved to ``order.v2.avsc`` (so version 1 reads with tax 0.0 and
    version 1), and a writer's ``timestamp-millis``/``-micros``/``-nanos``
    timestamp is read as epoch millis. Picklable, so a DoFn may hold one; sharing one between
    threads is safe (a race while the cache fills only repeats a lookup).
    """

    def __init__(self, catalogue: SchemaLookup | None = None) -> None:
        """Creates a decoder.

        Args:
            catalogue: Where writer schemas come from; the project's
                catalogue by default. Only ids of subject ``"order"`` are
                accepted.
        """
        self._catalogue = catalogue if catalogue is not None else default_catalogue()
        self._reader_schema = cast(
            dict[str, Any], fastavro.parse_schema(load_schema(READ_SCHEMA_FILE))
        )
        # schema id -> (writer schema, reader schema or None when they are equal,
        #               the writer's timestamp units per millisecond)
        self._schemas_by_id: dict[int, _Schemas] = {}
        # The last value decoded (the very object) and its outcome: a dict or a DecodeError.
        self._last: tuple[Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state['_last'] = None
        return state

    def decode(self, raw: bytes) -> dict[str, Any]:
        """Decodes one record.

        The first byte tells the format: 0x00 is wire-format Avro; JSON
        whitespace or any byte from 0x20 is JSON; other bytes are unknown.

        Args:
            raw: The record value (bytes, bytearray or memoryview; None, a
                null Kafka value, counts as empty).

        Returns:
            The version 2 order dict (see the module docstring).

        Raises:
            DecodeError: for every fault of the record; see ``DecodeReason``.
            TypeError: If ``raw`` is not bytes-like (a caller error).
            Exception: Whatever the catalogue raises other than KeyError
                (e.g. an unreachable registry), so the record is retried
                rather than dead-lettered.
        """
        last = self._last
        if last is not None and last[0] is raw:
            # The same object again: a source that decoded a record for its event time,
            # then the decode step fused after it. Only identity counts, never equality.
            if isinstance(last[1], DecodeError):
                raise last[1]
            return last[1]
        try:
            decoded = self._decode(raw)
        except DecodeError as error:
            self._last = (raw, error)
            raise
        self._last = (raw, decoded)
        return decoded

    def _decode(self, raw: bytes) -> dict[str, Any]:
        if type(raw) is not bytes:
            raw = _as_bytes(raw)
        if not raw:
            raise DecodeError(
                DecodeReason.EMPTY, 'the record has no bytes; expected a JSON or Avro order'
            )
        first = raw[0]
        if first == MAGIC_BYTE:
            return self._decode_avro(raw)
        if first >= 0x20 or first in _JSON_WHITESPACE_BYTES:
            return decode_json_order(raw)
        raise DecodeError(
            DecodeReason.UNKNOWN_MAGIC_BYTE,
            f'first byte 0x{first:02x} starts neither Avro in the wire format (0x00) nor JSON text',
        )

    def _decode_avro(self, raw: bytes) -> dict[str, Any]:
        schema_id = read_schema_id(raw)
        schemas = self._schemas_by_id.get(schema_id)
        if schemas is None:
            schemas = self._load_schemas(schema_id)
        writer_schema, reader_schema, units_per_milli = schemas
        record = read_framed_record(raw, writer_schema, reader_schema)
        if units_per_milli != 1:
            record['timestamp'] = to_millis(record['timestamp'], units_per_milli)
        return record

    def _load_schemas(self, schema_id: int) -> _Schemas:
        writer_schema = writer_entry(self._catalogue, schema_id, ORDER_SUBJECT).schema
        writer_schema, units_per_milli = epoch_long_reader(writer_schema, 'timestamp')
        reader_schema = None if writer_schema == self._reader_schema else self._reader_schema
        schemas = (writer_schema, reader_schema, units_per_milli)
        self._schemas_by_id[schema_id] = schemas
        return schemas


_default_decoder: OrderDecoder | None = None


def shared_order_decoder() -> OrderDecoder:
    """The process's decoder of the project's catalogue.

    Decoding the same value object twice in a row (the source's event-time function, then
    the decode step fused after it) decodes it once: the decoder keeps the last outcome.
    """
    global _default_decoder
    if _default_decoder is None:
        _default_decoder = OrderDecoder()
    return _default_decoder


def decode_order(raw: bytes, catalogue: SchemaLookup | None = None) -> dict[str, Any]:
    """Decodes one order record with a shared decoder.

    Args:
        raw: The record value, JSON or wire-format Avro.
        catalogue: Where writer schemas come from; None for the project's
            catalogue, through a decoder shared by the process. A decoder is
            built per call for any other catalogue: keep an ``OrderDecoder``
            to decode many records with one.

    Returns:
        The version 2 order dict (see the module docstring).

    Raises:
        DecodeError: as ``OrderDecoder.decode``.
    """
    if catalogue is not None:
        return OrderDecoder(catalogue).decode(raw)
    return shared_order_decoder().decode(raw)


def encode_order_avro(
    order: Mapping[str, Any], version: int = 2, catalogue: SchemaLookup | None = None
) -> bytes:
    """Encodes an order as Avro in the wire format.

    The ``version`` field of the record is set to ``version`` when the schema
    has one: it states the schema the producer wrote.

    Args:
        order: An order with at least the version 1 fields (extra keys are
            left out).
        version: The order schema version to write with.
        catalogue: Where the schema and its id come from; the project's
            catalogue by default.

    Returns:
        The magic byte, the schema id (4 bytes, big-endian) and the body.

    Raises:
        ValueError: If the version is unknown, a field is missing or has the
            wrong type, or the schema has no field for a value that would
            then be lost (tax other than 0 in version 1).
    """
    catalogue = catalogue if catalogue is not None else default_catalogue()
    entry = entry_for_version(catalogue, ORDER_SUBJECT, version)
    try:
        record = normalise_order(order)
    except DecodeError as exc:
        raise ValueError(f'cannot encode order as Avro: {exc.message}') from exc
    record['version'] = version
    written = {field['name'] for field in entry.schema['fields']}
    for name, default in ORDER_DEFAULTS.items():
        if name not in written and name != 'version' and record[name] != default:
            raise ValueError(
                f'cannot encode order as Avro v{version}: it has no field {name!r}, so '
                f'{name}={record[name]!r} would be lost; use a version that has it'
            )
    return frame(entry.schema_id, write_body(entry.schema, record))


def _as_bytes(raw: Any) -> bytes:
    if raw is None:
        raise DecodeError(
            DecodeReason.EMPTY, 'the record value is null; expected a JSON or Avro order'
        )
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw)
    raise TypeError(f'raw must be bytes, got {type(raw).__name__}')
