"""Why a record could not be decoded: a stable reason code and a sentence.

A ``DecodeError`` is what every goldstream decoder raises for bad input, so a
pipeline stage can route the record to the dead letters with ``err.reason``
(for counting) and ``err.message`` (for people).
"""

import enum
from typing import Any


class DecodeReason(str, enum.Enum):
    """Reason codes of decode failures; each value equals its name."""

    EMPTY = 'EMPTY'
    """The record has no bytes (or is a null Kafka value)."""
    NOT_UTF8 = 'NOT_UTF8'
    """JSON text that is not valid UTF-8 (or holds an unpaired surrogate)."""
    BAD_JSON = 'BAD_JSON'
    """UTF-8 text that is not valid JSON."""
    NOT_AN_OBJECT = 'NOT_AN_OBJECT'
    """Valid JSON whose top-level value is not an object."""
    UNKNOWN_MAGIC_BYTE = 'UNKNOWN_MAGIC_BYTE'
    """The first byte is neither the Avro wire-format magic byte nor JSON."""
    UNKNOWN_SCHEMA_ID = 'UNKNOWN_SCHEMA_ID'
    """The schema id is unknown, or belongs to another subject."""
    TRUNCATED_AVRO = 'TRUNCATED_AVRO'
    """The Avro message ends before its header or record does."""
    CORRUPT_AVRO = 'CORRUPT_AVRO'
    """The Avro body does not match its writer schema."""
    MISSING_FIELD = 'MISSING_FIELD'
    """A required field is absent."""
    WRONG_TYPE = 'WRONG_TYPE'
    """A field has a value of the wrong type."""

    def __str__(self) -> str:
        return self.value


class DecodeError(ValueError):
    """A record could not be decoded.

    Attributes:
        reason: The reason code.
        message: A sentence that says what was wrong and what was expected.
        field: The field at fault, or None when the fault is not in one field.
    """

    def __init__(self, reason: DecodeReason, message: str, field: str | None = None) -> None:
        super().__init__(reason, message, field)
        self.reason = reason
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f'{self.reason.value}: {self.message}'


def describe_value(value: Any, limit: int = 40) -> str:
    """Names a value's type and shows it, shortened, for error messages.

    Args:
        value: Any value found in a record.
        limit: The longest shown representation, in characters.

    Returns:
        ``"null"`` for None, otherwise e.g. ``"str '3'"`` or ``"bool True"``.
    """
    if value is None:
        return 'null'
    shown = repr(value)
    if len(shown) > limit:
        shown = shown[: limit - 3] + '...'
    return f'{type(value).__name__} {shown}'
