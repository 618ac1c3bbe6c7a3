"""Orders produced to the real broker come back, decoded, exactly as they were produced."""

import collections

from connectors.kafka_topics import end_offsets, ensure_topics
from connectors.order_codec import decode_order
from pipelines.generator.cli import generate_orders, order_fingerprint, produce_orders, read_range

ORDER_COUNT = 10_000
PARTITIONS = 3


def test_json_and_avro_orders_round_trip_through_three_partitions(kafka_bootstrap, topic_name):
    ensure_topics(kafka_bootstrap, {topic_name: PARTITIONS})
    orders = list(generate_orders(ORDER_COUNT, seed=11))

    acknowledged = produce_orders(kafka_bootstrap, topic_name, orders, fmt='mixed')
    ends = end_offsets(kafka_bootstrap, topic_name)
    records = read_range(kafka_bootstrap, topic_name, start={}, end=ends)

    assert acknowledged == ORDER_COUNT
    assert sum(ends.values()) == ORDER_COUNT
    assert len(ends) == PARTITIONS and all(count > 0 for count in ends.values())
    formats = collections.Counter('avro' if value[0] == 0 else 'json' for _, value in records)
    assert formats == {'json': ORDER_COUNT // 2, 'avro': ORDER_COUNT // 2}
    decoded = collections.Counter(order_fingerprint(decode_order(value)) for _, value in records)
    assert decoded == collections.Counter(order_fingerprint(order) for order in orders)
    assert all(key == decode_order(value)['card_id'].encode() for key, value in records)
