"""The goldstream daily report as an Apache Airflow DAG: every night at 02:00 UTC.

`goldstream_daily_report` has three tasks:

1. `build_report` runs `python -m pipelines.daily_report` for the previous UTC day in the
   project's interpreter (Airflow has a virtual environment of its own; see
   `goldstream_dag.command`), with the runner of the `runner` setting (DirectRunner unless
   set to FlinkRunner, DataflowRunner, ...). It retries with exponential back-off.
2. `email_report` e-mails the report to the recipients through the SMTP connection
   (`goldstream_smtp` unless set): `report.html` as the body, every CSV attached.
3. `email_failure` runs only when a task before it failed for good (after its last retry):
   it e-mails the failure recipients which day failed, the last error and what to do, then
   fails itself, so the DAG run ends failed (it is the run's only last task, and would
   otherwise mark the run successful).

Catch-up is on and runs one day at a time, so a DAG unpaused after a gap (or
`airflow backfill create --dag-id goldstream_daily_report --from-date ... --to-date ...`)
makes each missing day's report in order, each compared with the day before.

Settings: see `goldstream_dag.settings` (per-run params, Airflow Variables
`goldstream_report_<name>`, and environment variables for retries and back-off) and the
project's `docs/scheduling.md`.
"""

import logging
import pathlib
import sys

from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.sdk import DAG, Param, TriggerRule, Variable, task
from airflow.sdk.exceptions import AirflowFailException

# Airflow puts its DAG folder on sys.path, but this file may sit in a sub-folder of an
# existing deployment's DAG folder: its helper package is found next to it either way.
DAG_FOLDER = pathlib.Path(__file__).resolve().parent
if str(DAG_FOLDER) not in sys.path:
    sys.path.insert(0, str(DAG_FOLDER))

from goldstream_dag.command import ReportFailed, report_day, run_report
from goldstream_dag.mail import Mail, failure_mail, report_mail
from goldstream_dag.settings import (
    SETTINGS,
    VARIABLE_PREFIX,
    JobSettings,
    resolve,
    schedule_settings,
)

DAG_ID = 'goldstream_daily_report'
SCHEDULE = '0 2 * * *'
"""02:00 UTC every day (Airflow's default time zone is UTC)."""
ERROR_XCOM = 'error'
"""The XCom key under which `build_report` leaves its last error for `email_failure`."""

log = logging.getLogger(__name__)
shape = schedule_settings()


def _variable(name: str):
    return Variable.get(name, default=None)


def _settings(context) -> JobSettings:
    return resolve(context['params'], _variable, DAG_FOLDER)


def _send(mail: Mail, recipients, settings: JobSettings, what: str) -> None:
    if not recipients:
        raise ValueError(
            f'no one to send the {what} to: set the Airflow Variable '
            f'{VARIABLE_PREFIX}recipients to e-mail addresses separated by commas'
        )
    with SmtpHook(smtp_conn_id=settings.smtp_conn_id) as hook:
        hook.send_email_smtp(
            to=list(recipients),
            subject=mail.subject,
            html_content=mail.html,
            files=list(mail.attachments) or None,
            from_email=settings.mail_from,
        )
    log.info('Sent "%s" to %s', mail.subject, ', '.join(recipients))


with DAG(
    dag_id=DAG_ID,
    description='The daily report of the previous UTC day, e-mailed (goldstream)',
    schedule=SCHEDULE,
    start_date=shape.start_date,
    catchup=True,
    max_active_runs=1,
    default_args={
        'retries': shape.retries,
        'retry_delay': shape.retry_delay,
        'retry_exponential_backoff': 2.0,
        'max_retry_delay': shape.max_retry_delay,
    },
    params={
        name: Param(None, type=['null', 'string'], description=text)
        for name, text in SETTINGS.items()
    },
    doc_md=__doc__,
    tags=['goldstream'],
) as dag:

    @task(task_id='build_report')
    def build_report(**context) -> str:
        """Makes the report of the day before the logical date; returns its folder."""
        settings = _settings(context)
        day = report_day(context['logical_date'])
        try:
            folder = run_report(settings, day, log.info)
        except ReportFailed as error:
            context['ti'].xcom_push(key=ERROR_XCOM, value=str(error))
            raise
        return str(folder)

    @task(task_id='email_report')
    def email_report(folder: str, **context) -> None:
        """E-mails the report in `folder` to the recipients."""
        settings = _settings(context)
        _send(report_mail(pathlib.Path(folder)), settings.recipients, settings, 'report')

    @task(task_id='email_failure', trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    def email_failure(**context) -> None:
        """Tells the failure recipients that the day's report failed after its last try."""
        settings = _settings(context)
        error = context['ti'].xcom_pull(task_ids='build_report', key=ERROR_XCOM)
        failed = 'build_report' if error else 'email_report'
        mail = failure_mail(
            report_day(context['logical_date']),
            failed,
            error or '',
            shape.retries + 1,
            DAG_ID,
            context['run_id'],
        )
        _send(mail, settings.failure_recipients, settings, 'failure message')
        raise AirflowFailException(
            f'{failed} failed for good; the failure message went to '
            f'{", ".join(settings.failure_recipients)}'
        )

    built = build_report()
    sent = email_report(built)
    [built, sent] >> email_failure()
