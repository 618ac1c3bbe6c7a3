"""Orders as Confluent's own Avro serializer writes them, for the interoperability tests.

``confluent_kafka.schema_registry.avro.AvroSerializer`` registers its schema with a registry
client, then frames each record with the id it got. ``mock_registry`` is confluent-kafka's
in-memory client (a ``mock://`` URL; its first id is 1); ``catalogue_for`` then lists the
serializer's schema under that id as subject ``order``, so the project's decoder reads the
bytes without a registry. The registry tests use a real client over HTTP instead.
"""

import datetime
import json
import pathlib
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from connectors.avro_wire import read_header
from connectors.schema_catalogue import LocalSchemaCatalogue
from schemas import load_schema

UTC = datetime.timezone.utc
MILLIS = {'type': 'long', 'logicalType': 'timestamp-millis'}
MICROS = {'type': 'long', 'logicalType': 'timestamp-micros'}
NANOS = {'type': 'long', 'logicalType': 'timestamp-nanos'}
LOCAL_MILLIS = {'type': 'long', 'logicalType': 'local-timestamp-millis'}

SAMPLE_RECORD = {
    'order_id': 'ord-confluent-1',
    'customer_id': 'cus-0001',
    'product_id': 'prd-001',
    'quantity': 2,
    'price': 10.5,
    'currency': 'EUR',
    'card_id': 'card-0001',
    'lat': 52.52,
    'lon': 13.405,
    'tax': 1.25,
    'version': 2,
}
"""An order's fields but its timestamp, as a Confluent producer's dict."""


def order_schema(
    timestamp_type: Any, name: str = 'Order', namespace: str = 'com.example.shop'
) -> dict[str, Any]:
    """order.v2.avsc as another producer would declare it: its own namespace, and the
    timestamp typed as ``timestamp_type`` (e.g. ``MILLIS``)."""
    schema = load_schema('order.v2.avsc')
    schema.update(name=name, namespace=namespace)
    for field in schema['fields']:
        if field['name'] == 'timestamp':
            field['type'] = timestamp_type
    return schema


def mock_registry() -> SchemaRegistryClient:
    """confluent-kafka's in-memory registry client (nothing listens anywhere)."""
    return SchemaRegistryClient.new_client({'url': 'mock://goldstream-tests'})


def serialize(
    schema: dict[str, Any], timestamp: Any, registry: SchemaRegistryClient, topic: str = 'orders'
) -> bytes:
    """SAMPLE_RECORD with ``timestamp``, as Confluent's AvroSerializer writes it for a value
    of ``topic`` (subject ``<topic>-value``, the schema registered on first use)."""
    serializer = AvroSerializer(registry, json.dumps(schema))
    record = {**SAMPLE_RECORD, 'timestamp': timestamp}
    return serializer(record, SerializationContext(topic, MessageField.VALUE))


def catalogue_for(raw: bytes, schema: dict[str, Any], folder: pathlib.Path) -> LocalSchemaCatalogue:
    """A local catalogue in ``folder`` that knows ``raw``'s schema id as subject ``order``."""
    (folder / 'producer_order.avsc').write_text(json.dumps(schema), encoding='utf-8')
    entries = [
        {'subject': 'order', 'version': 1, 'id': read_header(raw), 'file': 'producer_order.avsc'}
    ]
    (folder / 'catalogue.json').write_text(json.dumps(entries), encoding='utf-8')
    return LocalSchemaCatalogue(folder / 'catalogue.json')
