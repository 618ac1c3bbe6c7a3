"""`./run_local.sh flink start|status|stop`, and the streaming pipeline on that session cluster.

The cluster gets its own state folder and free ports, so it never meets a developer's cluster;
the fixture always stops it, whatever the test did.
"""

import datetime
import json
import os
import pathlib
import socket
import urllib.request

import pytest

from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import plan_traffic
from pipelines.generator.reference_data import write_reference_data
from pipelines.local import cache, harness
from tests.integration.live_checks import check_live_run
from tests.integration.local_scripts import free_port, run_script
from tests.pipelines.daily_report.report_setup import expected_report, run_report, write_archive

CONFIG = TrafficConfig(count=3_000, seed=11)
REPORT_CONFIG = TrafficConfig(count=1_500, seed=5, events_per_second=0.2)
REPORT_NOW_MS = 1_795_600_000_000  # a fixed wall clock (2026-11-26)
REPORT_DAY = datetime.date(2026, 11, 18)
REPORT_TABLES = (
    'summary',
    'revenue_per_hour',
    'top_products',
    'top_customers',
    'revenue_per_category',
    'alerts_per_rule',
    'dead_letters_per_reason',
)


def _overview(rest_port: str) -> dict:
    with urllib.request.urlopen(f'http://127.0.0.1:{rest_port}/overview', timeout=5) as answer:
        return json.load(answer)


@pytest.fixture(scope='module')
def flink_env(tmp_path_factory):
    env = dict(os.environ)
    env['GOLDSTREAM_STATE_DIR'] = str(tmp_path_factory.mktemp('flink') / 'state')
    env['GOLDSTREAM_FLINK_REST_PORT'] = str(free_port())
    env['GOLDSTREAM_FLINK_RPC_PORT'] = str(free_port())
    yield env
    run_script(env, 'flink', 'stop')  # never leave it running, whatever the tests did


@pytest.fixture(scope='module')
def flink_master(flink_env):
    """A running session cluster's REST address (started once for the module)."""
    started = run_script(flink_env, 'flink', 'start')
    assert started.returncode == 0, started.stderr
    return f'127.0.0.1:{flink_env["GOLDSTREAM_FLINK_REST_PORT"]}'


def test_start_status_second_start_stop_status(flink_env):
    env = flink_env
    state = pathlib.Path(env['GOLDSTREAM_STATE_DIR']) / 'flink'
    port = env['GOLDSTREAM_FLINK_REST_PORT']

    started = run_script(env, 'flink', 'start')
    assert started.returncode == 0, started.stderr
    assert f'Flink web UI: http://127.0.0.1:{port}' in started.stderr
    overview = _overview(port)
    assert overview['taskmanagers'] >= 1
    assert overview['slots-total'] == 4
    assert overview['flink-version'] == cache.read_versions()['FLINK_VERSION']
    pids = [int((state / f'{role}.pid').read_text()) for role in ('jobmanager', 'taskmanager')]
    assert (state / 'logs' / 'flink-jobmanager.log').is_file()

    status_up = run_script(env, 'flink', 'status')
    assert status_up.returncode == 0
    assert status_up.stdout.startswith('up')

    again = run_script(env, 'flink', 'start')
    assert again.returncode == 0, again.stderr
    assert 'already up' in again.stderr
    assert [int((state / f'{r}.pid').read_text()) for r in ('jobmanager', 'taskmanager')] == pids

    stopped = run_script(env, 'flink', 'stop')
    assert stopped.returncode == 0, stopped.stderr
    assert not any(pathlib.Path(f'/proc/{pid}').exists() for pid in pids)

    status_down = run_script(env, 'flink', 'status')
    assert status_down.returncode == 3
    assert status_down.stdout.strip() == 'down'


def test_start_on_a_taken_port_names_the_port_and_the_way_out(flink_env):
    env = dict(flink_env, GOLDSTREAM_FLINK_REST_PORT=str(free_port()))
    with socket.socket() as holder:
        holder.bind(('127.0.0.1', int(env['GOLDSTREAM_FLINK_REST_PORT'])))
        holder.listen()
        result = run_script(env, 'flink', 'start')
    assert result.returncode != 0
    assert f'port {env["GOLDSTREAM_FLINK_REST_PORT"]}' in result.stderr
    assert 'GOLDSTREAM_FLINK_REST_PORT=' in result.stderr


def test_streaming_pipeline_on_the_session_cluster_matches_the_ground_truth(
    flink_master, kafka_bootstrap, topic_name, tmp_path
):
    run = harness.prepare_run(
        kafka_bootstrap, harness.Topics.with_prefix(topic_name), tmp_path, CONFIG
    )
    run.produce()
    finished_before = _overview(flink_master.split(':')[1])['jobs-finished']

    harness.run_bounded(
        run.args(
            '--runner=FlinkRunner',
            f'--flink_master={flink_master}',
            '--parallelism=2',
            '--bounded',
            '--start_from=earliest',
        )
    )

    # The job ran on the session cluster, not on an embedded Flink.
    assert _overview(flink_master.split(':')[1])['jobs-finished'] == finished_before + 1
    verdict = harness.compare(run.truth, run.outputs())
    assert verdict.alerts_agree and verdict.metrics_agree, verdict.problems()


def test_daily_report_on_the_session_cluster_matches_the_ground_truth(flink_master, tmp_path):
    plan = plan_traffic(REPORT_CONFIG, now_ms=REPORT_NOW_MS)
    write_reference_data(
        tmp_path / 'reference',
        seed=REPORT_CONFIG.seed,
        customers=REPORT_CONFIG.customers,
        products=REPORT_CONFIG.products,
    )
    write_archive(tmp_path / 'archive', plan, REPORT_NOW_MS)
    finished_before = _overview(flink_master.split(':')[1])['jobs-finished']

    report = run_report(
        REPORT_DAY.isoformat(),
        tmp_path / 'archive',
        tmp_path / 'reference',
        tmp_path / 'reports',
        '--runner=FlinkRunner',
        f'--flink_master={flink_master}',
        '--parallelism=2',
    )

    assert _overview(flink_master.split(':')[1])['jobs-finished'] == finished_before + 1
    expected = expected_report(plan, REPORT_NOW_MS, REPORT_DAY)
    assert {t: report[t] for t in REPORT_TABLES} == {t: expected[t] for t in REPORT_TABLES}


def test_the_streaming_pipeline_runs_live_on_the_session_cluster(
    flink_master, kafka_bootstrap, tmp_path
):
    # Unbounded, with checkpointing (5 s) and the source committing after checkpoints.
    # A longer deadline than embedded Flink's: the cluster's TaskManager runs beside the
    # job servers the module's earlier tests left in this process.
    check_live_run(
        kafka_bootstrap,
        tmp_path,
        ['--runner=FlinkRunner', f'--flink_master={flink_master}'],
        alert_deadline_s=240,
        quiet_stop=False,
    )
