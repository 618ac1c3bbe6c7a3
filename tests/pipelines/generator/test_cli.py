"""The generator: the simple order traffic of the Kafka IO tests, and the command line."""

import collections
import re
import subprocess
import sys
import time

import pytest

from connectors.order_codec import decode_order
from pipelines.generator import cli
from pipelines.generator.cli import encoder_for, generate_orders, main, order_fingerprint
from pipelines.generator.config import TrafficConfig
from pipelines.generator.ground_truth import load_ground_truth
from pipelines.generator.plan import plan_traffic
from pipelines.generator.producer import ProduceReport
from pipelines.local.cache import REPO_ROOT
from transforms.fraud_rules import FraudThresholds


def test_same_seed_gives_the_same_orders_and_another_seed_does_not():
    assert list(generate_orders(50, seed=3)) == list(generate_orders(50, seed=3))
    assert list(generate_orders(50, seed=3)) != list(generate_orders(50, seed=4))


def test_order_ids_are_unique():
    ids = [order['order_id'] for order in generate_orders(2000)]
    assert len(set(ids)) == len(ids)


def test_mixed_format_alternates_and_every_record_decodes_to_its_order():
    orders = list(generate_orders(400, seed=5))
    encode = encoder_for('mixed')
    raws = [encode(n, order) for n, order in enumerate(orders)]
    assert collections.Counter(raw[0] == 0 for raw in raws) == {True: 200, False: 200}
    assert [order_fingerprint(decode_order(raw)) for raw in raws] == [
        order_fingerprint(order) for order in orders
    ]


def test_v1_and_v2_events_are_both_generated_and_v1_carries_no_tax():
    orders = list(generate_orders(200))
    assert {order['version'] for order in orders} == {1, 2}
    assert all(order['tax'] == 0.0 for order in orders if order['version'] == 1)


def test_unknown_format_is_refused_with_the_choices():
    with pytest.raises(ValueError, match='json, avro, mixed'):
        encoder_for('xml')


# The command line (no broker: --plan_only, or an address nobody listens on) ---------------


def test_plan_only_writes_the_reference_data_and_a_ground_truth_that_loads(tmp_path, capsys):
    status = main(
        [
            '--count',
            '600',
            '--seed',
            '5',
            '--plan_only',
            '--reference_data',
            str(tmp_path / 'ref'),
            '--ground_truth',
            str(tmp_path / 'truth.json'),
        ]
    )
    assert status == 0
    truth = load_ground_truth(tmp_path / 'truth.json')
    assert truth.orders.total == 600 and len(truth.alerts) == 9
    assert truth.config['seed'] == 5
    assert sorted(p.name for p in (tmp_path / 'ref').iterdir()) == [
        'customers.csv',
        'products.jsonl',
    ]
    assert 'planned 600 records' in capsys.readouterr().out


def test_the_cli_ground_truth_equals_the_library_plan_for_the_same_settings(tmp_path):
    main(
        [
            '--count',
            '700',
            '--seed',
            '8',
            '--format',
            'avro',
            '--velocity_count',
            '10',
            '--plan_only',
            '--reference_data',
            str(tmp_path),
            '--ground_truth',
            str(tmp_path / 'truth.json'),
        ]
    )
    truth = load_ground_truth(tmp_path / 'truth.json')
    config = TrafficConfig(
        count=700, seed=8, fmt='avro', thresholds=FraudThresholds(velocity_count=10)
    )
    plan = plan_traffic(config, now_ms=truth.config['now_ms'])
    assert truth == plan.ground_truth


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--format', 'xml'], r"invalid choice: 'xml' \(choose from 'json', 'avro', 'mixed'\)"),
        (['--count', '-5'], 'argument --count: must be 0 or more, got -5'),
        (['--rate', '0'], 'argument --rate: must be greater than 0'),
        (['--start', 'tomorrow'], 'argument --start: expected an ISO 8601 date-time with a zone'),
        (['--count', '30'], r'count 30 is too small: .* raise count \(--count\)'),
        (['--malformed_rate', '3'], 'malformed_rate must be a number from 0 to 1, got 3.0'),
    ],
)
def test_bad_arguments_exit_with_a_message_saying_what_is_allowed(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv + ['--plan_only'])
    assert exited.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_an_unreachable_broker_is_one_line_naming_it_and_how_to_start_one(tmp_path):
    # In a process of its own: what the command prints, and nothing that other tests'
    # pipelines (their SDK harness threads) may print into this process's stderr.
    done = subprocess.run(
        [
            sys.executable,
            '-m',
            'pipelines.generator',
            '--count',
            '300',
            '--brokers',
            '127.0.0.1:1',
            '--quiet',
            '--reference_data',
            str(tmp_path),
            '--ground_truth',
            str(tmp_path / 'truth.json'),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        'error: no Kafka broker answered at 127.0.0.1:1; start one with '
        './run_local.sh broker start or pass --brokers\n'
    )


@pytest.mark.parametrize(
    'argv, message',
    [
        (
            ['--plan-only'],
            'error: unknown option --plan-only (options are spelled with '
            'underscores: --plan_only); see --help for the options\n',
        ),
        (
            ['--security-protocol=SSL'],
            'error: unknown option --security-protocol (options are '
            'spelled with underscores: --security_protocol); see --help '
            'for the options\n',
        ),
        (
            ['--cuont=5'],
            'error: unknown option --cuont (did you mean --count?); see --help for the options\n',
        ),
    ],
)
def test_a_dashed_or_unknown_option_is_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err == message


def produce_to(topic, tmp_path, monkeypatch, *extra):
    """Runs the command against a broker with only `orders`; returns what it created."""
    created = []
    monkeypatch.setattr(cli, 'check_kafka_access', lambda brokers, security: None)
    monkeypatch.setattr(
        cli,
        'missing_topics',
        lambda brokers, topics, security: [t for t in topics if t != 'orders'],
    )
    monkeypatch.setattr(
        cli, 'ensure_topics', lambda brokers, topics, security: created.extend(topics)
    )
    monkeypatch.setattr(cli, 'end_offsets', lambda *args: {})
    monkeypatch.setattr(cli, 'produce_plan', lambda *args, **kwargs: ProduceReport(0, (), 1.0))
    status = main(
        [
            '--count',
            '300',
            '--quiet',
            '--topic',
            topic,
            '--brokers',
            'kafka:9092',
            '--reference_data',
            str(tmp_path),
            '--ground_truth',
            str(tmp_path / 'truth.json'),
            *extra,
        ]
    )
    return status, created


def test_a_topic_that_does_not_exist_is_an_error_not_a_new_topic(tmp_path, monkeypatch, capsys):
    assert produce_to('ordres', tmp_path, monkeypatch) == (2, [])
    assert capsys.readouterr().err == (
        "error: topic 'ordres' does not exist on kafka:9092; "
        'check --topic, or pass --create_topic to create it\n'
    )


def test_create_topic_creates_it_and_orders_is_created_anyway(tmp_path, monkeypatch):
    assert produce_to('fresh', tmp_path, monkeypatch, '--create_topic') == (0, ['fresh'])
    assert produce_to('orders', tmp_path, monkeypatch) == (0, ['orders'])


def test_help_names_the_command_and_shows_every_default(capsys):
    with pytest.raises(SystemExit) as exited:
        main(['--help'])
    assert exited.value.code == 0
    out = ' '.join(capsys.readouterr().out.split())
    assert out.startswith('usage: python -m pipelines.generator [options]')
    for shown in (
        'file format of the customers (default: csv)',
        'topic to write (default: orders)',
        '--partitions PARTITIONS partitions when the topic has to be created (default: 3)',
        '(default: 10000)',
    ):
        assert shown in out


def test_start_accepts_iso_with_a_zone_epoch_millis_or_now(tmp_path):
    def planned_start(start: str) -> int:
        main(
            [
                '--count',
                '300',
                '--start',
                start,
                '--plan_only',
                '--reference_data',
                str(tmp_path),
                '--ground_truth',
                str(tmp_path / 'truth.json'),
            ]
        )
        return load_ground_truth(tmp_path / 'truth.json').config['start_ms']

    assert planned_start('2026-11-18T09:00:00+01:00') == 1_794_988_800_000
    assert planned_start('1794988800000') == 1_794_988_800_000
    before_ms = int(time.time() * 1000)
    assert before_ms <= planned_start('now') <= int(time.time() * 1000)
