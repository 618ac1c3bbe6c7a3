"""Writing a report dict: `report.json`, one CSV per table and `report.html`.

`WriteReport` is the pipeline's last step; the rendering functions are plain Python. Files
go through `apache_beam.io.filesystems.FileSystems` (local folders, gs://, s3://, ...), each
under a temporary name renamed into place, so a reader never sees half a file and a retried
bundle replaces its own files.
"""

import csv
import io
import json
import uuid
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from pipelines.daily_report.html import render_html

TABLE_COLUMNS: Dict[str, Tuple[str, ...]] = {
    'headlines': ('figure', 'currency', 'value', 'previous', 'change_pct'),
    'revenue_per_currency': ('currency', 'orders', 'units', 'revenue', 'average_order_value'),
    'revenue_per_hour': ('currency', 'hour', 'start', 'orders', 'units', 'revenue'),
    'top_products': ('currency', 'rank', 'product_id', 'name', 'orders', 'units', 'revenue'),
    'top_customers': ('currency', 'rank', 'customer_id', 'name', 'orders', 'units', 'revenue'),
    'revenue_per_category': ('currency', 'category', 'orders', 'units', 'revenue'),
    'alerts_per_rule': ('rule', 'alerts'),
    'alerts': ('time', 'rule', 'card_id', 'order_ids', 'alert_id'),
    'dead_letters_per_reason': ('stage', 'reason', 'meaning', 'dead_letters'),
}
"""Each table of the report and its CSV columns, in order."""
SUMMARY_CSV = 'summary.csv'
JSON_FILE = 'report.json'
HTML_FILE = 'report.html'


def report_files(report: Mapping[str, Any]) -> List[Tuple[str, str]]:
    """(file name, text) of every file of a report."""
    files = [(JSON_FILE, render_json(report)), (SUMMARY_CSV, render_summary_csv(report))]
    files += [(f'{table}.csv', render_table_csv(report, table)) for table in TABLE_COLUMNS]
    files.append((HTML_FILE, render_html(report)))
    return files


def render_json(report: Mapping[str, Any]) -> str:
    """The report as indented JSON, keys in the documented order."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + '\n'


AMOUNT_COLUMNS = ('revenue', 'average_order_value')


def _cell(column: str, value: Any, row: Optional[Mapping[str, Any]] = None) -> str:
    """A CSV cell: amounts with two decimals, lists space-separated, None empty.

    In `headlines` the `value` and `previous` columns are amounts on the amount rows.
    """
    if value is None:
        return ''
    if isinstance(value, (list, tuple)):
        return ' '.join(str(item) for item in value)
    amount_row = row is not None and row.get('figure') in AMOUNT_COLUMNS
    if column in AMOUNT_COLUMNS or (amount_row and column in ('value', 'previous')):
        return f'{value:.2f}'
    return str(value)


def render_table_csv(report: Mapping[str, Any], table: str) -> str:
    """One table as CSV with a header row; revenue with two decimals, no name as empty."""
    columns = TABLE_COLUMNS[table]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(columns)
    for row in report[table]:
        writer.writerow([_cell(column, row[column], row) for column in columns])
    return out.getvalue()


def render_summary_csv(report: Mapping[str, Any]) -> str:
    """The summary as `metric,value` rows: the date, the report currency (empty when
    amounts are per currency), the figures, then when and from what the report was made."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(('metric', 'value'))
    writer.writerow(('date', report['date']))
    writer.writerow(('currency', report['currency'] or ''))
    for metric, value in report['summary'].items():
        writer.writerow((metric, _cell(metric, value)))
    for stamp, value in report['made'].items():
        writer.writerow((f'made_{stamp}', value))
    return out.getvalue()


class WriteReport(beam.PTransform):
    """Report dicts in (one per day); the paths of the files written out.

    Each report goes to `<reports_path>/<date>/`: `report.json`, `summary.csv`, one CSV per
    table of `TABLE_COLUMNS` and `report.html`. Files of an earlier run are replaced.
    """

    def __init__(self, reports_path: str):
        super().__init__()
        if not reports_path:
            raise ValueError(
                'reports_path must name a folder (a local path or a URL Beam '
                'FileSystems understands)'
            )
        self._reports_path = reports_path

    def expand(self, reports: beam.PCollection[Dict]) -> beam.PCollection[str]:
        return reports | 'WriteReportFiles' >> beam.ParDo(_WriteReportFn(self._reports_path))


class _WriteReportFn(beam.DoFn):
    def __init__(self, reports_path: str):
        self._reports_path = reports_path
        self._files = Metrics.counter('DailyReport', 'files_written')

    def process(self, report: Dict[str, Any]) -> Iterable[str]:
        folder = FileSystems.join(self._reports_path, report['date'])
        for name, text in report_files(report):
            path = FileSystems.join(folder, name)
            temporary = FileSystems.join(folder, f'.{uuid.uuid4().hex}.tmp')
            with FileSystems.create(
                temporary, mime_type='text/plain', compression_type=CompressionTypes.UNCOMPRESSED
            ) as out:
                out.write(text.encode('utf-8'))
            if FileSystems.exists(path):
                FileSystems.delete([path])
            FileSystems.rename([temporary], [path])
            self._files.inc()
            yield path
