"""Nothing lost when the job is killed: `kill -9` of the pipeline and its runner mid-stream, a
restart with the same consumer group, then a broker stop and start under the restarted job
(docs/delivery.md, "Kill -9, measured").

Per runner, the generator produces a known plan at 300 orders/s; the job and every process
of its runner get SIGKILL once 40 % of it is sent and the archive holds some of it (a job
killed before it wrote anything cannot show what a restart does to what it wrote), and it is
started again on the same group, topics and archive folder while the plan goes on. Then every
record of the orders topic must be archived or dead-lettered (0 lost), every ground-truth
alert must be on the alerts topic, and an alert delivered twice must carry the same id both
times. Duplicates are allowed.

The job commits an offset only once its record's outputs are durable, and a restart reads
again the fraud look-back to rebuild the cards' histories (docs/delivery.md). Before that,
both runners lost records here ("Kill -9, measured").
"""

import pathlib

import pytest

from pipelines.faults.cycles import run_kill_cycles
from pipelines.faults.run import FaultRun
from pipelines.generator.config import TrafficConfig
from tests.integration.local_scripts import run_script

RUNNERS = {
    'DirectRunner': ['--runner=DirectRunner'],
    'FlinkRunner[local]': ['--runner=FlinkRunner', '--flink_master=[local]'],
}
RATE = 300  # orders/s; event time moves with the wall clock
KILL_PLAN = TrafficConfig(
    count=3_600,
    seed=41,
    events_per_second=RATE,
    fraud_scenarios=2,
    late_orders=0,
    too_late_orders=0,
    card_prefix='kill',
)
BROKER_PLAN = TrafficConfig(
    count=1_800,
    seed=61,
    events_per_second=RATE,
    fraud_scenarios=1,
    late_orders=0,
    too_late_orders=0,
    card_prefix='broker',
)
PIPELINE_ARGS = ['--archive_flush_s=2']
SETTLE_S = 90


def check_nothing_lost(run: FaultRun, broker_restart: bool) -> None:
    report = run_kill_cycles(
        run,
        KILL_PLAN,
        RATE,
        cycles=1,
        kill_at=0.4,
        broker_config=BROKER_PLAN if broker_restart else None,
        settle_s=SETTLE_S,
    )
    total = report.total
    print(report.as_dict())  # the counts, in the captured output of a failure
    assert report.cycles[0].killed >= 2, 'the job and its runner must both be killed'
    context = (
        f'{total.summary()}; archived at the kill but gone since: '
        f'{report.archive_gone}; group: {run.live.progress()}'
        + ('' if report.settled else '; the group never caught up')
    )
    assert total.lost == 0, f'records lost: {context}'
    assert total.alerts_missing == 0, f'alerts missing ({list(total.missing_alerts)}): {context}'
    assert total.alert_id_mismatches == 0, f'a repeated alert changed its id: {context}'
    assert run.live.running(), f'the job must still run:\n{run.live.log_tail()}'


@pytest.mark.parametrize('runner', RUNNERS)
def test_a_kill_9_then_a_broker_restart_loses_nothing(own_broker, tmp_path: pathlib.Path, runner):
    env, bootstrap = own_broker

    def broker(action: str) -> None:
        done = run_script(env, 'broker', action)
        assert done.returncode == 0, done.stderr

    run = FaultRun.start(
        bootstrap, tmp_path / 'run', [*RUNNERS[runner], *PIPELINE_ARGS], broker=broker
    )
    try:
        check_nothing_lost(run, broker_restart=True)
    finally:
        run.stop()
