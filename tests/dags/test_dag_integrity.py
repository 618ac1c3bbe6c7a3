"""The DAG file as Airflow loads it: no import errors, the schedule, retries and catch-up."""

import json
import re
import subprocess

import pytest

from tests.dags import airflow_cli
from tests.dags.airflow_cli import DAG_ID, DAGS, ROOT


def _shape(airflow_bin, tmp_path, **environ):
    env = airflow_cli.base_env(tmp_path / 'home')
    env.update(environ)
    python = airflow_bin.parent / 'python'
    out = tmp_path / 'shape.json'
    done = subprocess.run(
        [str(python), str(ROOT / 'tests' / 'dags' / 'dag_shape.py'), str(DAGS), str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return json.loads(out.read_text(encoding='utf-8'))


@pytest.fixture(scope='module')
def shape(airflow_bin, tmp_path_factory):
    return _shape(airflow_bin, tmp_path_factory.mktemp('integrity'))


def test_the_dag_folder_imports_with_no_errors_and_holds_one_dag(shape):
    assert shape['import_errors'] == {}
    assert list(shape['dags']) == [DAG_ID]


def test_it_runs_every_night_at_two_utc_and_catches_up_one_day_at_a_time(shape):
    dag = shape['dags'][DAG_ID]
    assert dag['schedule'] == '0 2 * * *' and dag['timezone'] == 'UTC'
    assert dag['timetable'] == 'CronTriggerTimetable'  # a run at 02:00, not an interval
    assert dag['catchup'] is True and dag['max_active_runs'] == 1
    assert dag['start_date'] == '2026-11-01T00:00:00+00:00'
    assert {'runner', 'recipients', 'extra_args', 'python'} <= set(dag['params'])


def test_the_report_and_its_email_retry_with_exponential_back_off(shape):
    tasks = shape['dags'][DAG_ID]['tasks']
    for task_id in ('build_report', 'email_report'):
        task = tasks[task_id]
        assert task['retries'] == 3 and task['retry_delay_s'] == 300, task_id
        assert task['retry_exponential_backoff'] and task['max_retry_delay_s'] == 3600
        assert task['trigger_rule'] == 'all_success'


def test_the_failure_message_comes_after_the_last_retry_of_either_task(shape):
    tasks = shape['dags'][DAG_ID]['tasks']
    assert tasks['build_report']['downstream'] == ['email_failure', 'email_report']
    failure = tasks['email_failure']
    assert failure['trigger_rule'] == 'one_failed' and failure['retries'] == 0
    assert failure['upstream'] == ['build_report', 'email_report']
    assert failure['downstream'] == []


def test_retries_and_their_delay_are_settings_of_the_environment(airflow_bin, tmp_path):
    shape = _shape(
        airflow_bin,
        tmp_path,
        GOLDSTREAM_REPORT_RETRIES='1',
        GOLDSTREAM_REPORT_RETRY_DELAY_S='2',
        GOLDSTREAM_REPORT_START_DATE='2026-01-05',
    )
    dag = shape['dags'][DAG_ID]
    assert dag['tasks']['build_report']['retries'] == 1
    assert dag['tasks']['build_report']['retry_delay_s'] == 2
    assert dag['start_date'] == '2026-01-05T00:00:00+00:00'


def test_a_bad_setting_is_an_import_error_that_names_it(airflow_bin, tmp_path):
    shape = _shape(airflow_bin, tmp_path, GOLDSTREAM_REPORT_RETRIES='many')
    assert shape['dags'] == {}
    [error] = shape['import_errors'].values()
    assert "GOLDSTREAM_REPORT_RETRIES must be a number of at least 0, got 'many'" in error


def test_a_backfill_makes_one_run_per_day_of_the_range(airflow_home):
    # the runs at 02:00 of 11 to 13 November, which report on 10 to 12 November
    env = airflow_cli.base_env(airflow_home)
    done = airflow_cli.run(['dags', 'reserialize'], env)
    assert done.returncode == 0, done.stdout[-3000:]
    done = airflow_cli.run(
        [
            'backfill',
            'create',
            '--dag-id',
            DAG_ID,
            '--from-date',
            '2026-11-11',
            '--to-date',
            '2026-11-13T02:00:00+00:00',
            '--dry-run',
        ],
        env,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    runs = re.findall(r'^\| (2026-\S+ \S+) ', done.stdout, flags=re.MULTILINE)
    assert runs == [
        '2026-11-11 02:00:00+00:00',
        '2026-11-12 02:00:00+00:00',
        '2026-11-13 02:00:00+00:00',
    ]
