"""A streaming job that runs beside the whole test suite, fed a trickle of live traffic.

`./run_local.sh test` checks at its end that a job started at its beginning is still running
and still emitting after more than six minutes (tests/integration/test_streaming_long_running.py),
without adding six minutes to the suite: the conftest starts the job when collection finds
that test, the test runs last.
"""
import dataclasses
import pathlib
import threading
import time
from typing import Optional

from pipelines.live_run import LiveRun
from pipelines.traffic_config import TrafficConfig

TRICKLE = TrafficConfig(count=200, events_per_second=20, fraud_scenarios=0, late_orders=0,
                        too_late_orders=0)
TRICKLE_RATE = 20  # orders/s: little load beside the suite


class BackgroundJob:
    """The job and the thread that feeds it, in chunks of 10 s of traffic."""

    def __init__(self, run: LiveRun) -> None:
        self.run = run
        self.started_at = time.monotonic()
        self.chunks_sent = 0
        self.error: Optional[BaseException] = None
        self._stop = threading.Event()
        self._feeder = threading.Thread(target=self._feed, name='background-traffic',
                                        daemon=True)
        self._feeder.start()

    @classmethod
    def start(cls, bootstrap: str, folder: pathlib.Path) -> 'BackgroundJob':
        # Longer read bundles than the default's 0.25 s: this job checks that a job lives,
        # not how fast it is, and each bundle costs the suite's CPU (at 0.25 s and 20
        # orders/s, the job and its Prism took three quarters of a core).
        return cls(LiveRun.start(bootstrap, folder, [
            '--runner=DirectRunner', '--early_firing_s=10', '--max_read_time_s=2',
            '--resume_delay_s=1', '--archive_flush_s=60']))

    @property
    def age_s(self) -> float:
        return time.monotonic() - self.started_at

    def _feed(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self.chunks_sent
                self.run.produce(dataclasses.replace(TRICKLE, seed=1000 + chunk,
                                                     card_prefix=f'trickle{chunk}'),
                                 TRICKLE_RATE)
                self.chunks_sent += 1
        except BaseException as error:  # pylint: disable=broad-except  # reported by the test
            self.error = error

    def stop(self) -> Optional[int]:
        self._stop.set()
        self._feeder.join(30)
        return self.run.stop()
