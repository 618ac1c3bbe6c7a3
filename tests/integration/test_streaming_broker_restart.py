"""The unbounded pipeline outlives a broker restart: stopped and started while traffic flows,
the job keeps running, every partition is read to its end, every ground-truth alert arrives,
and every order is archived or dead-lettered. On a broker of the test's own, so the suite's
broker is never disturbed."""

from typing import Set

from pipelines.generator.config import TrafficConfig
from pipelines.local.harness import read_archive
from pipelines.local.live_run import LiveRun
from tests.integration.local_scripts import run_script

BEFORE = TrafficConfig(
    count=1_500,
    seed=31,
    events_per_second=300,
    fraud_scenarios=1,
    late_orders=0,
    too_late_orders=0,
    card_prefix='before',
)
AFTER = TrafficConfig(
    count=1_500,
    seed=32,
    events_per_second=300,
    fraud_scenarios=1,
    late_orders=0,
    too_late_orders=0,
    card_prefix='after',
)
DEADLINE_S = 180


def test_a_broker_restart_loses_nothing_and_the_job_goes_on(own_broker, tmp_path):
    env, bootstrap = own_broker
    run = LiveRun.start(
        bootstrap, tmp_path / 'run', ['--runner=DirectRunner', '--archive_flush_s=2']
    )
    try:
        before, _ = run.produce(BEFORE, rate=300)
        stopped = run_script(env, 'broker', 'stop')
        assert stopped.returncode == 0, stopped.stderr
        started = run_script(env, 'broker', 'start')
        assert started.returncode == 0, started.stderr
        after, _ = run.produce(AFTER, rate=300)

        expected = {a.alert_id for plan in (before, after) for a in plan.ground_truth.alerts}
        alerts = run.wait_for_alerts(expected, DEADLINE_S)
        assert expected <= set(alerts), (
            f'alerts missing after the restart ({run.progress()}):\n{run.log_tail()}'
        )
        run.wait_until_caught_up(DEADLINE_S)

        dead_letters = sum(p.ground_truth.dead_letters.total for p in (before, after))
        run.poll(
            lambda: len(dead_lettered(run)) >= dead_letters + 1,
            DEADLINE_S,
            'the dead letters did not all arrive',
        )  # + 1: LiveRun's start-up probe
        assert len(dead_lettered(run)) == dead_letters + 1
        valid = {r.order_id for p in (before, after) for r in p.records if r.dead_letter is None}
        run.poll(
            lambda: valid <= archived_order_ids(run), DEADLINE_S, 'the orders were not all archived'
        )
        assert run.running()
    finally:
        run.stop()


def dead_lettered(run: LiveRun) -> Set[tuple]:
    """The (partition, offset) of each record on the dead-letter topic's dead letters."""
    return {(d.value['partition'], d.value['offset']) for d in run.read('dlq')}


def archived_order_ids(run: LiveRun) -> Set[str]:
    return {order['order_id'] for order in read_archive(run.folder / 'archive', 'orders')}
