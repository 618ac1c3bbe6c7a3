"""What a record on a goldstream topic is, decoded: an order, an alert, a metric or a dead letter.

Values are JSON (UTF-8) or Avro in the Confluent wire format (magic byte 0, schema id). The
kind comes from the Avro schema's subject, or for JSON from the fields it has; a caller that
knows the topic's kind passes it as a hint, and a record that does not decode is reported as
such, never raised.
"""

import json
from typing import Any, Dict, NamedTuple, Optional

from connectors.avro_records import decode_avro_record
from connectors.avro_wire import read_header
from connectors.codec_errors import DecodeError
from connectors.order_codec import decode_order
from connectors.schema_catalogue import UnknownSchemaError, default_catalogue

ORDER, ALERT, METRIC, DEAD_LETTER, UNKNOWN = 'order', 'alert', 'metric', 'dead_letter', 'unknown'
KINDS = (ORDER, ALERT, METRIC, DEAD_LETTER)
_MARKER_FIELDS = (
    (ALERT, 'alert_id'),
    (METRIC, 'window_start'),
    (DEAD_LETTER, 'stage'),
    (ORDER, 'order_id'),
)
_AVRO_MAGIC = 0


class DecodedValue(NamedTuple):
    """A record value as the dashboard shows it.

    Attributes:
      kind: ORDER, ALERT, METRIC, DEAD_LETTER, or UNKNOWN when it could not be told.
      encoding: 'json', 'avro', 'empty' or 'binary'.
      fields: The decoded fields; None when the value did not decode.
      error: Why it did not decode; None when it did.
    """

    kind: str
    encoding: str
    fields: Optional[Dict[str, Any]]
    error: Optional[str] = None


def decode_value(raw: Optional[bytes], kind_hint: Optional[str] = None) -> DecodedValue:
    """Decodes a record value of any goldstream topic.

    Args:
      raw: The value bytes (None or empty for a tombstone).
      kind_hint: The topic's kind when known; JSON that has none of the marker fields is read
        as this kind.

    Returns:
      The decoded value; undecodable bytes give `fields=None` and an `error` sentence.
    """
    if not raw:
        return DecodedValue(kind_hint or UNKNOWN, 'empty', None, 'the record has no value')
    if raw[0] == _AVRO_MAGIC:
        return _decode_avro(raw, kind_hint)
    return _decode_json(raw, kind_hint)


def _decode_avro(raw: bytes, kind_hint: Optional[str]) -> DecodedValue:
    try:
        subject = default_catalogue().schema_for_id(read_header(raw)).subject
        fields = decode_order(raw) if subject == ORDER else decode_avro_record(raw, subject)
    except (DecodeError, UnknownSchemaError) as error:
        return DecodedValue(kind_hint or UNKNOWN, 'avro', None, f'not decodable Avro: {error}')
    kind = subject if subject in KINDS else UNKNOWN
    return DecodedValue(kind, 'avro', fields)


def _decode_json(raw: bytes, kind_hint: Optional[str]) -> DecodedValue:
    try:
        fields = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        return DecodedValue(
            kind_hint or UNKNOWN,
            'binary',
            None,
            f'neither JSON nor wire-format Avro ({type(error).__name__})',
        )
    if not isinstance(fields, dict):
        return DecodedValue(
            kind_hint or UNKNOWN, 'json', None, f'JSON {type(fields).__name__}, not an object'
        )
    kind = next((kind for kind, marker in _MARKER_FIELDS if marker in fields), kind_hint or UNKNOWN)
    return DecodedValue(kind, 'json', fields)


def decode_kind(raw: Optional[bytes], kind: str) -> Optional[Dict[str, Any]]:
    """The fields of a value that must be of `kind`; None when it is not or does not decode."""
    value = decode_value(raw, kind)
    return value.fields if value.kind == kind else None
