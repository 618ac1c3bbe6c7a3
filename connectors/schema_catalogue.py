"""Where schema ids come from: the ``SchemaLookup`` interface and a local catalogue.

Avro messages in the Confluent wire format carry a schema id. Codecs turn ids
into schemas (and subjects and versions into ids) only through
``SchemaLookup``, so a user can plug in a schema-registry client that
implements its two methods instead of ``LocalSchemaCatalogue``.
"""

import functools
import json
import os
import pathlib
from typing import Any, NamedTuple, Protocol, cast, runtime_checkable

import fastavro

from schemas import SCHEMA_DIR

DEFAULT_CATALOGUE_PATH = SCHEMA_DIR / 'catalogue.json'
_MAX_SCHEMA_ID = 2**32 - 1  # the wire format has four bytes for it
_ENTRY_KEYS = ('subject', 'version', 'id', 'file')


class SchemaEntry(NamedTuple):
    """One registered schema.

    Attributes:
        subject: What the schema describes, e.g. ``"order"``.
        version: The subject's schema version, from 1.
        schema_id: The id carried by wire-format messages written with it.
        schema: The schema as parsed by ``fastavro.parse_schema``.
    """

    subject: str
    version: int
    schema_id: int
    schema: dict[str, Any]


class UnknownSchemaError(KeyError):
    """A schema id, or a subject and version, is not in the catalogue."""

    def __str__(self) -> str:
        # KeyError would show the message quoted, as if it were a key.
        return str(self.args[0]) if self.args else ''


@runtime_checkable
class SchemaLookup(Protocol):
    """Finds schemas by id, and ids by subject and version.

    Implementations raise ``KeyError`` (preferably ``UnknownSchemaError``)
    for anything they do not know. Any other exception (e.g. an unreachable
    registry) is treated by the codecs as a failure of the lookup, not of the
    record, and propagates. Implementations should cache: codecs may call
    them once per record.
    """

    def schema_for_id(self, schema_id: int) -> SchemaEntry:
        """Returns the entry of ``schema_id``; raises KeyError if unknown."""
        ...

    def id_for(self, subject: str, version: int) -> int:
        """Returns the id of a subject's version; raises KeyError if unknown."""
        ...


class LocalSchemaCatalogue:
    """A ``SchemaLookup`` read from a catalogue JSON file.

    The file is a JSON list of ``{"subject", "version", "id", "file"}``
    objects; ``file`` is a ``.avsc`` path relative to the catalogue's folder.
    All schemas are read and parsed once, in the constructor.
    """

    def __init__(self, catalogue_path: str | os.PathLike[str] | None = None) -> None:
        """Reads and checks the catalogue and parses its schemas.

        Args:
            catalogue_path: The catalogue JSON file; defaults to
                ``schemas/catalogue.json`` of this project.

        Raises:
            ValueError: If the catalogue is malformed, repeats an id or a
                (subject, version), or a schema does not parse.
            OSError: If a file cannot be read.
        """
        self._path = pathlib.Path(catalogue_path or DEFAULT_CATALOGUE_PATH)
        self._by_id: dict[int, SchemaEntry] = {}
        self._id_by_version: dict[tuple[str, int], int] = {}
        for item in _read_catalogue_items(self._path):
            self._add(_parse_entry(item, self._path.parent))

    def _add(self, entry: SchemaEntry) -> None:
        if entry.schema_id in self._by_id:
            raise ValueError(f'{self._path}: schema id {entry.schema_id} is listed twice')
        key = (entry.subject, entry.version)
        if key in self._id_by_version:
            raise ValueError(
                f'{self._path}: subject {entry.subject!r} version {entry.version} is listed twice'
            )
        self._by_id[entry.schema_id] = entry
        self._id_by_version[key] = entry.schema_id

    def schema_for_id(self, schema_id: int) -> SchemaEntry:
        """Returns the entry of ``schema_id``.

        Raises:
            UnknownSchemaError: If no schema has that id.
        """
        try:
            return self._by_id[schema_id]
        except KeyError:
            known = ', '.join(str(i) for i in sorted(self._by_id))
            raise UnknownSchemaError(
                f'schema id {schema_id} is not in the catalogue {self._path} (known ids: {known})'
            ) from None

    def id_for(self, subject: str, version: int) -> int:
        """Returns the schema id of ``subject`` at ``version``.

        Raises:
            UnknownSchemaError: If the subject or that version is unknown.
        """
        try:
            return self._id_by_version[(subject, version)]
        except KeyError:
            versions = self.versions(subject)
            raise UnknownSchemaError(
                f'subject {subject!r} has no version {version} in the catalogue '
                f'{self._path} (known versions: {versions})'
            ) from None

    def versions(self, subject: str) -> list[int]:
        """Returns the subject's versions, ascending.

        Raises:
            UnknownSchemaError: If the subject is unknown.
        """
        versions = sorted(v for (s, v) in self._id_by_version if s == subject)
        if not versions:
            subjects = ', '.join(sorted(self.subjects()))
            raise UnknownSchemaError(
                f'subject {subject!r} is not in the catalogue {self._path} '
                f'(known subjects: {subjects})'
            )
        return versions

    def latest_version(self, subject: str) -> int:
        """Returns the subject's highest version.

        Raises:
            UnknownSchemaError: If the subject is unknown.
        """
        return self.versions(subject)[-1]

    def subjects(self) -> set[str]:
        """Returns every subject in the catalogue."""
        return {subject for (subject, _) in self._id_by_version}

    def entries(self) -> list[SchemaEntry]:
        """Returns every entry, by ascending schema id."""
        return [self._by_id[i] for i in sorted(self._by_id)]


@functools.cache
def default_catalogue() -> LocalSchemaCatalogue:
    """Returns the project's catalogue, read once per process."""
    return LocalSchemaCatalogue()


def _read_catalogue_items(path: pathlib.Path) -> list[Any]:
    with open(path, encoding='utf-8') as catalogue_file:
        try:
            items = json.load(catalogue_file)
        except json.JSONDecodeError as exc:
            raise ValueError(f'{path}: not valid JSON: {exc}') from exc
    if not isinstance(items, list):
        raise ValueError(f'{path}: expected a JSON list of entries, got {type(items).__name__}')
    return items


def _parse_entry(item: Any, schema_folder: pathlib.Path) -> SchemaEntry:
    if not isinstance(item, dict) or any(key not in item for key in _ENTRY_KEYS):
        raise ValueError(f'catalogue entry {item!r} must be an object with keys {_ENTRY_KEYS}')
    subject, version, schema_id, file_name = (item[key] for key in _ENTRY_KEYS)
    if not isinstance(subject, str) or not subject:
        raise ValueError(f'catalogue entry {item!r}: subject must be a non-empty string')
    if type(version) is not int or version < 1:
        raise ValueError(f'catalogue entry {item!r}: version must be an integer >= 1')
    if type(schema_id) is not int or not 0 <= schema_id <= _MAX_SCHEMA_ID:
        raise ValueError(f'catalogue entry {item!r}: id must be an integer in 0..{_MAX_SCHEMA_ID}')
    if not isinstance(file_name, str):
        raise ValueError(f'catalogue entry {item!r}: file must be a string')
    schema_path = schema_folder / file_name
    with open(schema_path, encoding='utf-8') as schema_file:
        raw_schema = json.load(schema_file)
    try:
        parsed = cast(dict[str, Any], fastavro.parse_schema(raw_schema))
    except Exception as exc:  # fastavro raises several types for bad schemas
        raise ValueError(f'{schema_path}: not a valid Avro schema: {exc}') from exc
    return SchemaEntry(subject, version, schema_id, parsed)
