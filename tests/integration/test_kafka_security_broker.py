"""Every client against the secured broker (SASL_SSL, SCRAM-SHA-512, client certificates):
the generator, the streaming pipeline and the daily report connect with the right password
and fail with one `error:` line with a wrong one, and no output of any run shows the password.

Each command runs as the user runs it, in a process of its own with its stdout, stderr and
logs captured together; the generator with kafka-python's DEBUG logging on, which logs its
configuration and the bytes it sends.
"""

import json
import os
import subprocess
import sys
import uuid
from typing import Dict, List, Optional, Tuple

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from connectors.kafka_topics import end_offsets, ensure_topics
from pipelines.generator.ground_truth import load_ground_truth
from pipelines.generator.producer import read_range
from tests.integration.local_scripts import ROOT

DAY = '2026-11-18'  # the generator's default start; --event_timestamps puts its records there
COUNT = 400
RUN_TIMEOUT_S = 240
WRONG = 'not-the-password'
PASSWORD_VARIABLE = 'GOLDSTREAM_TEST_KAFKA_PASSWORD'
DEBUG_GENERATOR = (
    'import logging, sys; logging.basicConfig(level=logging.DEBUG); '
    'from pipelines.generator.cli import main; '
    'sys.exit(main([*sys.argv[1:], "--verbose"]))'
)  # --verbose: kafka-python's too

OUTPUTS: List[str] = []  # every captured output of this module, for the last test


def command(*args: str, password: Optional[str] = None) -> List:
    """A command line and its environment; `password` goes into PASSWORD_VARIABLE."""
    env = dict(os.environ)
    env.pop(PASSWORD_VARIABLE, None)
    if password is not None:
        env[PASSWORD_VARIABLE] = password
    return [[sys.executable, *args], env]


def run_all(commands: Dict[str, List]) -> Dict[str, subprocess.CompletedProcess]:
    """Runs the commands side by side; their stdout, stderr and logs as one text each."""
    running = {
        name: subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for name, (argv, env) in commands.items()
    }
    done = {}
    for name, process in running.items():
        try:
            output, _ = process.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        OUTPUTS.append(output)
        done[name] = subprocess.CompletedProcess(process.args, process.returncode, output)
    return done


@pytest.fixture(scope='module')
def topics(secured_kafka) -> Dict[str, str]:
    """The run's topics, kept without a time limit: the records are stamped with DAY, which
    the broker's 24 h retention would delete at its next check, before the report reads."""
    run = uuid.uuid4().hex[:8]
    names = {kind: f'secure.{kind}.{run}' for kind in ('orders', 'alerts', 'metrics', 'dlq')}
    admin = KafkaAdminClient(
        bootstrap_servers=secured_kafka.bootstrap, **secured_kafka.security().client_config()
    )
    try:
        admin.create_topics(
            [NewTopic(name, 3, 1, topic_configs={'retention.ms': '-1'}) for name in names.values()]
        )
    finally:
        admin.close()
    ensure_topics(
        secured_kafka.bootstrap,
        {name: 3 for name in names.values()},
        security=secured_kafka.security(),
    )  # waits for their partitions
    return names


def generator(kafka, topics, folder, options, debug=False) -> Tuple[List[str], List[str]]:
    return ['-c', DEBUG_GENERATOR] if debug else ['-m', 'pipelines.generator'], [
        f'--brokers={kafka.bootstrap}',
        f'--topic={topics["orders"]}',
        f'--count={COUNT}',
        '--seed=23',
        '--event_timestamps',
        '--quiet',
        '--card_prefix=sec',
        f'--reference_data={folder / "reference"}',
        f'--ground_truth={folder / "ground_truth.json"}',
        *options,
    ]


def streaming(kafka, topics, folder, options) -> List[str]:
    return [
        '-m',
        'pipelines.streaming',
        '--bounded',
        '--start_from=earliest',
        f'--brokers={kafka.bootstrap}',
        f'--orders_topic={topics["orders"]}',
        f'--alerts_topic={topics["alerts"]}',
        f'--metrics_topic={topics["metrics"]}',
        f'--dead_letter_topic={topics["dlq"]}',
        f'--consumer_group=secure-{uuid.uuid4().hex[:6]}',
        f'--reference_data={folder / "reference"}',
        f'--archive_path={folder / "archive"}',
        *options,
    ]


def report(kafka, topics, folder, options) -> List[str]:
    return [
        '-m',
        'pipelines.daily_report',
        '--source=kafka',
        f'--date={DAY}',
        f'--brokers={kafka.bootstrap}',
        f'--orders_topic={topics["orders"]}',
        f'--reference_data={folder / "reference"}',
        f'--reports_path={folder / "reports"}',
        *options,
    ]


def test_with_the_right_password_every_client_does_its_job(secured_kafka, topics, tmp_path):
    kafka = secured_kafka
    from_file = kafka.options  # --sasl_password_file=...
    from_env = kafka.options_with_password_env(PASSWORD_VARIABLE)
    prefix, args = generator(kafka, topics, tmp_path, from_file, debug=True)
    produced = run_all({'generator': command(*prefix, *args)})['generator']
    assert produced.returncode == 0, produced.stdout[-3000:]
    assert f'produced {COUNT} records' in produced.stdout
    assert 'sasl_plain_password' in produced.stdout  # kafka-python's DEBUG config dump ran

    # Both read the orders the generator wrote; side by side they take the time of one.
    done = run_all(
        {
            'streaming': command(
                *streaming(kafka, topics, tmp_path, from_env), password=kafka.password
            ),
            'report': command(*report(kafka, topics, tmp_path, from_env), password=kafka.password),
        }
    )
    for name, run in done.items():
        assert run.returncode == 0, f'{name}: {run.stdout[-3000:]}'
    truth = load_ground_truth(tmp_path / 'ground_truth.json')
    security = kafka.security()
    alerts = [
        json.loads(value)
        for _, value in read_range(
            kafka.bootstrap,
            topics['alerts'],
            {},
            end_offsets(kafka.bootstrap, topics['alerts'], security),
            security=security,
        )
    ]
    assert {(a['rule'], a['card_id'], tuple(a['order_ids'])) for a in alerts} == {
        (a.rule, a.card_id, tuple(a.order_ids)) for a in truth.alerts
    }
    figures = json.loads((tmp_path / 'reports' / DAY / 'report.json').read_text())
    headline = {row['figure']: row['value'] for row in figures['headlines']}
    assert headline['orders'] == truth.orders.valid
    assert headline['fraud_alerts'] == len(truth.alerts)


def test_with_a_wrong_password_every_client_fails_with_one_line_naming_what_to_check(
    secured_kafka, topics, tmp_path
):
    kafka = secured_kafka
    from_env = kafka.options_with_password_env(PASSWORD_VARIABLE)
    wrong_file = tmp_path / 'wrong.password'
    wrong_file.write_text(WRONG + '\n')
    from_wrong_file = [
        f'--sasl_password_file={wrong_file}' if o.startswith('--sasl_password_file=') else o
        for o in kafka.options
    ]
    prefix, args = generator(kafka, topics, tmp_path, from_wrong_file)
    done = run_all(
        {
            'generator': command(*prefix, *args),
            'streaming': command(*streaming(kafka, topics, tmp_path, from_env), password=WRONG),
            'report': command(*report(kafka, topics, tmp_path, from_env), password=WRONG),
        }
    )
    for name, run in done.items():
        errors = [line for line in run.stdout.splitlines() if line.startswith('error:')]
        assert run.returncode == 2 and len(errors) == 1, f'{name}: {run.stdout[-3000:]}'
        assert 'Traceback' not in run.stdout, name
        assert "SASL login of user 'goldstream' (SCRAM-SHA-512)" in errors[0], errors[0]
        source = wrong_file if name == 'generator' else PASSWORD_VARIABLE
        assert 'check --sasl_username and the password in' in errors[0]
        assert str(source) in errors[0], (name, errors[0])


def test_a_ca_that_did_not_sign_the_broker_certificate_is_one_line_too(
    secured_kafka, topics, tmp_path
):
    kafka = secured_kafka
    other_ca = [
        o
        if not o.startswith('--ssl_cafile=')
        else '--ssl_cafile=/etc/ssl/certs/ca-certificates.crt'
        for o in kafka.options
    ]
    prefix, args = generator(kafka, topics, tmp_path, other_ca)
    run = run_all({'generator': command(*prefix, *args)})['generator']
    errors = [line for line in run.stdout.splitlines() if line.startswith('error:')]
    assert run.returncode == 2 and len(errors) == 1, run.stdout[-3000:]
    assert 'TLS handshake' in errors[0] and '--ssl_cafile' in errors[0]


def test_no_output_of_any_run_shows_the_password(secured_kafka):
    assert len(OUTPUTS) == 7  # 3 runs with the right password, 3 with a wrong one, 1 CA
    for output in OUTPUTS:
        assert secured_kafka.password not in output
        assert WRONG not in output
