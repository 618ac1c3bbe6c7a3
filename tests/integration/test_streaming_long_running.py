"""A streaming job left running is still running, and still emitting, after six minutes:
no job-service deadline ends it (Beam's default ended unbounded runs after 5 min 04 s)."""

import time

import pytest

from pipelines.generator.config import TrafficConfig

MIN_AGE_S = 6 * 60 + 10
CATCH_UP_S = 180
BURST = TrafficConfig(
    count=600,
    seed=99,
    events_per_second=100,
    fraud_scenarios=1,
    late_orders=0,
    too_late_orders=0,
    card_prefix='burst',
)


@pytest.mark.long_running
def test_a_job_left_running_past_six_minutes_still_runs_and_emits(background_job):
    run = background_job.run
    deadline = time.monotonic() + MIN_AGE_S + 60
    run.poll(
        lambda: background_job.age_s >= MIN_AGE_S, MIN_AGE_S + 60, 'the job did not reach its age'
    )  # raises at once if the job ends meanwhile
    assert time.monotonic() < deadline
    assert background_job.feeder_failure() is None, background_job.feeder_failure()
    assert background_job.orders_produced() > 0
    # Keeping up with the trickle, apart from liveness: a job that fell behind while the
    # suite took the CPU would delay the burst's alerts behind its backlog.
    run.wait_until_caught_up(CATCH_UP_S)
    metrics_before = len(run.read('metrics'))

    plan, _ = run.produce(BURST, rate=200)
    expected = {alert.alert_id for alert in plan.ground_truth.alerts}
    assert expected
    alerts = run.wait_for_alerts(expected, timeout_s=120)
    assert expected <= set(alerts), (
        f'the job stopped raising alerts ({run.progress()}):\n{run.log_tail()}'
    )
    run.poll(
        lambda: len(run.read('metrics')) > metrics_before, 60, 'the job stopped emitting metrics'
    )
    assert run.running()
