"""The local demo behind `./run_local.sh`: generated traffic, the streaming pipeline over it,
and a summary that compares what came out with the generator's ground truth.

  python -m pipelines.demo --brokers 127.0.0.1:9092 --workdir .local/demo --runner PrismRunner
  python -m pipelines.demo --brokers 127.0.0.1:9094 --security_protocol SASL_SSL ...
      (the options `./run_local.sh broker status --secure` prints reach the secured broker)

The run reads only the records it produced (from a start timestamp), so earlier demo runs on
the same topics do not disturb it.
"""

import argparse
import collections
import datetime
import pathlib
import shutil
import sys
import time
from typing import Dict, List, Optional, Sequence

from pipelines.command_line import CommandParser, quiet_harmless_warnings, run_command

if __name__ == '__main__':
    quiet_harmless_warnings()  # before Beam is imported: it logs "apitools not found"

# pylint: disable=wrong-import-position
import apache_beam as beam  # noqa: E402

from connectors.kafka_access_check import KafkaAccessError, KafkaUnreachable, check_kafka_access  # noqa: E402
from connectors.kafka_config import default_brokers  # noqa: E402
from connectors.kafka_security import KafkaSecurity, add_arguments, from_arguments  # noqa: E402
from pipelines.daily_report import pipeline as daily_report  # noqa: E402
from pipelines.generator.config import TrafficConfig  # noqa: E402
from pipelines.generator.ground_truth import (  # noqa: E402
    GroundTruth,
    dead_letter_reasons,
    write_ground_truth,
)
from pipelines.generator.producer import ProgressBar  # noqa: E402
from pipelines.local import harness  # noqa: E402

TOPICS = harness.Topics(
    orders='orders', alerts='fraud.alerts', metrics='order.metrics', dlq='orders.dlq'
)
CONSUMER_GROUP = 'goldstream-demo'


def say(message: str) -> None:
    print(f'==> {message}', file=sys.stderr, flush=True)


def agreement(verdict: harness.Verdict) -> Dict[str, bool]:
    """Which outputs agree with the ground truth, as the summary's last lines say."""
    return {
        'alerts (rule, card, order ids)': verdict.alerts_agree,
        'metrics (on-time panes)': verdict.metrics_agree,
        'dead letters by reason': verdict.dead_letters_agree,
        'orders in = archived + dead letters': verdict.archive_agrees,
    }


def summary(
    truth: GroundTruth, outputs: harness.Outputs, paths: Dict[str, str], verdict: harness.Verdict
) -> str:
    alerts, metrics, dead_letters = outputs.alerts, outputs.metrics, outputs.dead_letters
    lines = [
        '',
        'goldstream demo summary',
        '=======================',
        f'orders in        {truth.orders.total:>7,}  ({truth.orders.valid:,} valid, '
        f'{truth.orders.malformed:,} malformed)',
    ]
    by_rule = collections.Counter(a['rule'] for a in alerts)
    expected_rule = collections.Counter(a.rule for a in truth.alerts)
    lines.append(f'alerts           {len(alerts):>7,}')
    for rule in sorted(expected_rule | by_rule):
        lines.append(f'  {rule:<22}{by_rule[rule]:>5}  (ground truth {expected_rule[rule]})')
    panes = collections.Counter(m['pane'] for m in metrics)
    lines.append(
        f'metric rows      {len(metrics):>7,}  '
        + ', '.join(f'{pane} {n}' for pane, n in sorted(panes.items()))
    )
    lines.append(f'dead letters     {len(dead_letters):>7,}')
    for reason, count in sorted(dead_letter_reasons(dead_letters).items()):
        lines.append(f'  {reason:<32}{count:>5}')
    lines.append(
        f'archived         {len(outputs.archived_orders):>7,} orders, '
        f'{len(outputs.archived_dead_letters):,} dead letters'
    )
    lines.append('')
    for name, path in paths.items():
        lines.append(f'{name:<17}{path}')
    lines.append('')
    for check, ok in agreement(verdict).items():
        lines.append(f'{"agree   " if ok else "DIFFER  "} {check}')
    for problem in verdict.problems():
        lines.append(f'         {problem}')
    return '\n'.join(lines) + '\n'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The demo's options, under the rules of every command (pipelines/command_line.py)."""
    parser = CommandParser('python -m pipelines.demo', __doc__)
    parser.add_argument(
        '--brokers',
        default=default_brokers(),
        help='Kafka host:port (default: $GOLDSTREAM_BROKERS, else '
        '127.0.0.1:$GOLDSTREAM_KAFKA_PORT, else %(default)s)',
    )
    parser.add_argument(
        '--workdir',
        default='.local/demo',
        help='ground truth, reference data and archive go here (recreated)',
    )
    parser.add_argument(
        '--runner',
        default='PrismRunner',
        help='DirectRunner, PrismRunner or FlinkRunner (embedded [local])',
    )
    parser.add_argument(
        '--count',
        type=int,
        default=12_000,
        help='records to generate (at 50 events/s: 4 minutes of traffic)',
    )
    parser.add_argument('--seed', type=int, default=7, help='same seed, same traffic')
    parser.add_argument(
        '--reports', default='reports', help='the daily report goes to <reports>/YYYY-MM-DD/'
    )
    add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The demo (pipelines/command_line.py): a wrong option or security setting, or a Kafka
    that refuses it, is one `error:` line and exit code 2; no broker answering, one line
    and 1."""
    return run_command(
        _main, argv, usage_errors=(KafkaAccessError,), environment_errors=(KafkaUnreachable,)
    )


def _main(argv: List[str]) -> int:
    args = parse_args(argv)
    security = from_arguments(args)
    check_kafka_access(args.brokers, security)
    return _demo(args, security)


def _demo(args: argparse.Namespace, security: KafkaSecurity) -> int:
    workdir = pathlib.Path(args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    paths = {
        'ground truth': str(workdir / 'ground_truth.json'),
        'reference data': str(workdir / 'reference'),
        'archive': str(workdir / 'archive'),
        'topics': ', '.join(TOPICS.names()),
    }

    say(
        f'Planning {args.count:,} records (seed {args.seed}) with every fraud scenario, '
        f'late and malformed records'
    )
    run = harness.prepare_run(
        args.brokers, TOPICS, workdir, TrafficConfig(count=args.count, seed=args.seed), security
    )
    write_ground_truth(paths['ground truth'], run.truth)
    before = harness.topic_ends(args.brokers, TOPICS, security)
    start_ms = int(time.time() * 1000) - 1

    say(f"Producing to '{TOPICS.orders}' on {args.brokers}")
    run.produce(progress=ProgressBar(len(run.plan.records)))

    say(f'Running the streaming pipeline (bounded) on {args.runner}')
    seconds = harness.run_bounded(
        run.args(
            f'--runner={args.runner}',
            '--bounded',
            f'--start_from={start_ms}',
            f'--consumer_group={CONSUMER_GROUP}',
        )
    )
    say(f'Pipeline finished in {seconds:.0f} s; reading the outputs back')

    outputs = harness.read_outputs(
        args.brokers, TOPICS, run.archive, since=before, security=security
    )
    verdict = harness.compare(run.truth, outputs)
    print(summary(run.truth, outputs, paths, verdict))

    day = datetime.datetime.fromtimestamp(
        run.truth.config['start_ms'] / 1000, tz=datetime.timezone.utc
    ).date()
    say(f'Writing the daily report for {day} from the archive')
    report_options = daily_report.pipeline_options(
        [
            f'--runner={args.runner}',
            f'--date={day}',
            f'--archive_path={paths["archive"]}',
            f'--reference_data={paths["reference data"]}',
            f'--reports_path={args.reports}',
        ]
    )
    with beam.Pipeline(options=report_options) as pipeline:
        daily_report.build(pipeline, report_options)
    report_dir = pathlib.Path(args.reports).resolve() / f'{day}'
    print(f'daily report     {report_dir / "report.html"} (and report.json, *.csv)')
    return 0 if verdict.ok else 1


if __name__ == '__main__':
    sys.exit(main())
