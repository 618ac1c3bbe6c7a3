"""The run-and-verify harness: topic names, read-back on fakes and files, and `compare` on
hand-made outputs that agree with a plan's ground truth, or differ in one known way."""

import dataclasses
import json
import pathlib

import apache_beam as beam
import fastavro
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import plan_traffic
from pipelines.local import harness
from pipelines.streaming import pipeline as streaming
from pipelines.streaming.options import StreamingOptions
from tests.pipelines.conftest import PLAN_NOW_MS

ORDER_SCHEMA = fastavro.parse_schema(
    {'type': 'record', 'name': 'Row', 'fields': [{'name': 'order_id', 'type': 'string'}]}
)


@pytest.fixture(scope='module')
def truth():
    truth = plan_traffic(TrafficConfig(count=800, seed=3), now_ms=PLAN_NOW_MS).ground_truth
    assert truth.alerts and truth.metrics and truth.dead_letters.total  # every check has work
    return truth


def agreeing_outputs(truth) -> harness.Outputs:
    """Outputs exactly as the ground truth says a bounded run writes them."""
    alerts = [
        {
            'alert_id': a.alert_id,
            'rule': a.rule,
            'card_id': a.card_id,
            'order_ids': list(a.order_ids),
        }
        for a in truth.alerts
    ]
    metrics = [
        {
            'window_start': m.window_start_ms,
            'product_id': m.product_id,
            'orders': m.orders,
            'units': m.units,
            'revenue': m.revenue,
            'pane': 'ON_TIME',
        }
        for m in truth.metrics
    ]
    dead_letters = [
        dict(zip(('stage', 'reason'), reason.split('/', 1)))
        for reason, count in truth.dead_letters.by_reason.items()
        for _ in range(count)
    ]
    orders = [{'order_id': f'order-{n}'} for n in range(truth.orders.valid)]
    archived_dead = [{'raw': b''} for _ in range(truth.orders.total - truth.orders.valid)]
    return harness.Outputs(alerts, metrics, dead_letters, orders, archived_dead)


def test_outputs_that_match_the_ground_truth_agree(truth):
    verdict = harness.compare(truth, agreeing_outputs(truth))
    assert verdict.ok and verdict.problems() == []
    assert verdict.alerts_expected == len(truth.alerts) and verdict.alert_repeats == 0
    assert verdict.balanced and verdict.records_in == truth.orders.total


def test_a_missing_alert_is_named(truth):
    outputs = agreeing_outputs(truth)
    lost = outputs.alerts.pop(0)
    verdict = harness.compare(truth, outputs)
    assert not verdict.ok and not verdict.alerts_agree
    assert verdict.missing_alerts == (lost['alert_id'],)
    assert verdict.unexpected_alerts == ()
    assert verdict.problems() == [
        f'alert ids {len(truth.alerts) - 1} of {len(truth.alerts)}, '
        f'0 unexpected; missing {lost["alert_id"]}'
    ]


def test_an_unexpected_alert_is_named(truth):
    outputs = agreeing_outputs(truth)
    outputs.alerts.append(
        {'alert_id': 'stray', 'rule': 'VELOCITY', 'card_id': 'c-0', 'order_ids': ['o-1']}
    )
    verdict = harness.compare(truth, outputs)
    assert verdict.unexpected_alerts == ('stray',) and verdict.missing_alerts == ()
    assert not verdict.ok


def test_an_alert_with_the_right_id_about_other_orders_differs(truth):
    outputs = agreeing_outputs(truth)
    outputs.alerts[0] = dict(outputs.alerts[0], order_ids=['someone-else'])
    verdict = harness.compare(truth, outputs)
    assert verdict.missing_alerts == (truth.alerts[0].alert_id,)
    assert verdict.unexpected_alerts == (truth.alerts[0].alert_id,)


def test_a_repeated_alert_is_at_least_once_not_a_difference(truth):
    outputs = agreeing_outputs(truth)
    outputs.alerts.extend(outputs.alerts[:2])
    verdict = harness.compare(truth, outputs)
    assert verdict.ok and verdict.alert_repeats == 2


def test_a_lost_record_breaks_the_balance(truth):
    outputs = agreeing_outputs(truth)
    outputs.archived_orders.pop()
    verdict = harness.compare(truth, outputs)
    assert not verdict.balanced and not verdict.ok
    assert verdict.problems() == [
        f'archive: {truth.orders.total - 1} records of {truth.orders.total}, '
        f'{truth.orders.valid - 1} distinct orders of {truth.orders.valid}'
    ]


def test_a_duplicated_order_in_place_of_another_keeps_the_balance_but_differs(truth):
    outputs = agreeing_outputs(truth)
    outputs.archived_orders[-1] = outputs.archived_orders[0]
    verdict = harness.compare(truth, outputs)
    assert verdict.balanced  # as many records as went in...
    assert not verdict.archive_agrees  # ...but one order twice and one never
    assert verdict.distinct_archived_orders == truth.orders.valid - 1


def test_an_archived_duplicate_is_more_records_than_went_in(truth):
    outputs = agreeing_outputs(truth)
    outputs.archived_dead_letters.append(outputs.archived_dead_letters[0])
    verdict = harness.compare(truth, outputs)
    assert not verdict.balanced and verdict.dead_letters_agree


def test_a_dead_letter_under_another_reason_differs(truth):
    outputs = agreeing_outputs(truth)
    outputs.dead_letters[0] = {'stage': 'validate', 'reason': 'SOMETHING_ELSE'}
    verdict = harness.compare(truth, outputs)
    assert not verdict.dead_letters_agree
    total = truth.dead_letters.total
    assert verdict.problems() == [f'dead letters {total} of {total} (or other reasons)']


def test_metric_rows_that_differ_or_are_unexpected_are_counted(truth):
    outputs = agreeing_outputs(truth)
    outputs.metrics[0] = dict(outputs.metrics[0], orders=outputs.metrics[0]['orders'] + 1)
    outputs.metrics.append(dict(outputs.metrics[1], product_id='no-such-product'))
    outputs.metrics.append(dict(outputs.metrics[2], pane='LATE', orders=999))  # not ON_TIME
    verdict = harness.compare(truth, outputs)
    assert (verdict.metric_rows_differing, verdict.metric_rows_unexpected) == (1, 1)
    assert verdict.problems() == [
        f'metrics: 1 of {len(truth.metrics)} window/product rows differ, 1 unexpected'
    ]


def test_topic_names_and_pipeline_options():
    topics = harness.Topics.with_prefix('t.x', orders='shared.orders')
    assert topics.names() == ('shared.orders', 't.x.alerts', 't.x.metrics', 't.x.dlq')
    assert topics.pipeline_args() == [
        '--orders_topic=shared.orders',
        '--alerts_topic=t.x.alerts',
        '--metrics_topic=t.x.metrics',
        '--dead_letter_topic=t.x.dlq',
    ]
    first, second = harness.Topics.fresh('bench'), harness.Topics.fresh('bench')
    assert first.orders.startswith('bench.') and first.orders.endswith('.orders')
    assert set(first.names()).isdisjoint(second.names())


def test_a_run_names_its_topics_folders_and_group_and_extra_options_come_last(tmp_path):
    plan = plan_traffic(TrafficConfig(count=300, seed=1), now_ms=PLAN_NOW_MS)
    run = harness.StreamingRun(
        'host:1', harness.Topics.with_prefix('p.q'), tmp_path / 'ref', tmp_path / 'archive', plan
    )
    assert run.prefix == 'p.q' and run.truth is plan.ground_truth
    args = run.args('--bounded')
    assert args[0] == '--brokers=host:1' and args[-1] == '--bounded'
    assert '--consumer_group=p.q.group' in args
    assert f'--archive_path={tmp_path / "archive"}' in args
    options = streaming.pipeline_options(args)
    assert options.view_as(StreamingOptions).dead_letter_topic == 'p.q.dlq'


def write_avro(path: pathlib.Path, ids) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'wb') as handle:
        fastavro.writer(handle, ORDER_SCHEMA, [{'order_id': i} for i in ids])


def test_read_archive_reads_every_closed_file_of_a_dataset(tmp_path):
    write_avro(tmp_path / '2026' / '11' / 'orders-b.avro', ['3'])
    write_avro(tmp_path / '2026' / '10' / 'orders-a.avro', ['1', '2'])
    write_avro(tmp_path / '2026' / '10' / 'deadletters-a.avro', ['dead'])
    write_avro(tmp_path / '2026' / '10' / '.temp-orders-c.avro.tmp', ['open'])
    orders = harness.read_archive(tmp_path, streaming.ORDERS_DATASET)
    assert sorted(o['order_id'] for o in orders) == ['1', '2', '3']
    assert harness.read_archive(tmp_path / 'nothing-here', 'orders') == []


def test_read_outputs_reads_each_topic_from_its_start_offsets_and_the_archive(
    tmp_path, monkeypatch
):
    topics = harness.Topics.with_prefix('r')
    values = {
        topics.alerts: [{'alert_id': 'a'}],
        topics.metrics: [{'pane': 'ON_TIME'}],
        topics.dlq: [{'reason': 'EMPTY'}, {'reason': 'EMPTY'}],
    }
    reads = []

    def fake_end_offsets(bootstrap, topic, security=None):
        return {0: len(values[topic])}

    def fake_read_range(bootstrap, topic, start, end, security=None):
        reads.append((topic, dict(start), dict(end)))
        return [(None, json.dumps(v).encode()) for v in values[topic][start.get(0, 0) : end[0]]]

    monkeypatch.setattr(harness, 'end_offsets', fake_end_offsets)
    monkeypatch.setattr(harness, 'read_range', fake_read_range)
    write_avro(tmp_path / 'orders-x.avro', ['o1'])

    outputs = harness.read_outputs('host:1', topics, tmp_path, since={'dlq': {0: 1}})
    assert outputs.alerts == [{'alert_id': 'a'}]
    assert outputs.metrics == [{'pane': 'ON_TIME'}]
    assert outputs.dead_letters == [{'reason': 'EMPTY'}]  # the one after offset 1
    assert outputs.archived_orders == [{'order_id': 'o1'}]
    assert outputs.archived_dead_letters == []
    assert (topics.dlq, {0: 1}, {0: 2}) in reads and (topics.alerts, {}, {0: 1}) in reads


def test_run_bounded_runs_a_pipeline_to_its_end(tmp_path):
    out = tmp_path / 'out'

    class Tiny:
        pipeline_options = staticmethod(PipelineOptions)

        @staticmethod
        def build(pipeline, options):
            _ = (
                pipeline
                | beam.Create(['a', 'b'])
                | beam.io.WriteToText(str(out), shard_name_template='')
            )

    seconds = harness.run_bounded(['--runner=BundleBasedDirectRunner'], module=Tiny)
    assert seconds > 0
    assert sorted(out.read_text().split()) == ['a', 'b']


def test_a_verdict_is_a_value():
    with pytest.raises(dataclasses.FrozenInstanceError):
        harness.Verdict(0, (), (), 0, 0, 0, 0, {}, {}, 0, 0, 0, 0, 0).records_in = 1


def test_read_archive_starts_again_when_a_file_vanishes_while_listed(tmp_path, monkeypatch):
    write_avro(tmp_path / 'orders-a.avro', ['1'])
    listings = []
    real_rglob = pathlib.Path.rglob

    def rglob_with_a_ghost_once(self, pattern):
        listings.append(pattern)
        found = list(real_rglob(self, pattern))
        return found + [tmp_path / 'orders-renamed-away.avro'] if len(listings) == 1 else found

    monkeypatch.setattr(pathlib.Path, 'rglob', rglob_with_a_ghost_once)
    assert harness.read_archive(tmp_path, 'orders') == [{'order_id': '1'}]
    assert len(listings) == 2


def test_read_archive_gives_up_on_an_archive_that_keeps_changing(tmp_path, monkeypatch):
    monkeypatch.setattr(
        pathlib.Path, 'rglob', lambda self, pattern: [tmp_path / 'orders-gone.avro']
    )
    with pytest.raises(RuntimeError, match='kept changing'):
        harness.read_archive(tmp_path, 'orders')


def test_a_problem_line_names_at_most_three_ids(truth):
    outputs = agreeing_outputs(truth)
    del outputs.alerts[:5]
    verdict = harness.compare(truth, outputs)
    assert len(verdict.missing_alerts) == 5
    [problem] = verdict.problems()
    assert problem.endswith('...')
    assert sum(alert_id in problem for alert_id in verdict.missing_alerts) == 3
