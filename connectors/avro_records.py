"""Records of any catalogued subject as Avro in the Confluent wire format.

Alerts, metrics and dead letters go to Kafka through these functions; orders
have their own codec (``order_codec``), which adds JSON and type checks.
"""

from typing import Any, Mapping

from fastavro.validation import ValidationError, validate

from connectors.avro_wire import frame, read_framed_record, read_header, write_body
from connectors.codec_errors import DecodeError, DecodeReason
from connectors.schema_catalogue import (
    SchemaEntry,
    SchemaLookup,
    UnknownSchemaError,
    default_catalogue,
)


def encode_avro_record(
    subject: str,
    record: Mapping[str, Any],
    version: int | None = None,
    catalogue: SchemaLookup | None = None,
) -> bytes:
    """Encodes a record in the wire format with its subject's schema.

    Args:
        subject: The catalogue subject, e.g. ``"alert"``.
        record: The record; fields with defaults may be left out.
        version: The schema version to write; None for the subject's latest,
            which needs a catalogue with ``latest_version(subject)``.
        catalogue: Where schemas come from; the project's by default.

    Returns:
        The wire-format message.

    Raises:
        ValueError: If the subject or version is unknown, or the record does
            not match the schema.
    """
    catalogue = catalogue if catalogue is not None else default_catalogue()
    if version is None:
        version = latest_version(catalogue, subject)
    entry = entry_for_version(catalogue, subject, version)
    try:
        validate(record, entry.schema, raise_errors=True)
    except ValidationError as exc:
        raise ValueError(f'cannot encode {subject} v{version}: {exc}') from exc
    return frame(entry.schema_id, write_body(entry.schema, record))


def decode_avro_record(
    raw: bytes,
    subject: str,
    catalogue: SchemaLookup | None = None,
    reader_version: int | None = None,
) -> dict[str, Any]:
    """Decodes a wire-format record of a given subject.

    Args:
        raw: The whole message.
        subject: The subject the record must belong to.
        catalogue: Where schemas come from; the project's by default.
        reader_version: The subject's version to resolve the record to (Avro
            schema resolution); None to read it as written.

    Returns:
        The record.

    Raises:
        DecodeError: EMPTY, UNKNOWN_MAGIC_BYTE, UNKNOWN_SCHEMA_ID (unknown id,
            or an id of another subject), TRUNCATED_AVRO or CORRUPT_AVRO.
        ValueError: If ``reader_version`` is unknown (a caller error).
    """
    catalogue = catalogue if catalogue is not None else default_catalogue()
    schema_id = read_header(raw)
    writer = writer_entry(catalogue, schema_id, subject)
    reader = None
    if reader_version is not None and reader_version != writer.version:
        reader = entry_for_version(catalogue, subject, reader_version).schema
    return read_framed_record(raw, writer.schema, reader)


def writer_entry(catalogue: SchemaLookup, schema_id: int, subject: str) -> SchemaEntry:
    """Looks up the writer schema of a message that must be of ``subject``.

    Raises:
        DecodeError: UNKNOWN_SCHEMA_ID if the catalogue does not know the id
            (raises KeyError) or the id belongs to another subject.
    """
    try:
        entry = catalogue.schema_for_id(schema_id)
    except KeyError as exc:
        known = str(exc) if isinstance(exc, UnknownSchemaError) else ''
        raise DecodeError(
            DecodeReason.UNKNOWN_SCHEMA_ID,
            f'{known or f"schema id {schema_id} is unknown to the catalogue"}; '
            f'expected an id of subject {subject!r}',
        ) from None
    if entry.subject != subject:
        raise DecodeError(
            DecodeReason.UNKNOWN_SCHEMA_ID,
            f'schema id {schema_id} is subject {entry.subject!r} version {entry.version}, '
            f'not {subject!r}; expected an id of subject {subject!r}',
        )
    return entry


def entry_for_version(catalogue: SchemaLookup, subject: str, version: int) -> SchemaEntry:
    """Looks up a subject's schema at a version, for writing.

    Raises:
        ValueError: If the catalogue does not know the subject or version.
    """
    try:
        return catalogue.schema_for_id(catalogue.id_for(subject, version))
    except KeyError as exc:
        raise ValueError(f'no schema for subject {subject!r} version {version}: {exc}') from None


def latest_version(catalogue: SchemaLookup, subject: str) -> int:
    """Returns the subject's latest version, if the catalogue can tell.

    Raises:
        ValueError: If the subject is unknown, or the catalogue has no
            ``latest_version`` method (then pass a version).
    """
    find_latest = getattr(catalogue, 'latest_version', None)
    if find_latest is None:
        raise ValueError(
            f'{type(catalogue).__name__} has no latest_version(); pass the version of {subject!r}'
        )
    try:
        return find_latest(subject)
    except KeyError as exc:
        raise ValueError(f'no schema for subject {subject!r}: {exc}') from None
