"""Tests of the local schema catalogue and the SchemaLookup interface."""

import json
import pathlib
import shutil

import pytest

from connectors.schema_catalogue import (
    LocalSchemaCatalogue,
    SchemaEntry,
    SchemaLookup,
    UnknownSchemaError,
    default_catalogue,
)
from schemas import SCHEMA_DIR

EXPECTED_IDS = {
    ('order', 1): 1,
    ('order', 2): 2,
    ('alert', 1): 3,
    ('metric', 1): 4,
    ('dead_letter', 1): 5,
    ('dead_letter', 2): 6,
}


@pytest.fixture(name='catalogue')
def fixture_catalogue() -> LocalSchemaCatalogue:
    return LocalSchemaCatalogue()


def test_ids_are_those_of_the_project_catalogue(catalogue):
    assert {(e.subject, e.version): e.schema_id for e in catalogue.entries()} == EXPECTED_IDS
    for (subject, version), schema_id in EXPECTED_IDS.items():
        assert catalogue.id_for(subject, version) == schema_id


def test_schema_for_id_gives_the_parsed_schema(catalogue):
    entry = catalogue.schema_for_id(2)
    assert isinstance(entry, SchemaEntry)
    assert (entry.subject, entry.version, entry.schema_id) == ('order', 2, 2)
    assert entry.schema['name'] == 'goldstream.Order'
    assert '__fastavro_parsed' in entry.schema
    assert catalogue.schema_for_id(2) is entry  # parsed once, then kept


def test_latest_version_and_versions(catalogue):
    assert catalogue.latest_version('order') == 2
    assert catalogue.versions('order') == [1, 2]
    assert catalogue.latest_version('alert') == 1
    assert catalogue.subjects() == {'order', 'alert', 'metric', 'dead_letter'}


def test_unknown_id_is_a_key_error_with_a_readable_message(catalogue):
    with pytest.raises(KeyError) as caught:
        catalogue.schema_for_id(999)
    assert isinstance(caught.value, UnknownSchemaError)
    assert str(caught.value).startswith('schema id 999 is not in the catalogue')


@pytest.mark.parametrize(
    'call, text',
    [
        pytest.param(lambda c: c.id_for('payment', 1), "subject 'payment' is not", id='subject'),
        pytest.param(lambda c: c.id_for('order', 3), 'no version 3', id='version'),
        pytest.param(lambda c: c.latest_version('payment'), "'payment'", id='latest'),
    ],
)
def test_unknown_subjects_and_versions_are_key_errors(catalogue, call, text):
    with pytest.raises(UnknownSchemaError, match=text):
        call(catalogue)


def test_local_catalogue_is_a_schema_lookup(catalogue):
    assert isinstance(catalogue, SchemaLookup)


def test_default_catalogue_is_read_once():
    assert default_catalogue() is default_catalogue()


def _catalogue_copy(tmp_path: pathlib.Path, entries: list[dict]) -> pathlib.Path:
    for schema_file in SCHEMA_DIR.glob('*.avsc'):
        shutil.copy(schema_file, tmp_path / schema_file.name)
    path = tmp_path / 'catalogue.json'
    path.write_text(json.dumps(entries), encoding='utf-8')
    return path


def test_catalogue_file_may_live_elsewhere_with_its_schemas(tmp_path):
    entry = {'subject': 'order', 'version': 7, 'id': 70, 'file': 'order.v2.avsc'}
    path = _catalogue_copy(tmp_path, [entry])
    catalogue = LocalSchemaCatalogue(path)
    assert catalogue.id_for('order', 7) == 70 and catalogue.latest_version('order') == 7


ORDER_V1 = {'subject': 'order', 'version': 1, 'id': 1, 'file': 'order.v1.avsc'}


@pytest.mark.parametrize(
    'entries, text',
    [
        pytest.param({'order': 1}, 'list', id='not-a-list'),
        pytest.param([ORDER_V1, {**ORDER_V1, 'version': 2}], 'id 1 is listed twice', id='same-id'),
        pytest.param([ORDER_V1, {**ORDER_V1, 'id': 2}], 'listed twice', id='same-version'),
        pytest.param([{'subject': 'order', 'version': 1}], 'keys', id='missing-key'),
        pytest.param([{**ORDER_V1, 'version': '1'}], 'version', id='version-text'),
        pytest.param([{**ORDER_V1, 'id': 2**32}], 'id', id='id-too-large'),
        pytest.param([{**ORDER_V1, 'subject': ''}], 'subject', id='empty-subject'),
        pytest.param(
            [{**ORDER_V1, 'file': 'broken.avsc'}], 'not a valid Avro schema', id='bad-schema'
        ),
    ],
)
def test_malformed_catalogues_are_refused_when_read(tmp_path, entries, text):
    path = _catalogue_copy(tmp_path, entries)
    (tmp_path / 'broken.avsc').write_text('{"type": "no_such_type"}', encoding='utf-8')
    with pytest.raises(ValueError, match=text):
        LocalSchemaCatalogue(path)
