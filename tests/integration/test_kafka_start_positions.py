"""Where a read starts and stops: committed, earliest, latest, timestamps, end at start."""

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from connectors.kafka_config import KafkaConnection
from connectors.kafka_partitions import plan_partition_reads
from tests.integration.kafka_records import produce_to_partition

BASE_MS = 1_780_000_000_000


def produce_one_partition(bootstrap, topic, count):
    values = [b'%d' % n for n in range(count)]
    produce_to_partition(
        bootstrap, topic, 0, values, timestamps_ms=[BASE_MS + n * 1000 for n in range(count)]
    )


def plan(bootstrap, topic, **kwargs):
    arguments = {'group_id': None, 'start_from': 'earliest', 'stop_at': 'end'}
    arguments.update(kwargs)
    reads = plan_partition_reads(KafkaConnection.of(bootstrap), [topic], **arguments)
    return {read.partition: (read.start_offset, read.stop_offset) for read in reads}


def test_start_and_stop_positions(kafka_bootstrap, topic_name):
    from connectors.kafka_topics import ensure_topics

    ensure_topics(kafka_bootstrap, {topic_name: 2})
    produce_one_partition(kafka_bootstrap, topic_name, 10)

    assert plan(kafka_bootstrap, topic_name) == {0: (0, 10), 1: (0, 0)}
    assert plan(kafka_bootstrap, topic_name, start_from='latest', stop_at=None) == {
        0: (10, None),
        1: (0, None),
    }
    assert plan(
        kafka_bootstrap, topic_name, start_from=BASE_MS + 3_000, stop_at=BASE_MS + 7_000
    ) == {0: (3, 7), 1: (0, 0)}
    assert plan(kafka_bootstrap, topic_name, start_from=BASE_MS + 99_000) == {
        0: (10, 10),
        1: (0, 0),
    }

    group = f'{topic_name}.group'
    committer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    committer.commit({TopicPartition(topic_name, 0): OffsetAndMetadata(6, '', -1)})
    committer.close()
    assert plan(
        kafka_bootstrap,
        topic_name,
        group_id=group,
        start_from='committed',
        committed_fallback='latest',
        stop_at=None,
    ) == {0: (6, None), 1: (0, None)}
