"""Customers and products reference data: files under one path, CSV or JSON lines.

The reference path is a folder (local, or any Beam filesystem such as
``gs://``) holding ``customers.csv`` or ``customers.jsonl`` and
``products.csv`` or ``products.jsonl``:

* CSV: UTF-8, a header row naming the columns, in any order; extra columns
  are ignored.
* JSON lines: UTF-8, one JSON object per line; blank lines are skipped;
  extra keys are ignored.

Customers have ``customer_id``, ``name``, ``segment``, ``home_country`` and
``signup_date`` (text); products have ``product_id``, ``name``,
``category`` (text), ``list_price`` (a number) and ``stock`` (an integer).
Ids must be non-blank. A later row with the same id replaces an earlier one.
A file that breaks these rules raises ``ReferenceDataError`` naming the file
and line: reference data is fixed by people, not dead-lettered.
"""

import csv
import io
import json
import math
from typing import Any, Callable, Dict, Iterator, List, Mapping, NamedTuple, Tuple

from apache_beam.io.filesystems import FileSystems

from transforms.records import Customer, Product

CUSTOMERS, PRODUCTS = 'customers', 'products'
FORMATS = ('.csv', '.jsonl')


class ReferenceDataError(ValueError):
    """A reference file is missing, ambiguous or malformed."""


class ReferenceData(NamedTuple):
    """One load of the reference data.

    Attributes:
        customers: Customers by ``customer_id``.
        products: Products by ``product_id``.
    """

    customers: Dict[str, Customer]
    products: Dict[str, Product]


def load_reference_data(path: str) -> ReferenceData:
    """Reads the customers and products files under ``path``, now.

    Args:
        path: The reference folder.

    Returns:
        Both tables, keyed by id.

    Raises:
        ReferenceDataError: If a file is missing, both formats of one table
            are present, or a row is malformed.
    """
    return ReferenceData(
        read_table(reference_file(path, CUSTOMERS), Customer),
        read_table(reference_file(path, PRODUCTS), Product),
    )


def reference_file(path: str, table: str) -> str:
    """The one file of ``table`` (``customers`` or ``products``) under ``path``.

    Raises:
        ReferenceDataError: If there is none, or one per format.
    """
    candidates = [FileSystems.join(path, table + suffix) for suffix in FORMATS]
    found = [name for name in candidates if FileSystems.exists(name)]
    if not found:
        raise ReferenceDataError(f'no {table} reference file: expected one of {candidates}')
    if len(found) > 1:
        raise ReferenceDataError(f'both {found[0]} and {found[1]} exist; keep one')
    return found[0]


def read_table(file_name: str, row_type: type) -> Dict[str, Any]:
    """Reads a ``Customer`` or ``Product`` file (CSV or JSON lines, by its suffix).

    Returns:
        Rows by id (their first field).

    Raises:
        ReferenceDataError: naming the file and line of the first bad row.
    """
    with FileSystems.open(file_name) as raw:
        text = io.TextIOWrapper(raw, encoding='utf-8', newline='')
        rows = _csv_rows(text) if file_name.endswith('.csv') else _json_rows(text)
        table = {}
        try:
            for line, fields in rows:
                try:
                    row = _typed_row(row_type, fields)
                except ReferenceDataError as exc:
                    raise ReferenceDataError(f'{line}: {exc}') from None
                table[row[0]] = row
        except ReferenceDataError as exc:
            raise ReferenceDataError(f'{file_name}:{exc}') from None
        except UnicodeDecodeError as exc:
            raise ReferenceDataError(f'{file_name}: not UTF-8 text ({exc.reason})') from None
    return table


def _csv_rows(text: io.TextIOBase) -> Iterator[Tuple[int, Mapping[str, Any]]]:
    reader = csv.DictReader(text)
    for fields in reader:
        yield reader.line_num, fields


def _json_rows(text: io.TextIOBase) -> Iterator[Tuple[int, Mapping[str, Any]]]:
    for line, content in enumerate(text, start=1):
        if not content.strip():
            continue
        try:
            fields = json.loads(content)
        except ValueError as exc:
            raise ReferenceDataError(f'{line}: not valid JSON ({exc})') from None
        if not isinstance(fields, dict):
            raise ReferenceDataError(f'{line}: expected a JSON object')
        yield line, fields


def _typed_row(row_type: Any, fields: Mapping[str, Any]) -> Any:  # a NamedTuple class
    values: List[Any] = []
    for name, kind in row_type.__annotations__.items():
        value = fields.get(name)
        if value is None:
            raise ReferenceDataError(f'{name!r} is missing')
        values.append(_PARSERS[kind](name, value))
    if not values[0].strip():
        raise ReferenceDataError(f'{row_type._fields[0]!r} is blank')
    return row_type(*values)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ReferenceDataError(f'{name!r} must be text, got {value!r}')
    return value


def _real(name: str, value: Any) -> float:
    try:
        number = (
            float(value)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool)
            else None
        )
    except ValueError:
        number = None
    if number is None or not math.isfinite(number):
        raise ReferenceDataError(f'{name!r} must be a finite number, got {value!r}')
    return number


def _integer(name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip('+-').isdigit():
        return int(value)
    raise ReferenceDataError(f'{name!r} must be an integer, got {value!r}')


_PARSERS: Dict[Any, Callable[[str, Any], Any]] = {str: _text, float: _real, int: _integer}
