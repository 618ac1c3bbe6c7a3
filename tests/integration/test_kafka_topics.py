"""connectors.kafka_topics against the real broker: end and committed offsets."""

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from connectors.kafka_topics import committed_offsets, end_offsets, ensure_topics


def test_committed_offsets_are_the_groups_per_partition_and_absent_where_it_never_committed(
    kafka_bootstrap, topic_name
):
    ensure_topics(kafka_bootstrap, {topic_name: 2})
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks='all')
    for _ in range(5):
        producer.send(topic_name, value=b'x', partition=0)
    producer.flush()
    producer.close()
    group = f'{topic_name}.group'
    assert committed_offsets(kafka_bootstrap, group, topic_name) == {}

    committer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    committer.commit({TopicPartition(topic_name, 0): OffsetAndMetadata(3, '', -1)})
    committer.close()

    assert end_offsets(kafka_bootstrap, topic_name) == {0: 5, 1: 0}
    assert committed_offsets(kafka_bootstrap, group, topic_name) == {0: 3}
    assert committed_offsets(kafka_bootstrap, group, 'another.topic') == {}
