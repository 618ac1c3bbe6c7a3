"""The streaming pipeline in bounded mode over generated traffic equals its ground truth."""
import collections

import apache_beam as beam
import pytest

from pipelines.generator.config import TrafficConfig
from pipelines.generator.ground_truth import dead_letter_reasons, on_time_panes
from pipelines.generator.producer import produce_plan
from pipelines.streaming import pipeline as streaming
from tests.integration.streaming_setup import (
    alert_keys,
    expected_alert_keys,
    prepare_run,
    read_archive,
    read_json_topic,
)

CONFIG = TrafficConfig(count=6_000, seed=7)


def run_bounded(run, runner, group_suffix=''):
    flink = ['--flink_master=[local]', '--parallelism=2'] if runner == 'FlinkRunner' else []
    options = streaming.pipeline_options(run.args(
        f'--runner={runner}', '--bounded', '--start_from=earliest',
        f'--consumer_group={run.prefix}.group{group_suffix}', *flink))
    with beam.Pipeline(options=options) as pipeline:
        streaming.build(pipeline, options)


@pytest.fixture
def produced_run(kafka_bootstrap, topic_name, tmp_path):
    run = prepare_run(kafka_bootstrap, topic_name, tmp_path, CONFIG)
    produce_plan(kafka_bootstrap, f'{run.prefix}.orders', run.plan)
    return run


def last_pane(metrics):
    latest = {}
    for row in sorted(metrics, key=lambda m: m['pane_index']):
        latest[(row['window_start'], row['product_id'])] = row
    return latest


@pytest.mark.parametrize('runner', ['DirectRunner', 'PrismRunner', 'FlinkRunner'])
def test_bounded_run_matches_the_ground_truth(produced_run, runner):
    run, truth = produced_run, produced_run.truth
    run_bounded(run, runner)

    alerts = read_json_topic(run, 'alerts')
    assert alert_keys(alerts) == expected_alert_keys(truth)
    assert {a['alert_id'] for a in alerts} == {a.alert_id for a in truth.alerts}
    duplicates = len(alerts) - len(truth.alerts)
    print(f'\n{runner}: {len(alerts)} alerts written, {duplicates} duplicates '
          f'(at least once: same id)')

    assert on_time_panes(read_json_topic(run, 'metrics')) == truth.window_totals()

    dead_letters = read_json_topic(run, 'dlq')
    by_reason = dead_letter_reasons(dead_letters)
    assert by_reason == collections.Counter(truth.dead_letters.by_reason)

    archived_orders = read_archive(run, streaming.ORDERS_DATASET)
    archived_dead_letters = read_archive(run, streaming.DEAD_LETTERS_DATASET)
    assert len(archived_orders) + len(archived_dead_letters) == truth.orders.total
    assert len({o['order_id'] for o in archived_orders}) == truth.orders.valid


def test_alert_ids_are_identical_across_two_runs(produced_run):
    run = produced_run
    run_bounded(run, 'PrismRunner', group_suffix='.first')
    first = read_json_topic(run, 'alerts')
    run_bounded(run, 'PrismRunner', group_suffix='.second')
    both = read_json_topic(run, 'alerts')
    ids_first = collections.Counter(a['alert_id'] for a in first)
    ids_both = collections.Counter(a['alert_id'] for a in both)
    assert len(ids_first) == len(run.truth.alerts)
    assert set(ids_both) == set(ids_first)  # the second run raised no id the first did not
    assert all(ids_both[i] > ids_first[i] for i in ids_first)  # and raised every one again
