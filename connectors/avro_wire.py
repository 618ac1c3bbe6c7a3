"""Avro in the Confluent wire format: framing, and reading and writing bodies.

A wire-format message is the magic byte 0x00, the writer's schema id as four
big-endian bytes, then the record as a schemaless Avro body. This module knows
nothing of subjects or catalogues; every Avro codec of goldstream builds on it.
"""

import io
import struct
from typing import Any, Mapping, cast

import fastavro

from connectors.codec_errors import DecodeError, DecodeReason

MAGIC_BYTE = 0
HEADER_SIZE = 5
MAX_SCHEMA_ID = 2**32 - 1
_HEADER = struct.Struct('>BI')
_SCHEMA_ID = struct.Struct('>I')


def frame(schema_id: int, body: bytes) -> bytes:
    """Prefixes an Avro body with the wire-format header.

    Args:
        schema_id: The writer schema's id, 0 to 2**32 - 1.
        body: A schemaless Avro body written with that schema.

    Returns:
        The wire-format message.

    Raises:
        ValueError: If the schema id does not fit four unsigned bytes.
    """
    if not 0 <= schema_id <= MAX_SCHEMA_ID:
        raise ValueError(f'schema id must be in 0..{MAX_SCHEMA_ID}, got {schema_id}')
    return _HEADER.pack(MAGIC_BYTE, schema_id) + body


def unframe(raw: bytes) -> tuple[int, memoryview]:
    """Splits a wire-format message into its schema id and body.

    Args:
        raw: The whole message.

    Returns:
        The schema id and a view of the body (no copy).

    Raises:
        DecodeError: as ``read_header``.
    """
    return read_header(raw), memoryview(raw)[HEADER_SIZE:]


def read_header(raw: bytes) -> int:
    """Checks a wire-format message's header and returns its schema id.

    Raises:
        DecodeError: EMPTY if ``raw`` has no bytes, UNKNOWN_MAGIC_BYTE if it
            does not start with 0x00, TRUNCATED_AVRO if it is shorter than the
            header.
    """
    if not raw:
        raise DecodeError(
            DecodeReason.EMPTY, 'the message has no bytes; expected Avro in the wire format'
        )
    if raw[0] != MAGIC_BYTE:
        raise DecodeError(
            DecodeReason.UNKNOWN_MAGIC_BYTE,
            f'first byte 0x{raw[0]:02x} is not the Avro wire-format magic byte 0x00',
        )
    return read_schema_id(raw)


def read_schema_id(raw: bytes) -> int:
    """Returns the schema id of a message known to start with the magic byte.

    Raises:
        DecodeError: TRUNCATED_AVRO if ``raw`` is shorter than the header.
    """
    if len(raw) < HEADER_SIZE:
        raise DecodeError(
            DecodeReason.TRUNCATED_AVRO,
            f'the Avro message has {len(raw)} bytes; its header alone needs {HEADER_SIZE} '
            '(magic byte 0x00 and a 4-byte schema id)',
        )
    return _SCHEMA_ID.unpack_from(raw, 1)[0]


def read_framed_record(
    raw: bytes,
    writer_schema: dict[str, Any],
    reader_schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Reads the record of a wire-format message whose header was checked.

    Args:
        raw: The whole message; its body starts at ``HEADER_SIZE``.
        writer_schema: The parsed schema the body was written with.
        reader_schema: The parsed schema to resolve the record to, or None to
            read it as written.

    Returns:
        The record, shaped by the reader schema when one is given.

    Raises:
        DecodeError: TRUNCATED_AVRO if the body ends before the record does;
            CORRUPT_AVRO if it does not match the writer schema (bad union
            index, negative length, invalid UTF-8, ...) or has bytes after the
            record.
    """
    stream = io.BytesIO(raw)
    stream.seek(HEADER_SIZE)
    try:
        record = fastavro.schemaless_reader(stream, writer_schema, reader_schema)
    except EOFError as exc:
        raise _classify_eof(raw, writer_schema, reader_schema, exc) from exc
    except struct.error as exc:
        raise _truncated(raw, exc) from exc
    except Exception as exc:  # fastavro signals corrupt data with many types
        raise _corrupt(
            f'the Avro body does not match its writer schema {_schema_label(raw, writer_schema)}: '
            f'{_describe(exc)}{_HINTS.get(type(exc), "")}'
        ) from exc
    end = stream.tell()
    if end != len(raw):
        raise _corrupt(
            f'{len(raw) - end} bytes are left after the Avro record (record ends at byte '
            f'{end} of {len(raw)}); expected exactly one record'
        )
    return cast(dict[str, Any], record)  # a record schema reads as a dict


def write_body(schema: dict[str, Any], record: Mapping[str, Any]) -> bytes:
    """Writes one record as a schemaless Avro body.

    The caller checks the record first: fastavro does not check every type.

    Raises:
        ValueError: If fastavro cannot write the record.
    """
    stream = io.BytesIO()
    try:
        fastavro.schemaless_writer(stream, schema, record)
    except Exception as exc:  # fastavro raises several types for bad records
        raise ValueError(
            f'cannot write the record as Avro {schema.get("name")}: {_describe(exc)}'
        ) from exc
    return stream.getvalue()


class _NegativeLength(Exception):
    """A length in the body was negative."""


class _NegativeLengthGuard(io.BytesIO):
    """A stream that refuses negative reads, which BytesIO takes as "read all"."""

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size < 0:
            raise _NegativeLength(size)
        return super().read(size)


def _classify_eof(
    raw: bytes,
    writer_schema: dict[str, Any],
    reader_schema: dict[str, Any] | None,
    error: EOFError,
) -> DecodeError:
    """Tells a truncated body from one with a negative length.

    fastavro reads a negative length as "read to the end" and then reports
    end of input. Reading again through a guarded stream (slow, but only on
    this error path) tells the two apart.
    """
    stream = _NegativeLengthGuard(raw)
    stream.seek(HEADER_SIZE)
    try:
        fastavro.schemaless_reader(stream, writer_schema, reader_schema)
    except _NegativeLength as negative:
        return _corrupt(
            f'the Avro body has a negative length ({negative.args[0]}) just before byte '
            f'{stream.tell()} of the message; lengths must be >= 0'
        )
    except Exception:
        pass
    return _truncated(raw, error)


def _truncated(raw: bytes, error: Exception) -> DecodeError:
    return DecodeError(
        DecodeReason.TRUNCATED_AVRO,
        f'the Avro body ended before its record did: the body has {len(raw) - HEADER_SIZE} '
        f'bytes ({_describe(error)}); expected one whole record',
    )


_HINTS: dict[type, str] = {
    IndexError: ' (an index such as a union branch that the schema does not have)',
    UnicodeDecodeError: ' (a string that is not valid UTF-8)',
}


def _schema_label(raw: bytes, schema: dict[str, Any]) -> str:
    return f'{schema.get("name", schema.get("type"))} (schema id {read_schema_id(raw)})'


def _corrupt(message: str) -> DecodeError:
    return DecodeError(DecodeReason.CORRUPT_AVRO, message)


def _describe(error: Exception) -> str:
    text = str(error)
    return f'{type(error).__name__}: {text}' if text else type(error).__name__
