"""With one partition idle, event-time windows downstream of ReadFromKafka still fire."""

import collections
import json

import apache_beam as beam
from apache_beam.transforms import window
from kafka import KafkaProducer

from connectors.kafka_read import ReadFromKafka
from connectors.kafka_topics import ensure_topics
from connectors.kafka_write import WriteToKafka
from tests.integration.kafka_polling import poll_topic_until
from tests.integration.pipeline_runners import options_for
from tests.integration.test_kafka_unbounded_restart import stop

WINDOW_S = 10
BASE_MS = 1_790_000_000_000  # a whole multiple of the window size
RECORDS_PER_WINDOW = {0: 3, 1: 5, 2: 4}  # window index -> records, spread over partitions 0, 1


def produce_into_two_of_three_partitions(bootstrap, topic):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all')
    sent = 0
    for index, count in RECORDS_PER_WINDOW.items():
        for n in range(count):
            producer.send(
                topic,
                value=b'x',
                partition=sent % 2,
                timestamp_ms=BASE_MS + index * WINDOW_S * 1000 + n * 100,
            )
            sent += 1
    producer.flush()
    producer.close()


def window_count_json(element, win=beam.DoFn.WindowParam):
    return json.dumps({'window_start_ms': int(win.start.micros // 1000), 'count': element}).encode()


def test_idle_partition_does_not_hold_back_fixed_windows(kafka_bootstrap, topic_name):
    source, sink = f'{topic_name}.in', f'{topic_name}.out'
    ensure_topics(kafka_bootstrap, {source: 3, sink: 1})
    produce_into_two_of_three_partitions(kafka_bootstrap, source)

    pipeline = beam.Pipeline(options=options_for('PrismRunner', '--streaming'))
    _ = (
        pipeline
        | 'ReadRecords'
        >> ReadFromKafka(
            kafka_bootstrap,
            [source],
            start_from='earliest',
            commit_offsets=False,
            max_out_of_orderness_s=0,
            idle_timeout_s=2.0,
        )
        | 'FixedWindows' >> beam.WindowInto(window.FixedWindows(WINDOW_S))
        | 'CountPerWindow'
        >> beam.CombineGlobally(beam.combiners.CountCombineFn()).without_defaults()
        | 'ToJson' >> beam.Map(window_count_json)
        | 'WriteCounts' >> WriteToKafka(kafka_bootstrap, sink, value_fn=bytes)
    )
    job = pipeline.run()
    try:
        expected = {BASE_MS + i * WINDOW_S * 1000: n for i, n in RECORDS_PER_WINDOW.items()}

        def all_windows_fired(records):
            fired = {json.loads(v)['window_start_ms']: json.loads(v)['count'] for _, v in records}
            return set(expected) <= set(fired)

        records = poll_topic_until(kafka_bootstrap, sink, all_windows_fired, timeout_s=90)
    finally:
        stop(job)
    fired = collections.defaultdict(list)
    for _, value in records:
        row = json.loads(value)
        fired[row['window_start_ms']].append(row['count'])
    assert {start: counts[-1] for start, counts in fired.items()} == expected
