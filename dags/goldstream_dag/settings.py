"""What the daily report's DAG runs with: per-run params, Airflow Variables, defaults.

Each run-time setting is looked up in this order: the DAG run's params (`airflow dags
trigger --conf '{"runner": "FlinkRunner"}'`, or the UI's trigger form), then the Airflow
Variable `goldstream_report_<name>` (also settable as the environment variable
`AIRFLOW_VAR_GOLDSTREAM_REPORT_<NAME>`), then the default below. Relative paths are taken
from the project folder, where the report runs.

The DAG's shape (retries, back-off, first day) is read when Airflow parses the file, so it
comes from environment variables of the Airflow processes instead (`schedule_settings`).
"""

import datetime
import os
import pathlib
import shlex
from typing import Callable, Mapping, NamedTuple, Optional, Tuple

VARIABLE_PREFIX = 'goldstream_report_'
DEFAULT_SMTP_CONN_ID = 'goldstream_smtp'

SETTINGS = {
    'project_dir': 'the goldstream clone the report runs in (default: the folder above the '
    'DAG folder)',
    'python': 'the interpreter that has goldstream and Apache Beam (default: '
    '<project_dir>/.venv/bin/python, which ./run_local.sh setup makes)',
    'runner': 'the Beam runner: DirectRunner (default), FlinkRunner, DataflowRunner, ...',
    'archive_path': "the streaming pipeline's archive (default: <project_dir>/archive)",
    'reference_data': 'the customers and products folder (default: <project_dir>/reference)',
    'reports_path': 'where reports are written (default: <project_dir>/reports); the e-mail '
    "task reads the day's files from there, so it must be a local folder",
    'extra_args': 'more options for pipelines.daily_report, as one shell-quoted string (e.g. '
    '"--source=kafka --brokers=host:9092", "--flink_master=host:8081")',
    'recipients': 'who gets the report: e-mail addresses separated by commas (required)',
    'failure_recipients': 'who is told when the report fails after its last retry (default: '
    'the recipients)',
    'mail_from': 'the sender address (default: goldstream@localhost)',
    'smtp_conn_id': f'the Airflow SMTP connection (default: {DEFAULT_SMTP_CONN_ID})',
    'timeout_s': 'seconds one try of the report may take before it is stopped (default 7200)',
}
"""Every run-time setting and what it means (the DAG's params document them)."""


class JobSettings(NamedTuple):
    """The resolved run-time settings (see `SETTINGS`)."""

    project_dir: pathlib.Path
    python: str
    runner: str
    archive_path: str
    reference_data: str
    reports_path: str
    extra_args: Tuple[str, ...]
    recipients: Tuple[str, ...]
    failure_recipients: Tuple[str, ...]
    mail_from: str
    smtp_conn_id: str
    timeout_s: float


class ScheduleSettings(NamedTuple):
    """The DAG's shape, read when the DAG file is parsed.

    Attributes:
        retries: Retries of each task after its first try (`GOLDSTREAM_REPORT_RETRIES`, 3).
        retry_delay: The first retry's delay; each further one doubles it
            (`GOLDSTREAM_REPORT_RETRY_DELAY_S`, 300).
        max_retry_delay: The longest delay (`GOLDSTREAM_REPORT_MAX_RETRY_DELAY_S`, 3600).
        start_date: The first day whose 02:00 run catch-up creates, UTC
            (`GOLDSTREAM_REPORT_START_DATE`, 2026-11-01).
    """

    retries: int
    retry_delay: datetime.timedelta
    max_retry_delay: datetime.timedelta
    start_date: datetime.datetime


def _split_addresses(text: str) -> Tuple[str, ...]:
    return tuple(address.strip() for address in text.split(',') if address.strip())


def _in_project(project_dir: pathlib.Path, path: str) -> str:
    if '://' in path or pathlib.Path(path).is_absolute():
        return path
    return str(project_dir / path)


def resolve(
    params: Mapping[str, object], variable: Callable[[str], Optional[str]], dag_folder: pathlib.Path
) -> JobSettings:
    """The run-time settings of one DAG run.

    Args:
        params: The run's params; a None or empty value means "not given".
        variable: Looks up an Airflow Variable by name, None when it is not set.
        dag_folder: The folder of the DAG file.

    Raises:
        ValueError: If `timeout_s` is not a positive number or `extra_args` does not parse.
    """

    def get(name: str, default: str) -> str:
        value = params.get(name)
        if value in (None, ''):
            value = variable(VARIABLE_PREFIX + name)
        return default if value in (None, '') else str(value)

    project_dir = pathlib.Path(get('project_dir', str(dag_folder.resolve().parent)))
    recipients = _split_addresses(get('recipients', ''))
    try:
        extra_args = tuple(shlex.split(get('extra_args', '')))
    except ValueError as error:
        raise ValueError(
            f'{VARIABLE_PREFIX}extra_args does not parse as shell words: {error}'
        ) from None
    timeout = get('timeout_s', '7200')
    try:
        timeout_s = float(timeout)
    except ValueError:
        timeout_s = -1.0
    if not timeout_s > 0:
        raise ValueError(
            f'{VARIABLE_PREFIX}timeout_s must be a number of seconds above 0, got {timeout!r}'
        )
    return JobSettings(
        project_dir=project_dir,
        python=get('python', str(project_dir / '.venv' / 'bin' / 'python')),
        runner=get('runner', 'DirectRunner'),
        archive_path=_in_project(project_dir, get('archive_path', 'archive')),
        reference_data=_in_project(project_dir, get('reference_data', 'reference')),
        reports_path=_in_project(project_dir, get('reports_path', 'reports')),
        extra_args=extra_args,
        recipients=recipients,
        failure_recipients=_split_addresses(get('failure_recipients', '')) or recipients,
        mail_from=get('mail_from', 'goldstream@localhost'),
        smtp_conn_id=get('smtp_conn_id', DEFAULT_SMTP_CONN_ID),
        timeout_s=timeout_s,
    )


def schedule_settings(environ: Mapping[str, str] = os.environ) -> ScheduleSettings:
    """The DAG's retries, back-off and first day from the environment.

    Raises:
        ValueError: Naming the variable whose value is not a number (or not a date).
    """

    def number(name: str, default: str, minimum: float) -> float:
        text = environ.get(name, default)
        try:
            value = float(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise ValueError(f'{name} must be a number of at least {minimum:g}, got {text!r}')
        return value

    start = environ.get('GOLDSTREAM_REPORT_START_DATE', '2026-11-01')
    try:
        first_day = datetime.date.fromisoformat(start)
    except ValueError:
        raise ValueError(
            f'GOLDSTREAM_REPORT_START_DATE must be YYYY-MM-DD, got {start!r}'
        ) from None
    return ScheduleSettings(
        retries=int(number('GOLDSTREAM_REPORT_RETRIES', '3', 0)),
        retry_delay=datetime.timedelta(seconds=number('GOLDSTREAM_REPORT_RETRY_DELAY_S', '300', 1)),
        max_retry_delay=datetime.timedelta(
            seconds=number('GOLDSTREAM_REPORT_MAX_RETRY_DELAY_S', '3600', 1)
        ),
        start_date=datetime.datetime(
            first_day.year, first_day.month, first_day.day, tzinfo=datetime.timezone.utc
        ),
    )
