"""An unbounded copy on Prism, cancelled and restarted with the same group, loses nothing.

Offsets are committed only in bundle finalization, so the restarted job resumes where the
last finalized bundle ended: nothing may be lost; records after the last commit may be copied
twice. The first job is cancelled once its commits cover the first batch, so a restart that
resumed from the committed offsets copies nothing twice, and one that read the topic again
from its start copies the whole first batch twice.
"""

import collections
import json
import time

import apache_beam as beam
from apache_beam.runners.runner import PipelineState

from connectors.kafka_read import ReadFromKafka
from connectors.kafka_topics import committed_offsets, end_offsets, ensure_topics
from connectors.kafka_write import WriteToKafka
from connectors.order_codec import encode_order_json
from pipelines.generator.cli import generate_orders, produce_orders
from tests.integration.kafka_polling import poll_topic_until
from tests.integration.pipeline_runners import options_for
from tests.integration.test_kafka_io_runners import record_key, record_value

FIRST_BATCH = 3_000
SECOND_BATCH = 2_000
CANCEL_TIMEOUT_S = 60
COMMIT_TIMEOUT_S = 60


def start_copy_job(bootstrap, source, sink, group):
    pipeline = beam.Pipeline(options=options_for('PrismRunner', '--streaming'))
    _ = (
        pipeline
        | 'ReadOrders'
        >> ReadFromKafka(
            bootstrap, [source], group_id=group, start_from='committed', idle_timeout_s=2.0
        )
        | 'WriteCopies' >> WriteToKafka(bootstrap, sink, value_fn=record_value, key_fn=record_key)
    )
    return pipeline.run()


def stop(result):
    """Cancels a running job and waits (bounded) until the runner says it is cancelled."""
    result.cancel()
    try:
        result.wait_until_finish(duration=CANCEL_TIMEOUT_S * 1000)
    except RuntimeError:
        pass  # a cancelled portable job reports itself as failed in state CANCELLED
    assert result.state in (PipelineState.CANCELLED, PipelineState.DONE), result.state


def wait_for_commits(bootstrap, group, topic):
    """Polls (with a deadline) until `group` has committed every record of `topic` so far."""
    ends = end_offsets(bootstrap, topic)
    deadline = time.monotonic() + COMMIT_TIMEOUT_S
    while (committed := committed_offsets(bootstrap, group, topic)) != ends:
        assert time.monotonic() < deadline, (
            f'{group}: committed {committed}, not the end offsets {ends}, '
            f'after {COMMIT_TIMEOUT_S} s'
        )
        time.sleep(0.2)  # the interval between two looks at the group's commits
    return committed


def values_include(expected):
    def done(records):
        return expected <= {value for _, value in records}

    return done


def test_restart_resumes_from_committed_offsets(
    kafka_bootstrap, topic_name, record_property, tmp_path
):
    source, sink, group = f'{topic_name}.in', f'{topic_name}.out', f'{topic_name}.group'
    ensure_topics(kafka_bootstrap, {source: 3, sink: 3})
    orders = list(generate_orders(FIRST_BATCH + SECOND_BATCH, seed=31))
    first, second = orders[:FIRST_BATCH], orders[FIRST_BATCH:]

    job = start_copy_job(kafka_bootstrap, source, sink, group)
    try:
        produce_orders(kafka_bootstrap, source, first, fmt='json')
        first_values = {json_value(o) for o in first}
        poll_topic_until(kafka_bootstrap, sink, values_include(first_values))
        wait_for_commits(kafka_bootstrap, group, source)
    finally:
        stop(job)

    produce_orders(kafka_bootstrap, source, second, fmt='json')
    job = start_copy_job(kafka_bootstrap, source, sink, group)
    try:
        all_values = first_values | {json_value(o) for o in second}
        copied = poll_topic_until(kafka_bootstrap, sink, values_include(all_values))
    finally:
        stop(job)

    counts = collections.Counter(value for _, value in copied)
    lost = len(all_values - set(counts))
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    report = {
        'produced': len(orders),
        'copied': len(copied),
        'lost': lost,
        'duplicated': duplicated,
    }
    record_property('restart_report', report)
    (tmp_path / 'restart_report.json').write_text(json.dumps(report))
    print(f'\nunbounded restart on Prism: {report}')
    assert lost == 0
    assert set(counts) == all_values  # nothing that was not produced
    assert duplicated == 0  # the restart began at the committed offsets


def json_value(order):
    return encode_order_json(order)
