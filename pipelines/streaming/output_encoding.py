"""Keys and values of the records the streaming pipeline writes to Kafka.

Values are JSON (UTF-8, compact, fields in schema order) or Avro in the Confluent wire format
with the `alert`, `metric` and `dead_letter` schemas of the catalogue. Keys: the card id for
alerts, the product id for metrics, and for dead letters the key the bad record had.
"""

import base64
import json
from typing import Callable, NamedTuple, Optional

from connectors.avro_records import encode_avro_record

FORMATS = ('json', 'avro')


SCHEMA_VERSIONS = {'alert': 1, 'metric': 1, 'dead_letter': 2}
"""The catalogue version each subject is written with (schemas/catalogue.json)."""


def json_value(record: NamedTuple) -> bytes:
    """The record's fields as a compact JSON object.

    Raises:
        ValueError: If a float is NaN or infinite: JSON has no such numbers, and a consumer's
            parser would refuse the record. Validation keeps them out (an order's amount is
            bounded), so this fails loudly rather than publish what no one can read.
    """
    return json.dumps(
        record._asdict(), separators=(',', ':'), ensure_ascii=False, allow_nan=False
    ).encode()


def value_encoder(subject: str, fmt: str) -> Callable[[NamedTuple], bytes]:
    """A picklable `record -> bytes` for one output subject in `json` or `avro`."""
    if fmt not in FORMATS:
        raise ValueError(f'output format must be one of {FORMATS}, got {fmt!r}')
    if fmt == 'json':
        return json_value
    return _AvroValue(subject)


class _AvroValue:
    def __init__(self, subject: str):
        self._subject = subject

    def __call__(self, record: NamedTuple) -> bytes:
        return encode_avro_record(
            self._subject, record._asdict(), version=SCHEMA_VERSIONS[self._subject]
        )


def card_key(alert) -> bytes:
    """Key of an alert: its card id."""
    return alert.card_id.encode()


def product_key(metric) -> bytes:
    """Key of a metric row: its product id."""
    return metric.product_id.encode()


def original_key(dead_letter) -> Optional[bytes]:
    """Key of a dead letter: the key of the record that failed (None when it had none)."""
    return None if dead_letter.key is None else base64.b64decode(dead_letter.key)
