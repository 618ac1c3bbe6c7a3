"""Kill -9 and restart: what a streaming job loses, duplicates and how fast it comes back.

For each runner: the pipeline runs unbounded in a process of its own (pipelines/local/live_run.py);
`--cycles` times, the generator produces `--seconds` of traffic at `--rate` (a plan of its own,
with fraud, ground truth known), the job and every process of its runner get SIGKILL once
`--kill_at` of it is sent, and the job is started again on the same consumer group, topics
and archive folder while the plan goes on; then the harness waits for the job to settle
(pipelines/faults/run.py). Per cycle: the records of its plan produced, archived,
dead-lettered, lost (neither) and duplicated (more than once), the ground-truth alerts
delivered and repeated, counted once the job settled after the cycle, and the recovery time
(restart to the first new output or committed offset); "lost at the end" counts them again
when the runner's last cycle is over (a later kill can lose what an earlier cycle had
delivered), and "archived, then gone" the orders that were in the archive when a job was
killed and are not at the end. The machine's load is shown per cycle.

  ./run_local.sh broker start && .venv/bin/python -m bench.faults --cycles=2 --rate=300
"""

import os
import pathlib
import sys
import tempfile
import time

from bench.results_table import context, publish
from connectors.kafka_config import default_brokers
from pipelines.command_line import CommandParser, run_command
from pipelines.faults.cycles import FaultReport, run_kill_cycles
from pipelines.faults.run import FaultRun
from pipelines.generator.config import TrafficConfig

RUNNERS = {
    'DirectRunner': ['--runner=DirectRunner'],  # the default: Prism, patched (infra/prism)
    'Flink[local]': ['--runner=FlinkRunner', '--flink_master=[local]'],
}
COLUMNS = ['runner', 'orders/s', *FaultReport.COLUMNS, 'archived, then gone', 'load (1 min)']


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def runner_rows(runner: str, rate: int, report: FaultReport) -> list:
    """The report's table (`FaultReport.table`) under COLUMNS: a row per cycle (counted when
    the job had settled after it; a cycle that did not settle says so) and the runner's total
    (at the end of its run), each with the runner, the rate and the two columns of its own."""
    rows = []
    for index, (name, *counts) in enumerate(report.table()):
        if index < len(report.cycles):
            cycle = report.cycles[index]
            name = name if cycle.settled else f'{name} (not settled)'
            extra = ['', cycle.load]
        elif name == 'total':
            extra = [report.archive_gone, round(os.getloadavg()[0], 1)]
        else:
            extra = ['', '']
        rows.append([runner, rate, name, *counts, *extra])
    return rows


def one_runner(bootstrap: str, folder: pathlib.Path, runner: str, args) -> list:
    config = TrafficConfig(
        count=args.rate * args.seconds,
        seed=args.rate + args.seconds,
        events_per_second=args.rate,
        fraud_scenarios=max(2, args.seconds // 10),
        late_orders=0,
        too_late_orders=0,
        card_prefix='cycle',
    )
    run = FaultRun.start(
        bootstrap, folder, [*RUNNERS[runner], f'--archive_flush_s={args.archive_flush_s}']
    )
    try:
        report = run_kill_cycles(
            run,
            config,
            args.rate,
            args.cycles,
            kill_at=args.kill_at,
            settle_s=args.settle_s,
            log=log,
        )
    finally:
        run.stop()
    log(f'{runner}: {report.total.summary()}; archived, then gone: {report.archive_gone}')
    return runner_rows(runner, args.rate, report)


def main(argv=None) -> None:
    parser = CommandParser('python -m bench.faults', __doc__)
    parser.add_argument('--brokers', default=default_brokers(), help='Kafka host:port')
    parser.add_argument(
        '--runners', default=','.join(RUNNERS), help=f'comma-separated, of: {", ".join(RUNNERS)}'
    )
    parser.add_argument('--cycles', type=int, default=3, help='kill/restart cycles per runner')
    parser.add_argument('--rate', type=int, default=300, help='orders/s')
    parser.add_argument('--seconds', type=int, default=30, help='seconds of traffic per cycle')
    parser.add_argument(
        '--kill_at',
        type=float,
        default=0.4,
        help="share of a cycle's traffic sent when the job is killed",
    )
    parser.add_argument(
        '--archive_flush_s', type=float, default=5.0, help="the pipeline's --archive_flush_s"
    )
    parser.add_argument(
        '--settle_s',
        type=float,
        default=180.0,
        help='how long to wait for the job to settle after each cycle',
    )
    parser.add_argument('--note', default=None, help='a note for the results file')
    parser.add_argument('--name', default='faults', help='results file name')
    args = parser.parse_args(argv)
    folder = pathlib.Path(tempfile.mkdtemp(prefix='goldstream-faults-'))
    rows = []
    for runner in args.runners.split(','):
        log(f'{runner}: {args.cycles} kill/restart cycles at {args.rate}/s')
        started = time.monotonic()
        try:
            rows += one_runner(
                args.brokers, folder / runner.replace('[', '-').strip(']'), runner, args
            )
        except RuntimeError as error:
            log(f'  failed: {str(error)[:2000]}')
            rows.append([runner, args.rate, 'failed'] + [''] * (len(COLUMNS) - 3))
        log(f'{runner}: {time.monotonic() - started:.0f} s')
    info = context(
        cycles=args.cycles,
        seconds=args.seconds,
        kill_at=args.kill_at,
        archive_flush_s=args.archive_flush_s,
    )
    if args.note:
        info['note'] = args.note
    path = publish(
        args.name, 'Kill -9 and restart: lost, duplicated, recovery', COLUMNS, rows, info
    )
    log(f'written to {path}')


if __name__ == '__main__':
    sys.exit(run_command(main))
