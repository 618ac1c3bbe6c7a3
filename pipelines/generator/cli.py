"""Generates realistic order traffic for the `orders` topic, with its ground truth.

Plans the records from a seed (background orders, fraud scenarios, late and too-late
orders, unknown customers and products, malformed records of every dead-letter reason),
writes the reference data and a ground-truth file (the alerts that must fire, the dead
letters by reason, the orders per product per window), then produces the records, by
count or at a rate, keyed by card id, with headers gen_id and produced_at_ms.

  python -m pipelines.generator --count 10000 --seed 7
  python -m pipelines.generator --count 200000 --rate 2000 --events_per_second 2000
  python -m pipelines.generator --count 2000 --plan_only   # files only, no Kafka
  python -m pipelines.generator --brokers kafka:9094 --security_protocol SASL_SSL \
      --sasl_mechanism SCRAM-SHA-512 --sasl_username goldstream \
      --sasl_password_file secrets/goldstream.password --ssl_cafile ca.pem

A missing topic is created only when it is `orders` or `--create_topic` is given, so a
mistyped `--topic` is an error, not a new topic.

The same seed and settings give byte-identical records and ground truth (except the
TIMESTAMP_IN_FUTURE records, which are relative to the wall clock when planning).
Library use: pipelines.generator.plan.plan_traffic and pipelines.generator.producer.produce_plan.
"""

import argparse
import collections
import csv
import datetime
import pathlib
import sys
import time
from typing import List, Optional

from kafka.errors import KafkaError

from connectors.kafka_access_check import KafkaAccessError, KafkaUnreachable, check_kafka_access
from connectors.kafka_config import default_brokers
from connectors.kafka_security import KafkaSecurity, add_arguments, from_arguments
from connectors.kafka_topics import end_offsets, ensure_topics, missing_topics
from pipelines.command_line import CommandParser, UsageError, run_command
from pipelines.generator import ground_truth as truth
from pipelines.generator.config import DEFAULT_START_MS, FORMATS, KIND_MALFORMED, TrafficConfig
from pipelines.generator.plan import TrafficPlan, plan_traffic
from pipelines.generator.producer import (
    BrokerUnavailable,
    ProduceError,
    ProgressBar,
    produce_plan,
    read_range,
)
from pipelines.generator.reference_data import FORMATS as REFERENCE_FORMATS
from pipelines.generator.reference_data import write_reference_data
from pipelines.generator.simple import (  # noqa: F401  (re-exported for existing callers)
    encoder_for,
    generate_orders,
    order_fingerprint,
    produce_orders,
)
from pipelines.local.cache import REPO_ROOT
from transforms.fraud_rules import FraudThresholds

OUTPUT_DIR = REPO_ROOT / '.local' / 'generator'
DEFAULT_TOPIC = 'orders'
_THRESHOLD_HELP = {
    'small_amount': 'SMALL_THEN_LARGE: the small order is under this',
    'large_amount': 'SMALL_THEN_LARGE: the large order is over this',
    'small_then_large_window_s': 'SMALL_THEN_LARGE: most seconds between them',
    'max_speed_kmh': 'IMPOSSIBLE_TRAVEL: speeds over this are impossible',
    'min_distance_km': 'IMPOSSIBLE_TRAVEL: only distances over this count',
    'velocity_count': 'VELOCITY: this many orders...',
    'velocity_window_s': 'VELOCITY: ...within this many seconds',
    'idle_timeout_s': "a card's history ends after this long without orders (24 h)",
}


def build_parser() -> CommandParser:
    """The command line: Kafka, traffic, output files and fraud thresholds."""
    defaults = TrafficConfig()
    parser = CommandParser('python -m pipelines.generator', __doc__)
    kafka = parser.add_argument_group('Kafka')
    kafka.add_argument(
        '--brokers',
        default=default_brokers(),
        help='Kafka host:port (default: $GOLDSTREAM_BROKERS, else '
        '127.0.0.1:$GOLDSTREAM_KAFKA_PORT, else %(default)s)',
    )
    kafka.add_argument('--topic', default=DEFAULT_TOPIC, help='topic to write')
    kafka.add_argument(
        '--create_topic',
        action='store_true',
        help=f'create --topic when it does not exist (--topic {DEFAULT_TOPIC} '
        f'is created without it)',
    )
    kafka.add_argument(
        '--partitions',
        type=_at_least(1),
        default=3,
        help='partitions when the topic has to be created',
    )
    kafka.add_argument(
        '--rate',
        type=_positive_float,
        default=None,
        help='records per second, paced by the clock (default: as fast as possible)',
    )
    kafka.add_argument(
        '--event_timestamps',
        action='store_true',
        help="set each record's Kafka timestamp to its event time (default: the "
        'send time); mind time-based retention on long-lived topics',
    )
    kafka.add_argument(
        '--plan_only',
        action='store_true',
        help='write the reference data and ground truth, produce nothing',
    )
    kafka.add_argument(
        '--verify',
        action='store_true',
        help='read the new records back and compare them with the plan',
    )
    kafka.add_argument('--quiet', action='store_true', help='no progress bar')
    add_arguments(parser)
    traffic = parser.add_argument_group('traffic')
    traffic.add_argument(
        '--count',
        type=_at_least(0),
        default=defaults.count,
        help='records in total, malformed ones included (default: %(default)s)',
    )
    traffic.add_argument(
        '--format',
        dest='fmt',
        choices=FORMATS,
        default=defaults.fmt,
        help='json, avro, or mixed (drawn per order; default)',
    )
    traffic.add_argument(
        '--seed',
        type=int,
        default=defaults.seed,
        help='same seed and settings, same records (default: %(default)s)',
    )
    traffic.add_argument(
        '--start',
        dest='start_ms',
        type=_instant,
        default=DEFAULT_START_MS,
        help='event time of the first order: ISO 8601 with a zone, epoch '
        'millis, or now (not reproducible) (default: '
        '2026-11-18T08:00:00Z)',
    )
    traffic.add_argument(
        '--events_per_second',
        type=_positive_float,
        default=defaults.events_per_second,
        help='how fast event time advances, in records (default: %(default)s)',
    )
    traffic.add_argument(
        '--fraud_scenarios',
        type=_at_least(0),
        default=defaults.fraud_scenarios,
        help='scenarios injected per fraud rule (default: %(default)s)',
    )
    traffic.add_argument(
        '--malformed_rate',
        type=float,
        default=defaults.malformed_rate,
        help='share of records that are malformed, 0 to 1 (default: %(default)s)',
    )
    traffic.add_argument(
        '--card_prefix',
        default=defaults.card_prefix,
        help='card ids are <prefix>-NNNNNN; give each run producing to the '
        'same topic its own (default: %(default)s)',
    )
    for name, (parse, text) in _MORE_TRAFFIC_OPTIONS.items():
        traffic.add_argument(
            '--' + name,
            type=parse,
            default=getattr(defaults, name),
            help=f'{text} (default: %(default)s)',
        )
    files = parser.add_argument_group('output files')
    files.add_argument(
        '--reference_data',
        type=pathlib.Path,
        default=OUTPUT_DIR / 'reference',
        help='folder for customers and products (default: .local/generator/reference)',
    )
    files.add_argument(
        '--customers_format',
        choices=REFERENCE_FORMATS,
        default='csv',
        help='file format of the customers',
    )
    files.add_argument(
        '--products_format',
        choices=REFERENCE_FORMATS,
        default='jsonl',
        help='file format of the products',
    )
    files.add_argument(
        '--ground_truth',
        type=pathlib.Path,
        default=OUTPUT_DIR / 'ground_truth.json',
        help='ground-truth JSON (default: .local/generator/ground_truth.json)',
    )
    files.add_argument(
        '--produced_at',
        type=pathlib.Path,
        default=None,
        help='also write gen_id,order_id,produced_at_ms per record to this CSV',
    )
    rules = parser.add_argument_group("fraud thresholds (must match the pipeline's)")
    for name, default in FraudThresholds()._asdict().items():
        rules.add_argument(
            '--' + name,
            type=type(default),
            default=default,
            help=f'{_THRESHOLD_HELP[name]} (default: %(default)s)',
        )
    return parser


def config_from_args(args: argparse.Namespace) -> TrafficConfig:
    """The traffic config the parsed arguments describe (not yet validated)."""
    settings = {
        name: getattr(args, name)
        for name in TrafficConfig.__dataclass_fields__
        if name != 'thresholds'
    }
    thresholds = FraudThresholds(**{name: getattr(args, name) for name in FraudThresholds._fields})
    return TrafficConfig(**settings, thresholds=thresholds)


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command line; returns the exit status (pipelines/command_line.py): 2 for a
    wrong option, value or topic, or security settings the broker refuses; 1 when no broker
    answers or Kafka loses records."""
    return run_command(
        _main,
        argv,
        usage_errors=(KafkaAccessError,),
        environment_errors=(KafkaUnreachable, BrokerUnavailable, ProduceError, KafkaError),
    )


def _main(argv: List[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        plan = plan_traffic(config_from_args(args))
    except ValueError as exc:
        parser.fail(str(exc))
    security = from_arguments(args)
    if not args.plan_only:
        _check_kafka(args, security)  # before any file is written
    reference = write_reference_data(
        args.reference_data,
        args.seed,
        args.customers,
        args.products,
        args.customers_format,
        args.products_format,
    )
    truth.write_ground_truth(args.ground_truth, plan.ground_truth)
    print(
        f'{_plan_summary(plan)}\n  reference data: {reference.customers}, '
        f'{reference.products}\n  ground truth:   {args.ground_truth}'
    )
    if args.plan_only:
        return 0
    return _produce(args, plan, security)


def _check_kafka(args: argparse.Namespace, security: KafkaSecurity) -> None:
    """Raises when no broker answers, the security settings are refused, or `--topic` does
    not exist and may not be created."""
    try:
        check_kafka_access(args.brokers, security)
    except KafkaUnreachable:  # nothing listens: say how to start the local broker
        raise BrokerUnavailable(args.brokers) from None
    if (
        args.topic != DEFAULT_TOPIC
        and not args.create_topic
        and missing_topics(args.brokers, [args.topic], security)
    ):
        raise UsageError(
            f'topic {args.topic!r} does not exist on {args.brokers}; check --topic, '
            f'or pass --create_topic to create it'
        )


def _produce(args: argparse.Namespace, plan: TrafficPlan, security: KafkaSecurity) -> int:
    ensure_topics(args.brokers, {args.topic: args.partitions}, security=security)
    before = end_offsets(args.brokers, args.topic, security)
    progress = None if args.quiet else ProgressBar(len(plan.records))
    report = produce_plan(
        args.brokers,
        args.topic,
        plan,
        rate=args.rate,
        progress=progress,
        partitions=None,
        event_timestamps=args.event_timestamps,
        security=security,
    )
    after = end_offsets(args.brokers, args.topic, security)
    print(
        f'produced {report.sent} records to {args.topic!r} on {args.brokers} in '
        f'{report.elapsed_s:.1f} s ({report.sent / max(report.elapsed_s, 1e-9):,.0f}/s); '
        f'end offsets now {dict(sorted(after.items()))}'
    )
    if args.produced_at is not None:
        args.produced_at.parent.mkdir(parents=True, exist_ok=True)
        with open(args.produced_at, 'w', encoding='utf-8', newline='') as out:
            writer = csv.writer(out, lineterminator='\n')
            writer.writerow(('gen_id', 'order_id', 'produced_at_ms'))
            for record, at_ms in zip(plan.records, report.produced_at_ms):
                writer.writerow((record.gen_id, record.order_id or '', at_ms))
    if not args.verify:
        return 0
    read = collections.Counter(
        read_range(args.brokers, args.topic, before, after, security=security)
    )
    expected = collections.Counter((r.key, r.value) for r in plan.records)
    if read != expected:
        print(
            f'MISMATCH: read {sum(read.values())} records; '
            f'{sum((expected - read).values())} planned records missing, '
            f'{sum((read - expected).values())} unexpected',
            file=sys.stderr,
        )
        return 1
    print(f'read back {sum(read.values())} records: byte for byte the planned ones')
    return 0


def _plan_summary(plan: TrafficPlan) -> str:
    orders, dead = plan.ground_truth.orders, plan.ground_truth.dead_letters
    rules = collections.Counter(alert.rule for alert in plan.ground_truth.alerts)
    first = datetime.datetime.fromtimestamp(orders.first_event_ms / 1000, datetime.timezone.utc)
    last = datetime.datetime.fromtimestamp(orders.last_event_ms / 1000, datetime.timezone.utc)
    kinds = {kind: n for kind, n in orders.by_kind.items() if kind != KIND_MALFORMED}
    return (
        f'planned {orders.total} records: {orders.valid} valid orders '
        f'({kinds}), {dead.total} malformed in {len(dead.by_reason)} kinds, '
        f'{len(plan.ground_truth.alerts)} alerts ({dict(sorted(rules.items()))}); '
        f'event time {first:%Y-%m-%dT%H:%M:%S}Z to {last:%H:%M:%S}Z'
    )


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'expected an integer, got {text!r}') from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f'must be {minimum} or more, got {value}')
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a number, got {text!r}') from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f'must be greater than 0, got {text}')
    return value


def _instant(text: str) -> int:
    if text == 'now':
        return int(time.time() * 1000)
    if text.lstrip('-').isdigit():
        return int(text)
    try:
        moment = datetime.datetime.fromisoformat(text.replace('z', 'Z'))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f'expected an ISO 8601 date-time with a zone (2026-11-18T08:00:00Z) or epoch '
            f'millis or now, got {text!r}'
        )
    return round(moment.timestamp() * 1000)


_MORE_TRAFFIC_OPTIONS = {
    'late_orders': (_at_least(0), 'orders --late_lag_s behind the stream, in a late pane'),
    'too_late_orders': (_at_least(0), 'orders --too_late_lag_s behind, beyond allowed lateness'),
    'late_lag_s': (float, 'how far behind the stream late orders are, seconds'),
    'too_late_lag_s': (float, 'how far behind the stream too-late orders are, seconds'),
    'unknown_rate': (
        float,
        'share of background orders with an unknown customer, and again with an unknown product',
    ),
    'out_of_order_max_ms': (
        _at_least(0),
        'most a scenario order is produced after its event '
        "time; keep under the source's out-of-orderness bound",
    ),
    'scenario_share': (
        float,
        'fraud scenarios happen within this share of the event-time '
        'span; the rest is background traffic',
    ),
    'window_s': (_at_least(1), 'metric window size in the ground truth, seconds'),
    'customers': (_at_least(1), 'customers in the reference data'),
    'products': (_at_least(1), 'products in the reference data'),
}
