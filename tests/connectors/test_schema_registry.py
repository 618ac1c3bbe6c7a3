"""The Schema Registry lookup, over HTTP to a stand-in that answers as Confluent's registry
does: orders written by Confluent's AvroSerializer through the same URL decode, ids are asked
for once, and a registry that cannot be used is one clear line, not a dead letter."""

import datetime
import pickle
import socket

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from connectors.avro_wire import frame
from connectors.codec_errors import DecodeError, DecodeReason
from connectors.order_codec import OrderDecoder
from connectors.schema_catalogue import SchemaLookup, UnknownSchemaError
from connectors.schema_registry import (
    SchemaRegistryLookup,
    SchemaRegistryUnavailableError,
    value_subject,
)
from tests.connectors.confluent_orders import (
    MICROS,
    MILLIS,
    SAMPLE_RECORD,
    UTC,
    order_schema,
    serialize,
)
from tests.connectors.registry_stand_in import RegistryStandIn, recorded_answers

ORDER_SUBJECTS = {'orders-value': 'order'}
MILLIS_SCHEMA = order_schema(MILLIS)
WRITTEN_AT = datetime.datetime(2026, 1, 1, 0, 0, 0, 250_999, tzinfo=UTC)
WRITTEN_AT_MS = 1_767_225_600_250


@pytest.fixture
def registry():
    """A stand-in registry where MILLIS_SCHEMA is id 1, version 1 of orders-value."""
    with RegistryStandIn(recorded_answers(MILLIS_SCHEMA)) as stand_in:
        yield stand_in


def lookup_of(stand_in: RegistryStandIn, **settings) -> SchemaRegistryLookup:
    return SchemaRegistryLookup(stand_in.url, ORDER_SUBJECTS, max_retries=0, **settings)


def closed_port() -> int:
    """A local port where nothing listens (it was just free)."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


# Round trips: Confluent's serializer and the project's decoder on one registry URL ----------


@pytest.mark.parametrize('timestamp_type', [MILLIS, MICROS], ids=['millis', 'micros'])
def test_an_order_from_confluents_serializer_decodes_through_the_registry_url(timestamp_type):
    schema = order_schema(timestamp_type)
    with RegistryStandIn(recorded_answers(schema, schema_id=7)) as stand_in:
        raw = serialize(schema, WRITTEN_AT, SchemaRegistryClient({'url': stand_in.url}))
        decoded = OrderDecoder(lookup_of(stand_in)).decode(raw)
    assert raw[:5] == b'\x00\x00\x00\x00\x07'  # the id the registry gave the serializer
    assert decoded == {**SAMPLE_RECORD, 'timestamp': WRITTEN_AT_MS}
    assert [path.split('?')[0] for _, path in stand_in.requests] == [
        '/associations/resources/-/orders',  # the serializer asks for the topic's subject
        '/subjects/orders-value/versions',  # (404: none, so <topic>-value), registers there,
        '/schemas/ids/7',  # the decoder's lookup: the schema,
        '/schemas/ids/7/versions',  # then its subject and version
    ]


def test_the_lookup_is_a_schema_lookup_of_the_catalogue_subject(registry):
    lookup = lookup_of(registry)
    entry = lookup.schema_for_id(1)
    assert isinstance(lookup, SchemaLookup)
    assert (entry.subject, entry.version, entry.schema_id) == ('order', 1, 1)
    assert entry.schema['name'] == 'com.example.shop.Order'  # parsed by fastavro


# Caching ------------------------------------------------------------------------------------


def test_an_id_is_asked_for_once_then_kept(registry):
    lookup = lookup_of(registry)
    first = lookup.schema_for_id(1)
    asked = len(registry.requests)
    assert lookup.schema_for_id(1) is first
    assert asked == 2 and len(registry.requests) == asked  # the second lookup made no request


def test_a_pickled_lookup_keeps_the_ids_it_found(registry):
    lookup = lookup_of(registry)
    lookup.schema_for_id(1)
    copy = pickle.loads(pickle.dumps(lookup))
    asked = len(registry.requests)
    assert copy.schema_for_id(1).subject == 'order'
    assert copy.url == registry.url
    assert len(registry.requests) == asked


def test_id_for_asks_the_mapped_registry_subject_once(registry):
    lookup = lookup_of(registry)
    assert lookup.id_for('order', 1) == 1
    assert lookup.id_for('order', 1) == 1
    assert registry.requests == [('GET', '/subjects/orders-value/versions/1?deleted=false')]


def test_id_for_a_subject_without_a_registry_subject_is_unknown(registry):
    with pytest.raises(UnknownSchemaError, match="'alert' has no registry subject"):
        lookup_of(registry).id_for('alert', 1)
    assert registry.requests == []


# Ids the registry does not know, or that are not orders: dead letters ------------------------


def test_an_unknown_id_is_an_unknown_schema_id_dead_letter(registry):
    registry.answers[('GET', '/schemas/ids/99')] = (
        404,
        {'error_code': 40403, 'message': 'Schema 99 not found'},
    )
    with pytest.raises(DecodeError) as caught:
        OrderDecoder(lookup_of(registry)).decode(frame(99, b'\x02'))
    assert caught.value.reason is DecodeReason.UNKNOWN_SCHEMA_ID
    assert caught.value.message == (
        f'schema id 99 is not in the schema registry at {registry.url} (Schema 99 not found); '
        "expected an id of subject 'order'"
    )


def test_an_unknown_id_is_asked_again_later(registry):
    lookup = lookup_of(registry)
    with pytest.raises(UnknownSchemaError):
        lookup.schema_for_id(2)
    registry.answers.update(recorded_answers(MILLIS_SCHEMA, schema_id=2))
    assert lookup.schema_for_id(2).subject == 'order'  # registered since: found now


def test_an_id_of_an_unmapped_subject_is_refused_for_orders(registry):
    registry.answers.update(recorded_answers(MILLIS_SCHEMA, schema_id=3, subject='payments-value'))
    with pytest.raises(DecodeError, match="is subject 'payments-value' version 1, not 'order'"):
        OrderDecoder(lookup_of(registry)).decode(frame(3, b'\x02'))


def test_a_protobuf_schema_is_an_unknown_schema_id(registry):
    registry.answers[('GET', '/schemas/ids/4')] = (
        200,
        {'schemaType': 'PROTOBUF', 'schema': 'syntax = "proto3"; message Order {}'},
    )
    with pytest.raises(DecodeError, match='is a PROTOBUF schema; goldstream reads Avro') as caught:
        OrderDecoder(lookup_of(registry)).decode(frame(4, b'\x02'))
    assert caught.value.reason is DecodeReason.UNKNOWN_SCHEMA_ID


# A registry that cannot be used: one line, and the record is not dead-lettered ---------------


def test_an_unreachable_registry_is_one_line_naming_the_url():
    url = f'http://127.0.0.1:{closed_port()}'
    lookup = SchemaRegistryLookup(url, ORDER_SUBJECTS, max_retries=0)
    with pytest.raises(SchemaRegistryUnavailableError) as caught:
        lookup.schema_for_id(1)
    message = str(caught.value)
    assert message.startswith(
        f'the schema registry at {url} did not answer the request for schema id 1 (ConnectError: '
    )
    assert message.endswith(
        'check that it runs and that the URL points to it (--schema_registry_url)'
    )
    assert '\n' not in message


def test_an_unreachable_registry_fails_the_decode_instead_of_dead_lettering():
    lookup = SchemaRegistryLookup(
        f'http://127.0.0.1:{closed_port()}', ORDER_SUBJECTS, max_retries=0
    )
    with pytest.raises(SchemaRegistryUnavailableError):
        OrderDecoder(lookup).decode(frame(1, b'\x02'))
    with pytest.raises(SchemaRegistryUnavailableError):
        lookup.check_reachable()


def test_a_registry_that_refuses_the_client_says_so(registry):
    registry.answers[('GET', '/schemas/ids/5')] = (
        401,
        {'error_code': 401, 'message': 'Unauthorized'},
    )
    with pytest.raises(
        SchemaRegistryUnavailableError,
        match=r'refused the request for schema id 5 \(HTTP 401: Unauthorized\)',
    ):
        lookup_of(registry).schema_for_id(5)


def test_a_reachable_registry_passes_the_launch_check(registry):
    lookup_of(registry).check_reachable()
    assert registry.requests == [('GET', '/schemas/types')]


def test_credentials_in_the_url_are_never_shown():
    url = f'http://reader:s3cret@127.0.0.1:{closed_port()}'
    lookup = SchemaRegistryLookup(url, ORDER_SUBJECTS, max_retries=0)
    with pytest.raises(SchemaRegistryUnavailableError) as caught:
        lookup.schema_for_id(1)
    assert 's3cret' not in str(caught.value) and 's3cret' not in lookup.url


# Configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    'url', ['', 'localhost:8081', 'ftp://registry:8081', 'http://', 'http://ok:8081,registry:8081']
)
def test_the_url_must_be_http_or_https(url):
    with pytest.raises(ValueError, match='must be http'):
        SchemaRegistryLookup(url, ORDER_SUBJECTS)


@pytest.mark.parametrize(
    'settings, message',
    [
        ({'subjects': {}}, 'subjects must map'),
        ({'subjects': {'orders-value': ''}}, 'subjects must map'),
        ({'timeout_s': 0}, 'timeout_s'),
        ({'max_retries': -1}, 'max_retries'),
    ],
)
def test_wrong_settings_are_refused_when_built(settings, message):
    arguments = {'url': 'http://127.0.0.1:8081', 'subjects': ORDER_SUBJECTS, **settings}
    with pytest.raises(ValueError, match=message):
        SchemaRegistryLookup(**arguments)


def test_a_topics_value_subject_follows_confluents_default_naming():
    assert value_subject('orders') == 'orders-value'
