"""The two e-mails of the daily report's DAG: the report itself, and "it failed".

The report e-mail's body is the day's `report.html` (self-contained: inline CSS and SVG, so
it shows in a mail client without fetching anything) and every CSV of the day is attached.
The failure e-mail says which day failed, after how many tries, the error's last lines, and
what to do next.
"""

import datetime
import html
import json
import pathlib
from typing import Any, Mapping, NamedTuple, Tuple


class Mail(NamedTuple):
    """An e-mail to send: subject, HTML body and files to attach (paths)."""

    subject: str
    html: str
    attachments: Tuple[str, ...]


def _headline(report: Mapping[str, Any]) -> str:
    summary = report['summary']
    return (
        f'{summary["orders"]:,} orders, {summary["fraud_alerts"]:,} fraud alerts, '
        f'{summary["dead_letters"]:,} dead letters'
    )


def report_mail(folder: pathlib.Path) -> Mail:
    """The e-mail of the report in `folder` (`report.json`, `report.html`, `*.csv`).

    Raises:
        FileNotFoundError: If `report.json` or `report.html` is missing.
    """
    report = json.loads((folder / 'report.json').read_text(encoding='utf-8'))
    body = (folder / 'report.html').read_text(encoding='utf-8')
    attachments = tuple(str(path) for path in sorted(folder.glob('*.csv')))
    subject = f'goldstream daily report {report["date"]}: {_headline(report)}'
    return Mail(subject, body, attachments)


def failure_mail(
    day: datetime.date, task_id: str, error: str, tries: int, dag_id: str, run_id: str
) -> Mail:
    """The e-mail that says the report of `day` failed: `task_id` failed `tries` times.

    Args:
        day: The day whose report was not delivered.
        task_id: The task that failed for good (`build_report` or `email_report`).
        error: Its last error message, or empty when it is only in the task's log.
        tries: How many times it ran.
        dag_id, run_id: Which DAG run, so the reader can find it in Airflow.
    """
    subject = f'goldstream daily report {day.isoformat()} FAILED after {tries} tries'
    made = 'was not made' if task_id == 'build_report' else 'was made but not e-mailed'
    body = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{html.escape(subject)}</title></head><body>'
        f'<h1>The daily report of {day.isoformat()} {made}</h1>'
        f'<p>The task <code>{html.escape(task_id)}</code> of DAG '
        f'<code>{html.escape(dag_id)}</code>, run <code>{html.escape(run_id)}</code>, failed '
        f'{tries} times; no report was sent for this day.</p>'
        f'<p>Last error:</p><pre>{html.escape(error or "(see the task log)")}</pre>'
        "<p>What to do: read the task's log in Airflow, fix the cause (the archive path, the "
        'broker, the runner, the SMTP connection), then clear the failed task of this run so '
        'it runs again; the report is e-mailed when it succeeds.</p></body></html>\n'
    )
    return Mail(subject, body, ())
