"""A Confluent-compatible Schema Registry, by URL, as the codecs' ``SchemaLookup``.

``SchemaRegistryLookup`` asks a registry (Confluent's, or one that speaks its REST API) through
confluent-kafka's ``SchemaRegistryClient`` for what the local catalogue
(``schemas/catalogue.json``) otherwise answers: the Avro schema of a wire-format message's
id, and the id of a subject's version. Registry subjects are named by the producers (Confluent's
serializers use ``<topic>-value`` by default); ``subjects`` maps those names to the catalogue's
subjects (``order``, ``alert``...), which the codecs check an id against.

Every id and version found is kept: a schema id never changes in a registry, so each is asked
for once per process (and per pickled copy). An id the registry does not know, or whose schema
goldstream cannot read (not Avro, or built from references), raises ``UnknownSchemaError``:
the decoder then dead-letters the record as UNKNOWN_SCHEMA_ID. Those answers are not kept, so
an id registered later is found then. A registry that cannot be reached, refuses the client or
answers as no registry does raises ``SchemaRegistryUnavailableError``, one line naming the URL
and what to check: it is no fault of the record, so a pipeline's bundle fails and is retried.
See docs/schemas.md.
"""

import json
import threading
import urllib.parse
from typing import Any, Callable, Mapping, TypeVar, cast

import fastavro
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from connectors.schema_catalogue import SchemaEntry, UnknownSchemaError

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_RETRIES = 2
_RETRY_WAIT_MS = 500
_T = TypeVar('_T')


class SchemaRegistryUnavailableError(ConnectionError):
    """The registry cannot be used (unreachable, refusing, or not a registry); the message is
    one line naming the URL and what to check."""


def value_subject(topic: str) -> str:
    """The registry subject of a topic's values under Confluent's default naming
    (TopicNameStrategy): ``orders`` -> ``orders-value``."""
    return f'{topic}-value'


class SchemaRegistryLookup:
    """A ``SchemaLookup`` backed by a Confluent-compatible Schema Registry.

    Picklable (the HTTP client is made again after unpickling; the ids found are kept), so a
    DoFn may hold one. Safe to share between threads: a race only repeats a request.
    """

    def __init__(
        self,
        url: str,
        subjects: Mapping[str, str],
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        """Configures the lookup; nothing is asked of the registry yet.

        Args:
            url: The registry's base URL, ``http(s)://host:port[/path]``, or several separated
                by commas (tried in turn).
            subjects: Registry subject -> catalogue subject, e.g.
                ``{"orders-value": "order"}``. A schema id registered under no subject of this
                mapping keeps its registry subject, so the codecs refuse it for ``order``.
            timeout_s: How long one HTTP request may take.
            max_retries: How often a failed request is tried again (after 0.5 s, then longer)
                before the registry counts as unreachable.

        Raises:
            ValueError: If the URL is not http(s), a mapping is empty, or a number is out of
                range.
        """
        urls = [part.strip() for part in url.split(',')]
        if not url.strip() or not all(
            urllib.parse.urlsplit(part).scheme in ('http', 'https')
            and urllib.parse.urlsplit(part).netloc
            for part in urls
        ):
            raise ValueError(
                f'schema registry URL must be http(s)://host:port, got {_redacted(url)!r}'
            )
        if not subjects or not all(
            isinstance(key, str) and key and isinstance(value, str) and value
            for key, value in subjects.items()
        ):
            raise ValueError(
                f'subjects must map registry subjects to catalogue subjects, got {subjects!r}'
            )
        if not timeout_s > 0:
            raise ValueError(f'timeout_s must be > 0, got {timeout_s!r}')
        if type(max_retries) is not int or max_retries < 0:
            raise ValueError(f'max_retries must be an integer >= 0, got {max_retries!r}')
        self._url = ','.join(urls)
        self._shown_url = _redacted(self._url)
        self._subjects = dict(subjects)
        self._config = {
            'url': self._url,
            'timeout': timeout_s,
            'max.retries': max_retries,
            'retries.wait.ms': _RETRY_WAIT_MS,
        }
        self._by_id: dict[int, SchemaEntry] = {}
        self._id_by_version: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._client_instance: SchemaRegistryClient | None = SchemaRegistryClient(self._config)

    @property
    def url(self) -> str:
        """The registry URL, without any user name or password it holds."""
        return self._shown_url

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state['_lock']
        state['_client_instance'] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def schema_for_id(self, schema_id: int) -> SchemaEntry:
        """Returns the entry of ``schema_id``, asking the registry the first time.

        The entry's subject is the catalogue subject its registry subject maps to, its
        version the registry's version under that subject.

        Raises:
            UnknownSchemaError: If the registry does not know the id, or its schema is not an
                Avro schema goldstream can read.
            SchemaRegistryUnavailableError: If the registry cannot be used.
        """
        entry = self._by_id.get(schema_id)
        if entry is not None:
            return entry
        what = f'schema id {schema_id}'
        schema = self._ask(what, lambda client: client.get_schema(schema_id))
        parsed = self._parse(schema_id, schema)
        versions = self._ask(what, lambda client: client.get_schema_versions(schema_id))
        subject, version = self._catalogue_subject(schema_id, versions)
        entry = SchemaEntry(subject, version, schema_id, parsed)
        self._by_id[schema_id] = entry
        return entry

    def id_for(self, subject: str, version: int) -> int:
        """Returns the schema id of a catalogue subject at a version of its registry subject.

        Raises:
            UnknownSchemaError: If no registry subject maps to ``subject``, or the registry
                has no such version.
            SchemaRegistryUnavailableError: If the registry cannot be used.
        """
        key = (subject, version)
        schema_id = self._id_by_version.get(key)
        if schema_id is not None:
            return schema_id
        registry_subject = next(
            (name for name, mapped in self._subjects.items() if mapped == subject), None
        )
        if registry_subject is None:
            raise UnknownSchemaError(
                f'subject {subject!r} has no registry subject (mapped: {self._subjects}) for '
                f'the schema registry at {self._shown_url}'
            )
        registered = self._ask(
            f'subject {registry_subject!r} version {version}',
            lambda client: client.get_version(registry_subject, version),
        )
        schema_id = registered.schema_id
        if schema_id is None:  # a registry always answers with the version's id
            raise SchemaRegistryUnavailableError(
                f'the schema registry at {self._shown_url} gave no id for {registry_subject!r} '
                f'version {version}'
            )
        self._id_by_version[key] = schema_id
        return schema_id

    def check_reachable(self) -> None:
        """Returns when the registry answers (a launcher calls this before it starts a job).

        Raises:
            SchemaRegistryUnavailableError: If it does not.
        """
        self._ask('its schema types', lambda client: client.get_schema_types())

    def _client(self) -> SchemaRegistryClient:
        client = self._client_instance
        if client is None:
            with self._lock:
                if self._client_instance is None:
                    self._client_instance = SchemaRegistryClient(self._config)
                client = self._client_instance
        return client

    def _ask(self, what: str, request: Callable[[SchemaRegistryClient], _T]) -> _T:
        try:
            return request(self._client())
        except SchemaRegistryError as error:
            if error.http_status_code == 404:
                raise UnknownSchemaError(
                    f'{what} is not in the schema registry at {self._shown_url} '
                    f'({_one_line(error.error_message)})'
                ) from None
            raise SchemaRegistryUnavailableError(
                f'the schema registry at {self._shown_url} refused the request for {what} '
                f'(HTTP {error.http_status_code}: {_one_line(error.error_message)}): check '
                'its URL, its credentials and its log'
            ) from error
        except Exception as error:  # the HTTP library's errors, or a server that is no registry
            raise SchemaRegistryUnavailableError(
                f'the schema registry at {self._shown_url} did not answer the request for '
                f'{what} ({type(error).__name__}: {_one_line(str(error))}): check that it '
                'runs and that the URL points to it (--schema_registry_url)'
            ) from error

    def _parse(self, schema_id: int, schema: Any) -> dict[str, Any]:
        where = f'schema id {schema_id} in the schema registry at {self._shown_url}'
        schema_type = schema.schema_type or 'AVRO'
        if schema_type != 'AVRO':
            raise UnknownSchemaError(f'{where} is a {schema_type} schema; goldstream reads Avro')
        if schema.references:
            names = ', '.join(f'{ref.subject} v{ref.version}' for ref in schema.references)
            raise UnknownSchemaError(
                f'{where} references other schemas ({names}); goldstream reads only '
                'self-contained Avro schemas'
            )
        try:
            return cast(dict[str, Any], fastavro.parse_schema(json.loads(schema.schema_str)))
        except Exception as error:  # fastavro and json raise several types for bad schemas
            raise UnknownSchemaError(
                f'{where} is not a valid Avro schema ({type(error).__name__}: '
                f'{_one_line(str(error))})'
            ) from None

    def _catalogue_subject(self, schema_id: int, versions: list[Any]) -> tuple[str, int]:
        pairs = [(item.subject, item.version) for item in versions]
        for registry_subject, version in pairs:
            if registry_subject in self._subjects:
                return self._subjects[registry_subject], version
        if pairs:
            return pairs[0]
        raise UnknownSchemaError(
            f'schema id {schema_id} is registered under no subject in the schema registry at '
            f'{self._shown_url}'
        )


def _redacted(url: str) -> str:
    """``url`` without the ``user:password@`` of any of its comma-separated parts."""
    shown = []
    for part in url.split(','):
        split = urllib.parse.urlsplit(part.strip())
        if split.username is not None or split.password is not None:
            split = split._replace(netloc=split.netloc.rsplit('@', 1)[1])
        shown.append(urllib.parse.urlunsplit(split))
    return ','.join(shown)


def _one_line(text: Any, limit: int = 200) -> str:
    line = ' '.join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + '...'
