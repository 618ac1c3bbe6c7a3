"""The generator's plan on the real broker: every record arrives as planned, with its headers."""

import collections
import time

from connectors.kafka_topics import end_offsets
from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import plan_traffic
from pipelines.generator.producer import produce_plan, read_range

PLAN = plan_traffic(TrafficConfig(count=1_500, seed=13), now_ms=1_795_600_000_000)


def test_a_plan_arrives_byte_for_byte_in_plan_order_per_partition_with_its_headers(
    kafka_bootstrap, topic_name
):
    before_ms = int(time.time() * 1000)
    report = produce_plan(kafka_bootstrap, topic_name, PLAN, partitions=3)
    after_ms = int(time.time() * 1000)
    ends = end_offsets(kafka_bootstrap, topic_name)
    records = read_range(kafka_bootstrap, topic_name, {}, ends, with_headers=True)

    assert report.sent == len(records) == 1_500 and len(ends) == 3
    planned = {r.gen_id: r for r in PLAN.records}
    position = {r.gen_id: p for p, r in enumerate(PLAN.records)}
    produced_at = dict(zip((r.gen_id for r in PLAN.records), report.produced_at_ms))
    seen_per_key = collections.defaultdict(list)
    for key, value, headers in records:
        headers = dict(headers)
        gen_id = headers['gen_id'].decode()
        assert (key, value) == (planned[gen_id].key, planned[gen_id].value)
        at_ms = int(headers['produced_at_ms'])
        assert at_ms == produced_at[gen_id] and before_ms <= at_ms <= after_ms
        seen_per_key[key].append(position[gen_id])
    assert all(seen == sorted(seen) for seen in seen_per_key.values())


def test_producing_at_a_rate_spreads_the_records_over_count_over_rate(kafka_bootstrap, topic_name):
    records = PLAN.records[:300]
    report = produce_plan(kafka_bootstrap, topic_name, records, rate=1_000.0, partitions=1)
    spread_ms = report.produced_at_ms[-1] - report.produced_at_ms[0]
    assert 290 <= spread_ms <= 400
    assert sum(end_offsets(kafka_bootstrap, topic_name).values()) == 300
