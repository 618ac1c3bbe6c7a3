"""What `bench.runners` needs besides timing and the streaming checks (those are
pipelines/local/harness.py's): the report checked against the ground truth, the Flink session
cluster, and which engine the DirectRunner handed a pipeline to."""

import json
import logging
import os
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Callable, Dict, List, Mapping

from pipelines.generator.ground_truth import GroundTruth
from pipelines.local import cache

SCRIPT_TIMEOUT_S = 300  # run_local.sh's own start deadline is 90 s, plus unpacking Flink once


def check_report(truth: GroundTruth, report: Mapping) -> List[str]:
    """Where a report's summary disagrees with the ground truth of a plan within its day."""
    summary = report['summary']
    expected = {
        'orders': truth.orders.valid,
        'fraud_alerts': len(truth.alerts),
        'dead_letters': truth.dead_letters.total,
    }
    return [
        f'report {name} {summary[name]} of {value}'
        for name, value in expected.items()
        if summary[name] != value
    ]


class SessionCluster:
    """The Flink session cluster at `master` (REST `host:port`): `ensure_up` uses the one that
    answers or starts one with `./run_local.sh flink start`; leaving the `with` block stops
    only a cluster started here."""

    def __init__(self, master: str, log: Callable[[str], None]):
        self.master = master
        self._log = log
        self._started = False

    def __enter__(self) -> 'SessionCluster':
        return self

    def __exit__(self, *exc_info) -> None:
        if self._started:
            self._log(f'stopping the session cluster started at {self.master}')
            self._script('stop')
            self._started = False

    def overview(self) -> Dict:
        """The cluster's `/overview` (task managers, slots, jobs finished...)."""
        with urllib.request.urlopen(f'http://{self.master}/overview', timeout=5) as answer:
            return json.load(answer)

    def finished_jobs(self) -> int:
        return self.overview()['jobs-finished']

    def ensure_up(self) -> None:
        """Uses the cluster that answers at `master`, or starts one.

        Raises:
            RuntimeError: If `run_local.sh flink start` fails (its output is on stderr).
        """
        try:
            overview = self.overview()
        except (OSError, urllib.error.URLError, ValueError):
            self._log(f'no session cluster answers at {self.master}; starting one')
            self._script('start')
            self._started = True
            overview = self.overview()
        else:
            self._log(
                f'using the session cluster already up at {self.master} (left running afterwards)'
            )
        self._log(
            f'session cluster: Flink {overview["flink-version"]}, '
            f'{overview["taskmanagers"]} task manager(s), {overview["slots-total"]} slots'
        )

    def _script(self, command: str) -> None:
        env = dict(os.environ, GOLDSTREAM_FLINK_REST_PORT=self.master.rsplit(':', 1)[1])
        completed = subprocess.run(
            [str(cache.REPO_ROOT / 'run_local.sh'), 'flink', command],
            env=env,
            cwd=cache.REPO_ROOT,
            stdout=sys.stderr,
            timeout=SCRIPT_TIMEOUT_S,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f'./run_local.sh flink {command} exited with '
                f'{completed.returncode}; its output is above'
            )


class DirectRunnerEngine(logging.Handler):
    """Within a `with` block, notes what the DirectRunner ran a pipeline on: its log says
    whether it handed the pipeline to Prism and whether it fell back; `name` stays '' when it
    said neither (it ran the pipeline in Python, or no DirectRunner ran)."""

    _LOGGER = 'apache_beam.runners.direct.direct_runner'

    def __init__(self):
        super().__init__(logging.INFO)
        self.name = ''
        self._level = logging.NOTSET

    def __enter__(self) -> 'DirectRunnerEngine':
        logger = logging.getLogger(self._LOGGER)
        self._level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc_info) -> None:
        logger = logging.getLogger(self._LOGGER)
        logger.removeHandler(self)
        logger.setLevel(self._level)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith('Running pipeline with PrismRunner'):
            self.name = 'Prism'
        elif 'falling back' in message.lower():
            self.name = 'Prism, then fell back to the Python direct runner'
