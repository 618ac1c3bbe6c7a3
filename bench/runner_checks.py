"""What `bench.runners` needs besides timing: the outputs of a run checked against the ground
truth, the Flink session cluster, and which engine the DirectRunner handed a pipeline to."""
import collections
import json
import logging
import os
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Callable, Dict, List, Mapping, NamedTuple

import fastavro

from connectors.kafka_topics import end_offsets
from pipelines.local import cache
from pipelines.generator.ground_truth import GroundTruth, dead_letter_reasons, on_time_panes
from pipelines.generator.producer import read_range

SCRIPT_TIMEOUT_S = 300  # run_local.sh's own start deadline is 90 s, plus unpacking Flink once


class StreamingOutputs(NamedTuple):
    """What one bounded streaming run wrote: its output topics (JSON) and archive."""
    alerts: List[Dict]
    metrics: List[Dict]
    dead_letters: List[Dict]
    archived_orders: List[Dict]
    archived_dead_letters: List[Dict]


def read_outputs(bootstrap: str, topics: Mapping[str, str], archive: pathlib.Path,
                 orders_dataset: str, dead_letters_dataset: str) -> StreamingOutputs:
    """Reads a run's `alerts`, `metrics` and `dlq` topics from the start, and its archive."""
    def topic(kind: str) -> List[Dict]:
        name = topics[kind]
        return [json.loads(value) for _, value in
                read_range(bootstrap, name, {}, end_offsets(bootstrap, name))]

    def archived(dataset: str) -> List[Dict]:
        records = []
        for path in sorted(archive.rglob(f'{dataset}-*.avro')):
            with open(path, 'rb') as handle:
                records.extend(fastavro.reader(handle))
        return records

    return StreamingOutputs(topic('alerts'), topic('metrics'), topic('dlq'),
                            archived(orders_dataset), archived(dead_letters_dataset))


def check_streaming(truth: GroundTruth, outputs: StreamingOutputs) -> List[str]:
    """Where a bounded run's outputs disagree with the ground truth (empty: nowhere).

    Alerts are at least once, so a repeated alert id is no disagreement; every expected id
    and no other must be there. Dead letters must match by stage/reason; ON_TIME metric
    panes (a bounded run has no other) must equal the totals of every valid order; the
    archive must hold every record once, as an order or as a dead letter.
    """
    problems = []
    found = {alert['alert_id'] for alert in outputs.alerts}
    expected = {alert.alert_id for alert in truth.alerts}
    if found != expected:
        problems.append(f'alert ids {len(found & expected)} of {len(expected)}, '
                        f'{len(found - expected)} unexpected')
    reasons = dead_letter_reasons(outputs.dead_letters)
    if reasons != collections.Counter(truth.dead_letters.by_reason):
        problems.append(f'dead letters {len(outputs.dead_letters)} of '
                        f'{truth.dead_letters.total} (or other reasons)')
    on_time = on_time_panes(outputs.metrics)
    expected_metrics = truth.window_totals()
    if on_time != expected_metrics:
        wrong = sum(on_time.get(key) != value for key, value in expected_metrics.items())
        problems.append(f'metrics: {wrong} of {len(expected_metrics)} window/product rows '
                        f'differ, {len(set(on_time) - set(expected_metrics))} unexpected')
    archived = len(outputs.archived_orders) + len(outputs.archived_dead_letters)
    unique_orders = len({order['order_id'] for order in outputs.archived_orders})
    if archived != truth.orders.total or unique_orders != truth.orders.valid:
        problems.append(f'archive: {archived} records of {truth.orders.total}, '
                        f'{unique_orders} distinct orders of {truth.orders.valid}')
    return problems


def check_report(truth: GroundTruth, report: Mapping) -> List[str]:
    """Where a report's summary disagrees with the ground truth of a plan within its day."""
    summary = report['summary']
    expected = {'orders': truth.orders.valid, 'fraud_alerts': len(truth.alerts),
                'dead_letters': truth.dead_letters.total}
    return [f'report {name} {summary[name]} of {value}' for name, value in expected.items()
            if summary[name] != value]


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
            self._log(f'using the session cluster already up at {self.master} '
                      f'(left running afterwards)')
        self._log(f"session cluster: Flink {overview['flink-version']}, "
                  f"{overview['taskmanagers']} task manager(s), {overview['slots-total']} slots")

    def _script(self, command: str) -> None:
        env = dict(os.environ, GOLDSTREAM_FLINK_REST_PORT=self.master.rsplit(':', 1)[1])
        completed = subprocess.run(
            [str(cache.REPO_ROOT / 'run_local.sh'), 'flink', command], env=env,
            cwd=cache.REPO_ROOT, stdout=sys.stderr, timeout=SCRIPT_TIMEOUT_S,
            check=False)
        if completed.returncode != 0:
            raise RuntimeError(f'./run_local.sh flink {command} exited with '
                               f'{completed.returncode}; its output is above')


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
