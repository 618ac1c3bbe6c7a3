"""The daily report's command line, run in the project's own interpreter.

Airflow lives in a virtual environment of its own (its pins and Apache Beam's disagree), so
the DAG does not import the pipeline: it runs `python -m pipelines.daily_report` with the
project's interpreter, in the project folder, and waits for it.
"""

import datetime
import pathlib
import subprocess
from typing import Callable, List

from goldstream_dag.settings import VARIABLE_PREFIX, JobSettings

TAIL_LINES = 20
"""Lines of the report's output a failure message quotes."""


class ReportFailed(Exception):
    """The report command could not run or exited non-zero; the message says why."""


def report_day(logical_date: datetime.datetime) -> datetime.date:
    """The UTC day a run reports on: the day before its logical date (the 02:00 run of
    19 November reports on 18 November)."""
    utc = logical_date.astimezone(datetime.timezone.utc)
    return utc.date() - datetime.timedelta(days=1)


def report_command(settings: JobSettings, day: datetime.date) -> List[str]:
    """The command line that makes the report of `day`."""
    return [
        settings.python,
        '-m',
        'pipelines.daily_report',
        f'--date={day.isoformat()}',
        f'--runner={settings.runner}',
        f'--archive_path={settings.archive_path}',
        f'--reference_data={settings.reference_data}',
        f'--reports_path={settings.reports_path}',
        *settings.extra_args,
    ]


def report_folder(settings: JobSettings, day: datetime.date) -> pathlib.Path:
    """Where the report of `day` is written."""
    return pathlib.Path(settings.reports_path) / day.isoformat()


def run_report(
    settings: JobSettings, day: datetime.date, log: Callable[[str], None]
) -> pathlib.Path:
    """Runs the report of `day` and returns its folder; the output goes to `log` line by line.

    Raises:
        ReportFailed: If the interpreter or project is missing, the command exits non-zero,
            runs longer than `settings.timeout_s`, or writes no `report.json`.
    """
    python = pathlib.Path(settings.python)
    if not python.is_file():
        raise ReportFailed(
            f'the project interpreter {python} does not exist: run ./run_local.sh setup in '
            f'{settings.project_dir}, or set the Airflow Variable {VARIABLE_PREFIX}python to '
            'an interpreter that has goldstream installed'
        )
    if not (settings.project_dir / 'pipelines' / 'daily_report' / 'pipeline.py').is_file():
        raise ReportFailed(
            f'{settings.project_dir} is not a goldstream clone '
            f'(no pipelines/daily_report/pipeline.py): '
            f'set the Airflow Variable {VARIABLE_PREFIX}project_dir to the clone'
        )
    command = report_command(settings, day)
    log('running: ' + ' '.join(command))
    try:
        done = subprocess.run(
            command,
            cwd=settings.project_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=settings.timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ReportFailed(
            f'the report of {day} ran longer than {settings.timeout_s:g} s '
            f'and was stopped (raise {VARIABLE_PREFIX}timeout_s if it needs '
            'longer)'
        ) from None
    lines = done.stdout.splitlines()
    for line in lines:
        log(line)
    if done.returncode != 0:
        tail = '\n'.join(lines[-TAIL_LINES:])
        raise ReportFailed(
            f'the report of {day} exited with code {done.returncode}; its last lines:\n{tail}'
        )
    folder = report_folder(settings, day)
    if not (folder / 'report.json').is_file():
        raise ReportFailed(f'the report of {day} exited 0 but wrote no {folder}/report.json')
    return folder
