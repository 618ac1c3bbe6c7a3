"""The streaming pipeline, unbounded on Prism, raises the injected fraud alerts while traffic
flows, malformed records of every kind included, and is then cancelled cleanly."""
import apache_beam as beam
from apache_beam.runners.runner import PipelineState

from pipelines import streaming
from pipelines.traffic_config import TrafficConfig
from pipelines.traffic_producer import produce_plan
from tests.integration.kafka_polling import poll_topic_until
from tests.integration.streaming_setup import expected_alert_keys, prepare_run

CONFIG = TrafficConfig(count=4_000, seed=11)
RATE = 1_000  # records/s, paced by the generator
CANCEL_TIMEOUT_S = 60


def test_alerts_appear_while_the_pipeline_runs(kafka_bootstrap, topic_name, tmp_path):
    import json
    run = prepare_run(kafka_bootstrap, topic_name, tmp_path, CONFIG)
    options = streaming.pipeline_options(run.args(
        '--runner=PrismRunner', '--idle_partition_timeout_s=2', '--early_firing_s=5',
        '--archive_flush_s=5'))
    pipeline = beam.Pipeline(options=options)
    streaming.build(pipeline, options)
    job = pipeline.run()
    try:
        produce_plan(kafka_bootstrap, f'{run.prefix}.orders', run.plan, rate=RATE)
        expected = expected_alert_keys(run.truth)

        def every_alert_seen(records):
            seen = {(a['rule'], a['card_id'], tuple(a['order_ids']))
                    for a in map(json.loads, (value for _, value in records))}
            assert seen <= expected, f'unexpected alerts: {seen - expected}'
            return seen == expected

        poll_topic_until(kafka_bootstrap, f'{run.prefix}.alerts', every_alert_seen,
                         timeout_s=120)
        dead_letter_reasons = set(run.truth.dead_letters.by_reason)

        def every_reason_seen(records):
            reasons = {f"{d['stage']}/{d['reason']}"
                       for d in map(json.loads, (value for _, value in records))}
            return reasons == dead_letter_reasons

        poll_topic_until(kafka_bootstrap, f'{run.prefix}.dlq', every_reason_seen, timeout_s=60)
        assert job.state == PipelineState.RUNNING  # nothing stopped it
    finally:
        job.cancel()
        try:
            job.wait_until_finish(duration=CANCEL_TIMEOUT_S * 1000)
        except RuntimeError:
            pass  # a cancelled portable job reports itself as failed in state CANCELLED
    assert job.state == PipelineState.CANCELLED
