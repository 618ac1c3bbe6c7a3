"""ReadFromKafka (bounded) -> WriteToKafka copies a topic exactly, on every runner."""

import collections

import apache_beam as beam
import pytest

from connectors.kafka_read import ReadFromKafka
from connectors.kafka_topics import end_offsets, ensure_topics
from connectors.kafka_write import WriteToKafka
from pipelines.generator.cli import generate_orders, produce_orders, read_range
from tests.integration.pipeline_runners import RUNNERS, options_for

RECORDS = 20_000


def record_value(record):
    return record.value


def record_key(record):
    return record.key


@pytest.mark.parametrize('runner', RUNNERS)
def test_bounded_copy_holds_exactly_the_same_records(runner, kafka_bootstrap, topic_name):
    source, sink = f'{topic_name}.in', f'{topic_name}.out'
    ensure_topics(kafka_bootstrap, {source: 3, sink: 3})
    produce_orders(kafka_bootstrap, source, list(generate_orders(RECORDS, seed=21)))

    with beam.Pipeline(options=options_for(runner)) as pipeline:
        _ = (
            pipeline
            | 'ReadOrders'
            >> ReadFromKafka(
                kafka_bootstrap, [source], group_id=source, start_from='earliest', stop_at='end'
            )
            | 'WriteCopies'
            >> WriteToKafka(kafka_bootstrap, sink, value_fn=record_value, key_fn=record_key)
        )

    produced = read_range(kafka_bootstrap, source, {}, end_offsets(kafka_bootstrap, source))
    copied = read_range(kafka_bootstrap, sink, {}, end_offsets(kafka_bootstrap, sink))
    assert len(produced) == RECORDS
    assert collections.Counter(copied) == collections.Counter(produced)
