"""Kill/restart cycles on a `FaultRun`, and their typed report (tests and bench/faults.py).

run = FaultRun.start(bootstrap, folder, ['--runner=DirectRunner'])
report = run_kill_cycles(run, TrafficConfig(...), rate=300, cycles=2)
print(report.table())            # a row per cycle, and the total
run.stop()
"""

import dataclasses
import os
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

from pipelines.faults.run import FaultRun
from pipelines.faults.tally import DeliveryTally
from pipelines.generator.config import TrafficConfig
from pipelines.generator.producer import produce_plan

ARCHIVED_DEADLINE_S = 90.0


class CycleResult(NamedTuple):
    """One kill/restart cycle: the tally of its plan, and how the job came back.

    Attributes:
        cycle: 1, 2, ...
        tally: What became of this cycle's records and alerts, counted once the job had
            settled after the cycle's restart.
        recovery_s: Seconds from the restart's launch to its first new output or commit.
        killed: How many processes the kill ended (the job and its runner's).
        sent_at_kill: Records of this cycle's plan sent when the kill came.
        load: The machine's 1-minute load average when the cycle ended.
        lost_at_end: This cycle's records lost at the end of the whole run: later cycles
            can lose what this one had delivered (e.g. an archive file replaced).
        settled: Whether the job settled after this cycle (`FaultRun.settle`).
    """

    cycle: int
    tally: DeliveryTally
    recovery_s: float
    killed: int
    sent_at_kill: int
    load: float
    lost_at_end: int
    settled: bool


_COLUMNS = (
    'cycle',
    'produced',
    'archived',
    'dead-lettered',
    'lost',
    'duplicated',
    'alerts delivered',
    'alert repeats',
    'recovery s',
    'lost at the end',
)


class FaultReport(NamedTuple):
    """What `run_kill_cycles` measured: per cycle, and over the whole run.

    Attributes:
        cycles: One result per kill/restart cycle.
        broker_restart: The tally of the plan produced around a broker restart, if any.
        total: Every record of the orders topic and every plan's alerts, at the end.
        archive_gone: Orders in the archive at some kill and missing at the end.
        settled: Whether the job settled after every cycle and the broker restart.
    """

    cycles: Tuple[CycleResult, ...]
    broker_restart: Optional[DeliveryTally]
    total: DeliveryTally
    archive_gone: int
    settled: bool

    # A class constant, not a field; mypy allows only fields in a NamedTuple's body.
    COLUMNS = _COLUMNS  # type: ignore[misc]

    def table(self) -> List[List[object]]:
        """Rows under `COLUMNS`: one per cycle (counted when it settled), the broker
        restart, and the total (at the end)."""

        def row(name, counts: DeliveryTally, recovery, lost_at_end) -> List[object]:
            return [
                name,
                counts.produced,
                counts.archived,
                counts.dead_lettered,
                counts.lost,
                counts.duplicated,
                f'{counts.alerts_delivered} of {counts.alerts_expected}',
                counts.alert_repeats,
                recovery,
                lost_at_end,
            ]

        rows = [row(c.cycle, c.tally, round(c.recovery_s, 1), c.lost_at_end) for c in self.cycles]
        if self.broker_restart is not None:
            rows.append(row('broker restart', self.broker_restart, '-', '-'))
        rows.append(row('total', self.total, '-', self.total.lost))
        return rows

    def as_dict(self) -> Dict[str, object]:
        return {
            'cycles': [
                {
                    'cycle': c.cycle,
                    'recovery_s': round(c.recovery_s, 2),
                    'killed_processes': c.killed,
                    'sent_at_kill': c.sent_at_kill,
                    'load': c.load,
                    'lost_at_end': c.lost_at_end,
                    'settled': c.settled,
                    **c.tally.as_dict(),
                }
                for c in self.cycles
            ],
            'broker_restart': (
                self.broker_restart.as_dict() if self.broker_restart is not None else None
            ),
            'total': self.total.as_dict(),
            'archive_gone': self.archive_gone,
            'settled': self.settled,
        }


def cycle_config(config: TrafficConfig, cycle: int) -> TrafficConfig:
    """`config` for cycle `cycle`: a seed and card prefix of its own."""
    return dataclasses.replace(
        config, seed=config.seed + cycle, card_prefix=f'{config.card_prefix}{cycle}'
    )


def run_kill_cycles(
    run: FaultRun,
    config: TrafficConfig,
    rate: float,
    cycles: int,
    kill_at: float = 0.4,
    broker_config: Optional[TrafficConfig] = None,
    settle_s: float = 120.0,
    log: Callable[[str], None] = lambda _: None,
) -> FaultReport:
    """Runs `cycles` kill/restart cycles on a started `run`, then counts.

    Each cycle produces a plan of `config` (its own seed and cards) at `rate`/s in the
    background, SIGKILLs the job once `kill_at` of it is sent and the archive holds some of
    it (so the killed job has made part of the plan durable), restarts it, waits for the
    plan to be sent and for the job to settle, and counts. With `broker_config`, a last plan
    is produced half before and half after a broker stop and start under the running job
    (the run needs its `broker` control).

    Returns:
        The report.
    """
    results = []
    for cycle in range(1, cycles + 1):
        production = run.produce_in_background(cycle_config(config, cycle), rate)
        production.wait_until_sent(
            kill_at * production.total, timeout_s=kill_at * production.total / rate + 60
        )
        if not run.wait_until_archived(production.plan, ARCHIVED_DEADLINE_S):
            log(f'cycle {cycle}: nothing of the plan archived after {ARCHIVED_DEADLINE_S} s')
        sent_at_kill = production.sent
        killed = run.kill()
        log(f'cycle {cycle}: killed {len(killed)} processes at {sent_at_kill} sent')
        recovery_s = run.restart()
        log(f'cycle {cycle}: restarted, first progress after {recovery_s:.1f} s')
        production.wait(timeout_s=production.total / rate + 120)
        settled = run.settle(settle_s)
        counts = run.tally(production.plan)
        results.append(
            (
                production.plan,
                CycleResult(
                    cycle,
                    counts,
                    recovery_s,
                    len(killed),
                    sent_at_kill,
                    round(os.getloadavg()[0], 1),
                    counts.lost,
                    settled,
                ),
            )
        )
        log(f'cycle {cycle}: {counts.summary()}' + ('' if settled else ' (not settled)'))
    broker_counts, broker_settled = None, True
    if broker_config is not None:
        broker_plan = run.plan(cycle_config(broker_config, cycles + 1))
        half = len(broker_plan.records) // 2
        topic = run.live.topic('orders')
        produce_plan(run.bootstrap, topic, broker_plan.records[:half], rate=rate)
        run.restart_broker()
        log('broker stopped and started')
        produce_plan(run.bootstrap, topic, broker_plan.records[half:], rate=rate)
        broker_settled = run.settle(settle_s)
        broker_counts = run.tally(broker_plan)
    return FaultReport(  # type: ignore[call-arg]  # mypy takes COLUMNS for a field
        cycles=tuple(result._replace(lost_at_end=run.tally(plan).lost) for plan, result in results),
        broker_restart=broker_counts,
        total=run.tally(),
        archive_gone=run.archive_gone(),
        settled=all(r.settled for _, r in results) and broker_settled,
    )
