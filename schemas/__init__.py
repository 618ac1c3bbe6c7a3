"""The Avro schemas of goldstream: its data dictionary.

Each ``*.avsc`` file documents every record and field it holds.
``catalogue.json`` assigns each (subject, version) its schema id, the id that
Avro messages in the Confluent wire format carry.
"""

import json
import pathlib
from typing import Any

SCHEMA_DIR = pathlib.Path(__file__).parent


def load_schema(filename: str) -> dict[str, Any]:
    """Reads one schema file of this folder as JSON.

    Args:
        filename: A file name inside ``SCHEMA_DIR``, e.g. ``"order.v2.avsc"``.

    Returns:
        The schema as a plain JSON dict (not parsed by fastavro).

    Raises:
        FileNotFoundError: If the file does not exist.
        json.JSONDecodeError: If the file is not valid JSON.
    """
    with open(SCHEMA_DIR / filename, encoding='utf-8') as schema_file:
        return json.load(schema_file)
