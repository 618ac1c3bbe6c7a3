"""Time of each runner on the same bounded input: the streaming pipeline, then the daily report.

One seeded generator run (`--records`, default 20,000; `TrafficConfig` defaults otherwise:
50 events/s, every fraud scenario, late, too-late and malformed records) is produced once to
a fresh orders topic (3 partitions) on the real broker. Then, `--repeats` times on each
runner (the runners take turns, so a busy spell of the shared machine hits them alike):

1. the streaming pipeline, `--bounded --start_from=earliest`, with a consumer group, output
   topics and an archive folder of its own;
2. the daily report (`--source=archive`) of the generated day over the archive that run wrote.

Runners, with the options the project's tests pass (`pipelines.runner_setup` adds Prism's
binary, the Flink job server jar and, for Flink, the LOOPBACK environment):

  direct         --runner=DirectRunner (it hands the pipeline to Prism when Prism can run it)
  prism          --runner=PrismRunner
  flink-local    --runner=FlinkRunner --flink_master=[local] --parallelism=2
  flink-session  --runner=FlinkRunner --flink_master=<--flink_master> --parallelism=2

`--flink_session` adds the session cluster; when nothing answers at `--flink_master`, the
benchmark starts one with `./run_local.sh flink start` (the port taken from `--flink_master`,
the rest of the environment, e.g. GOLDSTREAM_STATE_DIR, passed on) and stops it at the end;
a cluster that was already up is left running.

Times are wall clock per run, job start-up included, median over the repeats. Flink starts
a job server (a JVM) for every pipeline; Prism is started once per process and then reused,
so only the first Prism-backed run (the DirectRunner's, in the default order) pays for it. Orders/s:
the records produced (malformed ones included)
over the median time; the report reads the same records back from the archive. Checks:
"ground truth": every streaming run's alert ids, dead letters by reason, ON_TIME metric panes
and archive (orders + dead letters = records) agree with the plan's ground truth (alerts are
at least once: a duplicate id is fine), and the report's summary has the plan's orders, fraud
alerts and dead letters; session runs must also show up as finished jobs on the cluster.
"report.json = Prism's": every run's report equals that of the first Prism run.

  ./run_local.sh broker start && .venv/bin/python -m bench.runners --flink_session
  .venv/bin/python -m bench.runners --records 5000 --repeats 1 --output /tmp/runners
"""

import argparse
import dataclasses
import datetime
import json
import logging
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import traceback
import uuid
from typing import Dict, List, NamedTuple, Optional

import apache_beam as beam

from bench.results_table import RESULTS_DIR, context, publish
from bench.runner_checks import DirectRunnerEngine, SessionCluster, check_report
from connectors.kafka_config import default_brokers
from pipelines.command_line import CommandParser, run_command
from pipelines.daily_report import pipeline as daily_report
from pipelines.generator.config import TrafficConfig
from pipelines.generator.producer import ProgressBar
from pipelines.local import harness
from pipelines.streaming import pipeline as streaming

RUNNERS = ('direct', 'prism', 'flink-local', 'flink-session')
REFERENCE_RUNNER = 'prism'


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def runner_args(runner: str, flink_master: str) -> List[str]:
    """The runner options the project's tests pass for `runner`."""
    if runner == 'direct':
        return ['--runner=DirectRunner']
    if runner == 'prism':
        return ['--runner=PrismRunner']
    if runner == 'flink-local':
        return ['--runner=FlinkRunner', '--flink_master=[local]', '--parallelism=2']
    if runner == 'flink-session':
        return ['--runner=FlinkRunner', f'--flink_master={flink_master}', '--parallelism=2']
    raise ValueError(f'unknown runner {runner!r}; choose from {", ".join(RUNNERS)}')


class Run(NamedTuple):
    """One streaming run and the report over its archive."""

    runner: str
    streaming_s: Optional[float]
    report_s: Optional[float]
    problems: List[str]  # disagreements with the ground truth, failures
    report: Optional[Dict]  # the report.json it wrote, less its `made` stamp
    engine: str  # what the DirectRunner ran on ('' for the others)
    load: float  # highest 1-minute load average seen around the run


class Bench:
    """The produced input and everything the runs share."""

    def __init__(self, args: argparse.Namespace, folder: pathlib.Path):
        self.args, self.folder = args, folder
        self.config = TrafficConfig(count=args.records, seed=args.seed)
        self.prefix = f'bench.runners.{uuid.uuid4().hex[:8]}'
        # Each run writes topics of its own (`run`); these are the input and its plan.
        self.input = harness.prepare_run(
            args.brokers, harness.Topics.with_prefix(self.prefix), folder, self.config
        )
        self.plan, self.truth = self.input.plan, self.input.truth
        self.day = _utc_day(self.config.start_ms)
        orders = self.truth.orders
        if {_utc_day(orders.first_event_ms), _utc_day(orders.last_event_ms)} != {self.day}:
            raise ValueError(
                f'the orders of {args.records} records span more than {self.day}; '
                f'the report checks need one day: generate fewer'
            )
        self.reference = self.input.reference
        self.session: Optional[SessionCluster] = None

    def produce(self) -> None:
        log(
            f'producing {len(self.plan.records):,} records (seed {self.config.seed}) to '
            f'{self.input.topics.orders}'
        )
        self.input.produce(progress=ProgressBar(len(self.plan.records)))

    def run(self, runner: str, label: str) -> Run:
        """Streams the topic on `runner`, then reports on the archive; checks both."""
        run_id = f'{runner}.{label}'
        topics = harness.Topics.with_prefix(
            f'{self.prefix}.{run_id}', orders=self.input.topics.orders
        )
        harness.create_topics(self.args.brokers, topics)
        archive = self.folder / 'runs' / run_id / 'archive'
        run = dataclasses.replace(self.input, topics=topics, archive=archive)
        reports = self.folder / 'runs' / run_id / 'reports'
        extra = runner_args(runner, self.args.flink_master)
        load = os.getloadavg()[0]
        problems: List[str] = []
        streaming_s = report_s = report = None
        with DirectRunnerEngine() as engine:
            try:
                streaming_s = self._timed(
                    streaming,
                    run.args(
                        *extra,
                        '--bounded',
                        '--start_from=earliest',
                        f'--consumer_group={self.prefix}.{run_id}',
                    ),
                )
                log(f'  streaming {streaming_s:.1f} s; checking the outputs')
                problems += harness.compare(
                    self.truth, harness.read_outputs(self.args.brokers, topics, archive)
                ).problems()
                load = max(load, os.getloadavg()[0])
                report_s = self._timed(
                    daily_report,
                    [
                        *extra,
                        f'--date={self.day}',
                        f'--archive_path={archive}',
                        f'--reference_data={self.reference}',
                        f'--reports_path={reports}',
                    ],
                )
                log(f'  daily report {report_s:.1f} s')
                report = json.loads((reports / f'{self.day}' / 'report.json').read_text())
                problems += check_report(self.truth, report)
                report.pop('made', None)  # when, from what and on which runner: differs by design
            except Exception as error:  # pylint: disable=broad-except  # a row says it failed
                traceback.print_exc()
                problems.append(f'FAILED: {type(error).__name__}: {str(error)[:120]}')
        load = max(load, os.getloadavg()[0])
        ran_on = engine.name or ('the Python direct runner' if runner == 'direct' else '')
        return Run(runner, streaming_s, report_s, problems, report, ran_on, load)

    def _timed(self, module, argv: List[str]) -> float:
        """Runs `module`'s pipeline with `argv`; wall seconds, start-up included."""
        session = self.session if self._on_session(argv) else None
        finished_before = session.finished_jobs() if session is not None else None
        seconds = harness.run_bounded(argv, module)
        if (
            session is not None
            and finished_before is not None
            and session.finished_jobs() != finished_before + 1
        ):
            raise RuntimeError(f'{module.__name__} did not run on the session cluster')
        return seconds

    def _on_session(self, argv: List[str]) -> bool:
        return self.session is not None and f'--flink_master={self.args.flink_master}' in argv


def _utc_day(millis: int) -> datetime.date:
    return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.timezone.utc).date()


def row(
    runner: str, runs: List[Run], records: int, reference: Optional[Dict], flink_master: str
) -> List:
    """One table row: medians, rates and checks over a runner's runs."""

    def median(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    streaming_s = median(r.streaming_s for r in runs)
    report_s = median(r.report_s for r in runs)
    problems = [f'run {n}: {p}' for n, r in enumerate(runs, 1) for p in r.problems]
    if runner == REFERENCE_RUNNER and len(runs) == 1:
        same = 'reference'
    elif reference is None:
        same = 'no Prism report to compare'
    else:
        differing = [n for n, r in enumerate(runs, 1) if r.report != reference]
        same = 'yes' if not differing else f'NO (run {", ".join(map(str, differing))})'
    engines = sorted({r.engine for r in runs if r.engine})
    label = ' '.join(runner_args(runner, flink_master))
    if engines:
        label += f' (ran on {", ".join(engines)})'
    return [
        runner,
        label,
        _seconds(streaming_s),
        _rate(records, streaming_s),
        _seconds(report_s),
        _rate(records, report_s),
        ', '.join(f'{_seconds(r.streaming_s)}/{_seconds(r.report_s)}' for r in runs),
        'yes' if not problems else 'NO: ' + '; '.join(problems),
        same,
        f'{max(r.load for r in runs):.1f}',
    ]


def _seconds(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.1f}'


def _rate(records: int, seconds: Optional[float]):
    return '-' if not seconds else round(records / seconds)


def parse_args(argv=None) -> argparse.Namespace:
    parser = CommandParser('python -m bench.runners', __doc__)
    parser.add_argument('--brokers', default=default_brokers(), help='Kafka host:port')
    parser.add_argument(
        '--records',
        type=int,
        default=20_000,
        help='records to generate (at 50 events/s of event time)',
    )
    parser.add_argument('--seed', type=int, default=7, help='same seed, same records')
    parser.add_argument('--repeats', type=int, default=3, help='runs per runner (median)')
    parser.add_argument(
        '--runners',
        default='direct,prism,flink-local',
        help=f'comma-separated, of {", ".join(RUNNERS)}',
    )
    parser.add_argument(
        '--flink_session',
        action='store_true',
        help='add flink-session (starts the cluster when none answers)',
    )
    parser.add_argument(
        '--flink_master',
        default='127.0.0.1:' + os.environ.get('GOLDSTREAM_FLINK_REST_PORT', '8081'),
        help='REST address of the session cluster',
    )
    parser.add_argument(
        '--output',
        type=pathlib.Path,
        default=RESULTS_DIR,
        help='folder for runners.md and runners.json',
    )
    args = parser.parse_args(argv)
    args.runners = [r for r in args.runners.split(',') if r]
    if args.flink_session and 'flink-session' not in args.runners:
        args.runners.append('flink-session')
    for runner in args.runners:
        runner_args(runner, args.flink_master)  # an unknown name fails here
    if args.records < 1 or args.repeats < 1:
        parser.error('--records and --repeats must be 1 or more')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.getLogger().setLevel(logging.ERROR)  # the table is the output, not Beam's chatter
    folder = pathlib.Path(tempfile.mkdtemp(prefix='goldstream-runners-'))
    bench = Bench(args, folder)
    log(f'working folder {folder}; the report covers {bench.day}')
    load_before = os.getloadavg()[0]
    runs: Dict[str, List[Run]] = {runner: [] for runner in args.runners}
    with SessionCluster(args.flink_master, log) as session:
        bench.session = session if 'flink-session' in args.runners else None
        if bench.session is not None:
            session.ensure_up()
        bench.produce()
        total, done = args.repeats * len(args.runners), 0
        for repeat in range(1, args.repeats + 1):
            for runner in args.runners:
                done += 1
                log(f'[{done}/{total}] {runner}, run {repeat} of {args.repeats}')
                runs[runner].append(bench.run(runner, f'r{repeat}'))
    prism_runs = [r for r in runs.get(REFERENCE_RUNNER, []) if r.report is not None]
    reference = prism_runs[0].report if prism_runs else None
    rows = [
        row(runner, runner_runs, args.records, reference, args.flink_master)
        for runner, runner_runs in runs.items()
    ]
    all_runs = [r for runner_runs in runs.values() for r in runner_runs]
    path = publish(
        'runners',
        'Each runner on the same bounded input: streaming pipeline, then daily report',
        [
            'runner',
            'options',
            'streaming s (median)',
            'streaming orders/s',
            'report s (median)',
            'report orders/s',
            'each run s (streaming/report)',
            'agrees with ground truth',
            "report.json = Prism's",
            'load (1 min, max)',
        ],
        rows,
        context(
            records=args.records,
            seed=args.seed,
            repeats=args.repeats,
            partitions=3,
            day=str(bench.day),
            beam=beam.__version__,
            cpus=os.cpu_count(),
            load_1m_before=round(load_before, 1),
            load_1m_max=round(max([load_before] + [r.load for r in all_runs]), 1),
        ),
        directory=args.output,
    )
    failed = any(r.problems for r in all_runs) or any(
        reference is not None and r.report != reference for r in all_runs
    )
    if failed:
        log(f'written to {path}; some check failed: working files kept in {folder}')
        return 1
    shutil.rmtree(folder)
    log(f'written to {path}')
    return 0


if __name__ == '__main__':
    sys.exit(run_command(main))
