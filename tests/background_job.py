"""A streaming job that runs beside the whole test suite, fed a trickle of live traffic.

`./run_local.sh test` checks at its end that a job started at its beginning is still running
and still emitting after more than six minutes (tests/integration/test_streaming_long_running.py),
without adding six minutes to the suite: the conftest starts the job when collection finds
that test, the test runs last.

The trickle comes from a process of its own (`python -m tests.background_job`), so nothing
it logs lands in the output that other tests capture.
"""

import dataclasses
import pathlib
import subprocess
import sys
import time
from typing import Optional

from connectors.kafka_topics import end_offsets
from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import plan_traffic
from pipelines.generator.producer import produce_plan
from pipelines.local.live_run import REPO_ROOT, LiveRun

TRICKLE = TrafficConfig(
    count=200, events_per_second=20, fraud_scenarios=0, late_orders=0, too_late_orders=0
)
TRICKLE_RATE = 20  # orders/s: little load beside the suite


class BackgroundJob:
    """The job, and the process that feeds it in chunks of 10 s of traffic."""

    def __init__(self, run: LiveRun) -> None:
        self.run = run
        self.started_at = time.monotonic()
        self._feeder_log = run.folder / 'feeder.log'
        with open(self._feeder_log, 'wb') as log:
            self._feeder = subprocess.Popen(
                [sys.executable, '-m', 'tests.background_job', run.bootstrap, run.topic('orders')],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @classmethod
    def start(cls, bootstrap: str, folder: pathlib.Path) -> 'BackgroundJob':
        # Longer read bundles than the default's 0.25 s: this job checks that a job lives,
        # not how fast it is, and each bundle costs the suite's CPU (at 0.25 s and 20
        # orders/s, the job and its Prism took three quarters of a core).
        return cls(
            LiveRun.start(
                bootstrap,
                folder,
                [
                    '--runner=DirectRunner',
                    '--early_firing_s=10',
                    '--max_read_time_s=2',
                    '--resume_delay_s=1',
                    '--archive_flush_s=60',
                ],
            )
        )

    @property
    def age_s(self) -> float:
        return time.monotonic() - self.started_at

    def orders_produced(self) -> int:
        return sum(end_offsets(self.run.bootstrap, self.run.topic('orders')).values())

    def feeder_failure(self) -> Optional[str]:
        """None while the feeder runs; else its exit code and the end of its log."""
        if self._feeder.poll() is None:
            return None
        return (
            f'the traffic feeder exited with {self._feeder.returncode}:\n'
            f'{self._feeder_log.read_text(errors="replace")[-2000:]}'
        )

    def stop(self) -> Optional[int]:
        self._feeder.terminate()
        try:
            self._feeder.wait(30)
        except subprocess.TimeoutExpired:
            self._feeder.kill()
        return self.run.stop()


def feed(bootstrap: str, topic: str) -> None:
    """Produces chunk after chunk, each with cards of its own, until terminated."""
    chunk = 0
    while True:
        config = dataclasses.replace(
            TRICKLE,
            seed=1000 + chunk,
            card_prefix=f'trickle{chunk}',
            start_ms=int(time.time() * 1000),
        )
        produce_plan(bootstrap, topic, plan_traffic(config), rate=TRICKLE_RATE)
        chunk += 1


if __name__ == '__main__':
    feed(sys.argv[1], sys.argv[2])
