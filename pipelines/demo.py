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
import json
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
import fastavro  # noqa: E402

from connectors.kafka_access_check import (  # noqa: E402
    KafkaAccessError, KafkaUnreachable, check_kafka_access)
from connectors.kafka_config import default_brokers  # noqa: E402
from connectors.kafka_security import KafkaSecurity, add_arguments, from_arguments  # noqa: E402
from connectors.kafka_topics import end_offsets, ensure_topics  # noqa: E402
from pipelines.daily_report import pipeline as daily_report  # noqa: E402
from pipelines.streaming import pipeline as streaming  # noqa: E402
from pipelines.generator.ground_truth import (  # noqa: E402
    GroundTruth, dead_letter_reasons, on_time_panes, write_ground_truth)
from pipelines.generator.reference_data import write_reference_data  # noqa: E402
from pipelines.generator.config import TrafficConfig  # noqa: E402
from pipelines.generator.plan import plan_traffic  # noqa: E402
from pipelines.generator.producer import ProgressBar, produce_plan, read_range  # noqa: E402

TOPICS = {'orders': 'orders', 'alerts': 'fraud.alerts', 'metrics': 'order.metrics',
          'dlq': 'orders.dlq'}


def say(message: str) -> None:
    print(f'==> {message}', file=sys.stderr, flush=True)


def read_new(bootstrap: str, topic: str, since: Dict[int, int],
             security: KafkaSecurity) -> List[dict]:
    """The JSON values written to `topic` after the offsets `since`."""
    return [json.loads(value) for _, value in
            read_range(bootstrap, topic, since, end_offsets(bootstrap, topic, security),
                       security=security)]


def archived(archive: pathlib.Path, dataset: str) -> List[dict]:
    records = []
    for path in sorted(archive.rglob(f'{dataset}-*.avro')):
        with open(path, 'rb') as handle:
            records.extend(fastavro.reader(handle))
    return records


def compare(truth: GroundTruth, alerts, metrics, dead_letters, orders_archived,
            dead_letters_archived) -> Dict[str, bool]:
    """Which outputs agree with the ground truth."""
    expected_alerts = {(a.rule, a.card_id, tuple(a.order_ids)) for a in truth.alerts}
    found_alerts = {(a['rule'], a['card_id'], tuple(a['order_ids'])) for a in alerts}
    return {
        'alerts (rule, card, order ids)': found_alerts == expected_alerts,
        'metrics (on-time panes)': on_time_panes(metrics) == truth.window_totals(),
        'dead letters by reason': (dead_letter_reasons(dead_letters)
                                   == collections.Counter(truth.dead_letters.by_reason)),
        'orders in = archived + dead letters':
            len(orders_archived) + len(dead_letters_archived) == truth.orders.total,
    }


def summary(truth: GroundTruth, alerts, metrics, dead_letters, orders_archived,
            dead_letters_archived, paths: Dict[str, str], agreement: Dict[str, bool]) -> str:
    lines = ['', 'goldstream demo summary', '=======================',
             f'orders in        {truth.orders.total:>7,}  ({truth.orders.valid:,} valid, '
             f'{truth.orders.malformed:,} malformed)']
    by_rule = collections.Counter(a['rule'] for a in alerts)
    expected_rule = collections.Counter(a.rule for a in truth.alerts)
    lines.append(f'alerts           {len(alerts):>7,}')
    for rule in sorted(expected_rule | by_rule):
        lines.append(f'  {rule:<22}{by_rule[rule]:>5}  (ground truth {expected_rule[rule]})')
    panes = collections.Counter(m['pane'] for m in metrics)
    lines.append(f'metric rows      {len(metrics):>7,}  '
                 + ', '.join(f'{pane} {n}' for pane, n in sorted(panes.items())))
    lines.append(f'dead letters     {len(dead_letters):>7,}')
    for reason, count in sorted(dead_letter_reasons(dead_letters).items()):
        lines.append(f'  {reason:<32}{count:>5}')
    lines.append(f'archived         {len(orders_archived):>7,} orders, '
                 f'{len(dead_letters_archived):,} dead letters')
    lines.append('')
    for name, path in paths.items():
        lines.append(f'{name:<17}{path}')
    lines.append('')
    for check, ok in agreement.items():
        lines.append(f"{'agree   ' if ok else 'DIFFER  '} {check}")
    return '\n'.join(lines) + '\n'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The demo's options, under the rules of every command (pipelines/command_line.py)."""
    parser = CommandParser('python -m pipelines.demo', __doc__)
    parser.add_argument('--brokers', default=default_brokers(),
                        help='Kafka host:port (default: $GOLDSTREAM_BROKERS, else '
                             '127.0.0.1:$GOLDSTREAM_KAFKA_PORT, else %(default)s)')
    parser.add_argument('--workdir', default='.local/demo',
                        help='ground truth, reference data and archive go here (recreated)')
    parser.add_argument('--runner', default='PrismRunner',
                        help='DirectRunner, PrismRunner or FlinkRunner (embedded [local])')
    parser.add_argument('--count', type=int, default=12_000,
                        help='records to generate (at 50 events/s: 4 minutes of traffic)')
    parser.add_argument('--seed', type=int, default=7, help='same seed, same traffic')
    parser.add_argument('--reports', default='reports',
                        help='the daily report goes to <reports>/YYYY-MM-DD/')
    add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The demo (pipelines/command_line.py): a wrong option or security setting, or a Kafka
    that refuses it, is one `error:` line and exit code 2; no broker answering, one line
    and 1."""
    return run_command(_main, argv, usage_errors=(KafkaAccessError,),
                       environment_errors=(KafkaUnreachable,))


def _main(argv: List[str]) -> int:
    args = parse_args(argv)
    security = from_arguments(args)
    check_kafka_access(args.brokers, security)
    return _demo(args, security)


def _demo(args: argparse.Namespace, security: KafkaSecurity) -> int:
    workdir = pathlib.Path(args.workdir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    paths = {'ground truth': str(workdir / 'ground_truth.json'),
             'reference data': str(workdir / 'reference'),
             'archive': str(workdir / 'archive'),
             'topics': ', '.join(TOPICS.values())}

    say(f'Planning {args.count:,} records (seed {args.seed}) with every fraud scenario, '
        f'late and malformed records')
    plan = plan_traffic(TrafficConfig(count=args.count, seed=args.seed))
    write_reference_data(workdir / 'reference', seed=args.seed)
    write_ground_truth(paths['ground truth'], plan.ground_truth)
    ensure_topics(args.brokers, {topic: 3 for topic in TOPICS.values()}, security=security)
    before = {name: end_offsets(args.brokers, topic, security)
              for name, topic in TOPICS.items()}
    start_ms = int(time.time() * 1000) - 1

    say(f"Producing to '{TOPICS['orders']}' on {args.brokers}")
    produce_plan(args.brokers, TOPICS['orders'], plan, progress=ProgressBar(len(plan.records)),
                 security=security)

    say(f'Running the streaming pipeline (bounded) on {args.runner}')
    started = time.monotonic()
    options = streaming.pipeline_options([
        f'--runner={args.runner}', '--bounded', f'--start_from={start_ms}',
        f'--brokers={args.brokers}', f'--orders_topic={TOPICS["orders"]}',
        f'--alerts_topic={TOPICS["alerts"]}', f'--metrics_topic={TOPICS["metrics"]}',
        f'--dead_letter_topic={TOPICS["dlq"]}', '--consumer_group=goldstream-demo',
        f'--reference_data={paths["reference data"]}', f'--archive_path={paths["archive"]}',
        *security.to_arguments()])
    with beam.Pipeline(options=options) as pipeline:
        streaming.build(pipeline, options)
    say(f'Pipeline finished in {time.monotonic() - started:.0f} s; reading the outputs back')

    alerts = read_new(args.brokers, TOPICS['alerts'], before['alerts'], security)
    metrics = read_new(args.brokers, TOPICS['metrics'], before['metrics'], security)
    dead_letters = read_new(args.brokers, TOPICS['dlq'], before['dlq'], security)
    orders_archived = archived(workdir / 'archive', streaming.ORDERS_DATASET)
    dead_letters_archived = archived(workdir / 'archive', streaming.DEAD_LETTERS_DATASET)
    agreement = compare(plan.ground_truth, alerts, metrics, dead_letters, orders_archived,
                        dead_letters_archived)
    print(summary(plan.ground_truth, alerts, metrics, dead_letters, orders_archived,
                  dead_letters_archived, paths, agreement))

    day = datetime.datetime.fromtimestamp(plan.ground_truth.config['start_ms'] / 1000,
                                          tz=datetime.timezone.utc).date()
    say(f'Writing the daily report for {day} from the archive')
    report_options = daily_report.pipeline_options([
        f'--runner={args.runner}', f'--date={day}', f'--archive_path={paths["archive"]}',
        f'--reference_data={paths["reference data"]}', f'--reports_path={args.reports}'])
    with beam.Pipeline(options=report_options) as pipeline:
        daily_report.build(pipeline, report_options)
    report_dir = pathlib.Path(args.reports).resolve() / f'{day}'
    print(f'daily report     {report_dir / "report.html"} (and report.json, *.csv)')
    return 0 if all(agreement.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
