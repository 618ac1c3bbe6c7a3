"""The DAG run by Airflow's own `airflow dags test`, against the real broker and an SMTP sink.

A generated day is produced to a topic of its own; the DAG's run of 2026-11-19 (02:00) makes
the report of 2026-11-18 from Kafka in the project's interpreter (DirectRunner) and e-mails
it to the sink this test starts. A second run, whose archive path is wrong, fails its two
tries (retry delay 1 s) and sends the failure message instead.
"""

import datetime
import json
import time
import uuid

import pytest

from pipelines.daily_report.writers import TABLE_COLUMNS
from pipelines.generator.config import TrafficConfig
from pipelines.generator.producer import produce_plan
from pipelines.local import harness
from tests.dags import airflow_cli
from tests.dags.smtp_sink import SmtpSink
from tests.pipelines.daily_report.report_setup import expected_report

# 600 records over 50 minutes of event time from 08:00 UTC on 2026-11-18: every fraud rule
# and dead-letter reason, small enough for a quick run.
CONFIG = TrafficConfig(count=600, seed=5, events_per_second=0.2)
LOGICAL_DATE = '2026-11-19'
DAY = '2026-11-18'  # the day before the run's logical date
RECIPIENTS = ['manager@example.com', 'analyst@example.com']
FAILURE_RECIPIENTS = ['oncall@example.com']
SENDER = 'reports@goldstream.example'
TABLES = (
    'currency',
    'summary',
    'revenue_per_currency',
    'revenue_per_hour',
    'top_products',
    'top_customers',
    'revenue_per_category',
    'alerts_per_rule',
    'alerts',
    'dead_letters_per_reason',
)


def _settings(sink, reports, **variables):
    settings = {
        'AIRFLOW_CONN_GOLDSTREAM_SMTP': airflow_cli.smtp_connection(sink.port),
        'AIRFLOW_VAR_GOLDSTREAM_REPORT_RECIPIENTS': ', '.join(RECIPIENTS),
        'AIRFLOW_VAR_GOLDSTREAM_REPORT_FAILURE_RECIPIENTS': ', '.join(FAILURE_RECIPIENTS),
        'AIRFLOW_VAR_GOLDSTREAM_REPORT_MAIL_FROM': SENDER,
        'AIRFLOW_VAR_GOLDSTREAM_REPORT_REPORTS_PATH': str(reports),
        'GOLDSTREAM_REPORT_RETRIES': '1',
        'GOLDSTREAM_REPORT_RETRY_DELAY_S': '1',
    }
    settings.update(
        {
            f'AIRFLOW_VAR_GOLDSTREAM_REPORT_{name.upper()}': value
            for name, value in variables.items()
        }
    )
    return settings


@pytest.fixture(scope='module')
def generated_day(kafka_bootstrap, tmp_path_factory):
    """The orders topic (a generated day written to it), the reference data and the plan."""
    prefix = f'test.dag.{uuid.uuid4().hex[:8]}'
    run = harness.prepare_run(
        kafka_bootstrap,
        harness.Topics.with_prefix(prefix),
        tmp_path_factory.mktemp('dag_day'),
        CONFIG,
    )
    produce_plan(
        kafka_bootstrap, f'{prefix}.orders', run.plan, partitions=None, event_timestamps=True
    )
    return run


@pytest.fixture(scope='module')
def successful_run(airflow_home, generated_day, tmp_path_factory):
    """(DagRun, reports folder, e-mails received) of a run that succeeds."""
    reports = tmp_path_factory.mktemp('dag_reports')
    with SmtpSink() as sink:
        started = time.monotonic()
        run = airflow_cli.dags_test(
            airflow_home,
            LOGICAL_DATE,
            _settings(
                sink,
                reports,
                reference_data=str(generated_day.reference),
                extra_args=f'--source=kafka --brokers={generated_day.bootstrap} '
                f'--orders_topic={generated_day.prefix}.orders',
            ),
        )
        print(f'\nairflow dags test (success) in {time.monotonic() - started:.1f} s')
        received = sink.wait_for(1) if run.returncode == 0 else sink.received
    return run, reports / DAY, received


def test_the_run_succeeds_and_each_task_runs_once(successful_run):
    run, _, _ = successful_run
    assert run.returncode == 0, run.output[-4000:]
    assert run.state == 'success'
    assert (run.tries('build_report'), run.tries('email_report'), run.tries('email_failure')) == (
        1,
        1,
        0,
    )


def test_the_report_files_exist_and_equal_the_ground_truth(successful_run, generated_day):
    _, folder, _ = successful_run
    names = sorted(path.name for path in folder.iterdir())
    assert names == sorted(
        ['report.json', 'report.html', 'summary.csv'] + [f'{table}.csv' for table in TABLE_COLUMNS]
    )
    report = json.loads((folder / 'report.json').read_text(encoding='utf-8'))
    # The plan's wall clock judged its future timestamps; any later clock gives the same.
    expected = expected_report(
        generated_day.plan, int(time.time() * 1000), datetime.date.fromisoformat(DAY)
    )
    for table in TABLES:
        assert report[table] == expected[table], table
    assert report['made']['runner'] == 'DirectRunner'
    assert report['made']['source'] == (
        f'kafka topic {generated_day.prefix}.orders on {generated_day.bootstrap}'
    )


def test_one_email_with_the_html_body_and_the_csvs_attached(successful_run):
    _, folder, received = successful_run
    assert len(received) == 1
    mail = received[0]
    assert mail.mail_from == SENDER
    assert sorted(mail.rcpt_tos) == sorted(RECIPIENTS)
    message = mail.message
    assert [address.strip() for address in message['To'].split(',')] == RECIPIENTS
    report = json.loads((folder / 'report.json').read_text(encoding='utf-8'))
    summary = report['summary']
    assert message['Subject'] == (
        f'goldstream daily report {DAY}: {summary["orders"]:,} orders, '
        f'{summary["fraud_alerts"]:,} fraud alerts, {summary["dead_letters"]:,} dead letters'
    )
    body = message.get_body(preferencelist=('html',))
    assert body.get_content() == (folder / 'report.html').read_text(encoding='utf-8')
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    csvs = sorted(path.name for path in folder.glob('*.csv'))
    assert sorted(attachments) == csvs and len(csvs) == len(TABLE_COLUMNS) + 1
    for name in csvs:
        content = attachments[name]
        text = content.decode('utf-8') if isinstance(content, bytes) else content
        assert text == (folder / name).read_text(encoding='utf-8'), name


def test_a_failing_report_is_retried_then_the_failure_message_is_sent(
    airflow_home, smtp_sink, tmp_path
):
    missing = tmp_path / 'no-archive'
    started = time.monotonic()
    run = airflow_cli.dags_test(
        airflow_home,
        '2026-11-21',
        _settings(smtp_sink, tmp_path / 'reports', archive_path=str(missing)),
    )
    print(f'\nairflow dags test (failure) in {time.monotonic() - started:.1f} s')
    assert run.returncode != 0 and run.state == 'failed', run.output[-4000:]
    assert run.tries('build_report') == 2  # the first try and one retry
    assert run.tries('email_report') == 0 and run.tries('email_failure') == 1
    received = smtp_sink.wait_for(1)
    assert len(received) == 1
    mail = received[0]
    assert mail.rcpt_tos == FAILURE_RECIPIENTS and mail.mail_from == SENDER
    assert mail.message['Subject'] == 'goldstream daily report 2026-11-20 FAILED after 2 tries'
    body = mail.message.get_body(preferencelist=('html',)).get_content()
    assert 'The daily report of 2026-11-20 was not made' in body
    assert f'--archive_path {missing} does not exist' in body
    assert not (tmp_path / 'reports').exists()
