"""What a live run must show: every ground-truth alert while traffic flows, EARLY panes on
time, every kind of dead letter, and a clean stop. Shared by the live tests of each runner."""

import pathlib
from typing import Sequence

from pipelines.generator.config import TrafficConfig
from pipelines.local.live_run import LiveRun

EARLY_FIRING_S = 5
EARLY_PANE_SLACK_S = 15  # start-up of the first bundles on a loaded 2-core machine
ALERT_DEADLINE_S = 120
# Scenario orders are sent up to 3 s late (the generator's out_of_order_max_ms), inside the
# source's 5 s out-of-orderness bound: arrival is shuffled the way the design allows.
LIVE_TRAFFIC = TrafficConfig(
    count=3_000, seed=17, events_per_second=300, fraud_scenarios=3, late_orders=2, too_late_orders=0
)
RATE = 300  # orders/s: event time moves with the wall clock


def check_live_run(
    bootstrap: str,
    folder: pathlib.Path,
    runner_args: Sequence[str],
    alert_deadline_s: float = ALERT_DEADLINE_S,
    quiet_stop: bool = True,
) -> None:
    """Runs LIVE_TRAFFIC through a live job and checks what it must show.

    `quiet_stop=False` skips the check that nothing after "stopping the job" is a traceback:
    on a session cluster, the Flink job server echoes task failures the cluster reports
    while the job is cancelled, which this process does not control.
    """
    run = LiveRun.start(
        bootstrap,
        folder,
        [*runner_args, f'--early_firing_s={EARLY_FIRING_S}', '--archive_flush_s=5'],
    )
    try:
        plan, report = run.produce(LIVE_TRAFFIC, RATE)
        truth = plan.ground_truth
        expected = {alert.alert_id for alert in truth.alerts}
        assert expected, 'the traffic must hold fraud'
        alerts = run.wait_for_alerts(expected, timeout_s=alert_deadline_s)
        assert expected <= set(alerts), (
            f'{len(expected - set(alerts))} of {len(expected)} alerts missing after '
            f'{alert_deadline_s} s:\n{run.log_tail()}'
        )
        # Shuffled arrival may add alerts on orders that were neighbours when checked
        # (docs/fraud.md), but only on the scenarios' cards: background cards never alert.
        fraud_cards = {alert.card_id for alert in truth.alerts}
        stray = {
            a: r.value['card_id']
            for a, r in alerts.items()
            if a not in expected and r.value['card_id'] not in fraud_cards
        }
        assert not stray, f'alerts on cards without fraud: {stray}'

        first_sent_ms = min(report.produced_at_ms)
        early = [r for r in run.read('metrics') if r.value['pane'] == 'EARLY']
        assert early, 'no EARLY pane'
        first_early_s = (min(r.timestamp_ms for r in early) - first_sent_ms) / 1000
        assert first_early_s <= EARLY_FIRING_S + EARLY_PANE_SLACK_S, first_early_s

        reasons = set(truth.dead_letters.by_reason)
        run.poll(
            lambda: reasons <= {f'{d.value["stage"]}/{d.value["reason"]}' for d in run.read('dlq')},
            60,
            'not every kind of dead letter arrived',
        )
        assert run.running(), 'the job must still run'
    finally:
        code = run.stop()
    assert code == 130, (
        f'Ctrl-C must stop the job cleanly (exit 130), got {code}:\n{run.log_tail()}'
    )
    if quiet_stop:
        assert (
            'Traceback'
            not in run.log_path.read_text(errors='replace').split('goldstream: stopping the job')[
                -1
            ]
        ), 'the stop printed a traceback'
