"""Tests of the schema files: they parse, are documented, and are catalogued."""

import json
from typing import Any, Iterator

import fastavro
import pytest

from schemas import SCHEMA_DIR, load_schema

SCHEMA_FILES = sorted(path.name for path in SCHEMA_DIR.glob('*.avsc'))
CATALOGUE = json.loads((SCHEMA_DIR / 'catalogue.json').read_text(encoding='utf-8'))


def _records(schema: Any) -> Iterator[dict[str, Any]]:
    """Yields every record schema inside ``schema``, itself included."""
    if isinstance(schema, list):
        for branch in schema:
            yield from _records(branch)
    elif isinstance(schema, dict):
        if schema.get('type') == 'record':
            yield schema
            for field in schema['fields']:
                yield from _records(field['type'])
        elif schema.get('type') == 'array':
            yield from _records(schema['items'])
        elif schema.get('type') == 'map':
            yield from _records(schema['values'])


def test_the_expected_schemas_exist():
    assert SCHEMA_FILES == [
        'alert.v1.avsc',
        'dead_letter.v1.avsc',
        'dead_letter.v2.avsc',
        'metric.v1.avsc',
        'order.v1.avsc',
        'order.v2.avsc',
    ]


@pytest.mark.parametrize('file_name', SCHEMA_FILES)
def test_schema_parses_with_fastavro(file_name):
    fastavro.parse_schema(load_schema(file_name))


@pytest.mark.parametrize('file_name', SCHEMA_FILES)
def test_every_record_and_field_is_documented(file_name):
    records = list(_records(load_schema(file_name)))
    assert records
    for record in records:
        assert record.get('namespace', 'goldstream') == 'goldstream'
        assert isinstance(record.get('doc'), str) and record['doc'].strip(), record['name']
        for field in record['fields']:
            assert isinstance(field.get('doc'), str) and field['doc'].strip(), field['name']


def test_catalogue_ids_and_versions_are_unique():
    ids = [entry['id'] for entry in CATALOGUE]
    versions = [(entry['subject'], entry['version']) for entry in CATALOGUE]
    assert len(set(ids)) == len(ids)
    assert len(set(versions)) == len(versions)


def test_catalogue_lists_every_schema_file_and_no_other():
    assert sorted(entry['file'] for entry in CATALOGUE) == SCHEMA_FILES


def test_order_versions_share_the_record_name_for_schema_resolution():
    assert load_schema('order.v1.avsc')['name'] == load_schema('order.v2.avsc')['name'] == 'Order'
    assert load_schema('order.v1.avsc')['namespace'] == load_schema('order.v2.avsc')['namespace']


def test_order_v2_is_v1_plus_tax_and_version_with_defaults():
    v1_fields = load_schema('order.v1.avsc')['fields']
    v2_fields = load_schema('order.v2.avsc')['fields']
    assert [f['name'] for f in v2_fields] == [f['name'] for f in v1_fields] + ['tax', 'version']
    assert [(f['name'], f['type']) for f in v2_fields[: len(v1_fields)]] == [
        (f['name'], f['type']) for f in v1_fields
    ]
    added = {f['name']: (f['type'], f['default']) for f in v2_fields[len(v1_fields) :]}
    assert added == {'tax': ('double', 0.0), 'version': ('int', 1)}


def test_order_id_limit_is_stated_in_its_doc():
    order_id = load_schema('order.v2.avsc')['fields'][0]
    assert order_id['name'] == 'order_id' and '64' in order_id['doc']
