"""The DAG's helpers without Airflow: settings, the report command, the two e-mails."""

import datetime
import json
import pathlib

import pytest

from goldstream_dag import command, mail, settings
from goldstream_dag.settings import resolve, schedule_settings

DAG_FOLDER = pathlib.Path('/srv/goldstream/dags')


def _variables(**values):
    return lambda name: values.get(name)


def test_a_run_param_beats_a_variable_which_beats_the_default():
    job = resolve(
        {'runner': 'FlinkRunner', 'reports_path': ''},
        _variables(
            goldstream_report_runner='DataflowRunner',
            goldstream_report_reports_path='/data/reports',
            goldstream_report_recipients='a@example.com, b@example.com',
        ),
        DAG_FOLDER,
    )
    assert job.runner == 'FlinkRunner'
    assert job.reports_path == '/data/reports'
    assert job.recipients == ('a@example.com', 'b@example.com')
    assert job.failure_recipients == job.recipients


def test_the_defaults_are_the_clone_above_the_dag_folder():
    job = resolve({}, _variables(), DAG_FOLDER)
    assert job.project_dir == pathlib.Path('/srv/goldstream')
    assert job.python == '/srv/goldstream/.venv/bin/python'
    assert job.runner == 'DirectRunner'
    assert (job.archive_path, job.reference_data, job.reports_path) == (
        '/srv/goldstream/archive',
        '/srv/goldstream/reference',
        '/srv/goldstream/reports',
    )
    assert job.recipients == () and job.smtp_conn_id == 'goldstream_smtp'
    assert job.extra_args == () and job.timeout_s == 7200


def test_extra_args_are_shell_words_and_urls_stay_as_they_are():
    job = resolve(
        {
            'extra_args': "--source=kafka --orders_topic='my orders'",
            'reports_path': 'gs://bucket/reports',
            'failure_recipients': 'ops@x.org',
        },
        _variables(),
        DAG_FOLDER,
    )
    assert job.extra_args == ('--source=kafka', '--orders_topic=my orders')
    assert job.reports_path == 'gs://bucket/reports'
    assert job.failure_recipients == ('ops@x.org',)


@pytest.mark.parametrize(
    'params, message',
    [
        ({'extra_args': '--orders_topic="unclosed'}, 'extra_args does not parse'),
        ({'timeout_s': 'soon'}, 'timeout_s must be a number of seconds above 0'),
        ({'timeout_s': '0'}, 'timeout_s must be a number of seconds above 0'),
    ],
)
def test_a_bad_setting_names_itself(params, message):
    with pytest.raises(ValueError, match=message):
        resolve(params, _variables(), DAG_FOLDER)


def test_the_shape_defaults_and_settings():
    default = schedule_settings({})
    assert (default.retries, default.retry_delay, default.max_retry_delay) == (
        3,
        datetime.timedelta(minutes=5),
        datetime.timedelta(hours=1),
    )
    assert default.start_date == datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
    quick = schedule_settings(
        {'GOLDSTREAM_REPORT_RETRIES': '1', 'GOLDSTREAM_REPORT_RETRY_DELAY_S': '1'}
    )
    assert (quick.retries, quick.retry_delay.total_seconds()) == (1, 1)
    with pytest.raises(
        ValueError, match='GOLDSTREAM_REPORT_RETRY_DELAY_S must be a number of at least 1'
    ):
        schedule_settings({'GOLDSTREAM_REPORT_RETRY_DELAY_S': '0'})
    with pytest.raises(ValueError, match='GOLDSTREAM_REPORT_START_DATE must be YYYY-MM-DD'):
        schedule_settings({'GOLDSTREAM_REPORT_START_DATE': 'yesterday'})


def test_a_run_reports_on_the_utc_day_before_its_logical_date():
    two_am = datetime.datetime(2026, 11, 19, 2, 0, tzinfo=datetime.timezone.utc)
    assert command.report_day(two_am) == datetime.date(2026, 11, 18)
    # the same instant written in another zone is still the 19th in UTC
    berlin = two_am.astimezone(datetime.timezone(datetime.timedelta(hours=1)))
    assert command.report_day(berlin) == datetime.date(2026, 11, 18)


def test_the_command_runs_the_pipeline_module_with_every_setting():
    job = resolve({'extra_args': '--source=kafka'}, _variables(), DAG_FOLDER)
    assert command.report_command(job, datetime.date(2026, 11, 18)) == [
        '/srv/goldstream/.venv/bin/python',
        '-m',
        'pipelines.daily_report',
        '--date=2026-11-18',
        '--runner=DirectRunner',
        '--archive_path=/srv/goldstream/archive',
        '--reference_data=/srv/goldstream/reference',
        '--reports_path=/srv/goldstream/reports',
        '--source=kafka',
    ]


def test_a_missing_interpreter_says_how_to_make_one(tmp_path):
    job = resolve({'project_dir': str(tmp_path)}, _variables(), DAG_FOLDER)
    with pytest.raises(
        command.ReportFailed,
        match=r'interpreter .*/\.venv/bin/python does '
        r'not exist: run ./run_local.sh setup',
    ):
        command.run_report(job, datetime.date(2026, 11, 18), print)


def test_a_report_that_exits_non_zero_is_a_failure_quoting_its_last_lines(tmp_path):
    root = pathlib.Path(__file__).resolve().parents[2]
    job = resolve(
        {
            'project_dir': str(root),
            'python': str(root / '.venv' / 'bin' / 'python'),
            'archive_path': str(tmp_path / 'none'),
        },
        _variables(),
        DAG_FOLDER,
    )
    lines = []
    with pytest.raises(command.ReportFailed) as failure:
        command.run_report(job, datetime.date(2026, 11, 18), lines.append)
    assert 'the report of 2026-11-18 exited with code 2' in str(failure.value)
    assert f'error: --archive_path {tmp_path / "none"} does not exist' in str(failure.value)
    assert lines[0].startswith('running: ') and any(line.startswith('error:') for line in lines)


def test_the_report_mail_is_the_page_with_every_csv_attached(tmp_path):
    (tmp_path / 'report.json').write_text(
        json.dumps(
            {
                'date': '2026-11-18',
                'summary': {'orders': 2940, 'fraud_alerts': 9, 'dead_letters': 1060},
            }
        )
    )
    (tmp_path / 'report.html').write_text('<html>page</html>')
    for name in ('summary.csv', 'alerts.csv'):
        (tmp_path / name).write_text('a,b\n')
    message = mail.report_mail(tmp_path)
    assert message.subject == (
        'goldstream daily report 2026-11-18: 2,940 orders, 9 fraud alerts, 1,060 dead letters'
    )
    assert message.html == '<html>page</html>'
    assert message.attachments == (str(tmp_path / 'alerts.csv'), str(tmp_path / 'summary.csv'))


def test_the_failure_mail_says_what_failed_and_what_to_do():
    message = mail.failure_mail(
        datetime.date(2026, 11, 18),
        'build_report',
        'exited with <code> 2',
        4,
        'goldstream_daily_report',
        'run-1',
    )
    assert message.subject == 'goldstream daily report 2026-11-18 FAILED after 4 tries'
    assert 'was not made' in message.html and 'failed 4 times' in message.html
    assert 'exited with &lt;code&gt; 2' in message.html
    assert 'clear the failed task' in message.html and message.attachments == ()
    sent_not = mail.failure_mail(datetime.date(2026, 11, 18), 'email_report', '', 4, 'd', 'r')
    assert 'was made but not e-mailed' in sent_not.html and '(see the task log)' in sent_not.html


def test_every_setting_is_documented():
    assert set(settings.SETTINGS) == set(settings.JobSettings._fields)
