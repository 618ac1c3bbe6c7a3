"""Each headline figure of the daily report beside the previous day's.

The headline figures are the day's orders, units, unique customers, fraud alerts and dead
letters, and revenue and average order value: per currency, or once in the report currency
when a rates file converts them. The previous day's values come from its `report.json`
(`previous_report_path`, read with `read_report` while the pipeline runs), so a back-filled
range compares each day with the one before it as long as days are made in order. A figure the
previous
report does not have (no such report, another currency, an older format) is shown without
a previous value, and its change is null.
"""

import datetime
import json
import logging
from typing import Any, Dict, List, Mapping, Optional, Tuple

from apache_beam.io.filesystems import FileSystems

COUNT_FIGURES = ('orders', 'units', 'unique_customers', 'fraud_alerts', 'dead_letters')
"""Headline figures that are counts (no currency), in display order."""
AMOUNT_FIGURES = ('revenue', 'average_order_value')
"""Headline figures that are amounts, one per currency shown."""
COMPARABLE_FORMAT = 2
"""The oldest report format whose headlines can be compared with."""


def headline_values(report: Mapping[str, Any]) -> List[Tuple[str, Optional[str], Any]]:
    """(figure, currency or None, value) of each headline figure of a report dict."""
    summary = report['summary']
    values: List[Tuple[str, Optional[str], Any]] = [
        (figure, None, summary[figure]) for figure in COUNT_FIGURES
    ]
    if report.get('currency'):
        values += [(figure, report['currency'], summary[figure]) for figure in AMOUNT_FIGURES]
    else:
        for row in report['revenue_per_currency']:
            values += [(figure, row['currency'], row[figure]) for figure in AMOUNT_FIGURES]
    return values


def change_pct(value: Optional[float], previous: Optional[float]) -> Optional[float]:
    """The change from `previous` to `value` in percent, one decimal; None when there is
    nothing to compare with (either is None, or `previous` is 0)."""
    if value is None or previous is None or previous == 0:
        return None
    return round((value - previous) / previous * 100, 1)


def headlines(
    report: Mapping[str, Any], previous: Optional[Mapping[str, Any]]
) -> List[Dict[str, Any]]:
    """The `headlines` rows of a report: each figure, the previous day's, the change in %.

    Args:
        report: The day's report dict, without `headlines` yet.
        previous: The previous day's report dict, or None.
    """
    before: Dict[Tuple[str, Optional[str]], Any] = {}
    if previous is not None and previous.get('format', 0) >= COMPARABLE_FORMAT:
        before = {
            (figure, currency): value for figure, currency, value in headline_values(previous)
        }
    return [
        {
            'figure': figure,
            'currency': currency,
            'value': value,
            'previous': before.get((figure, currency)),
            'change_pct': change_pct(value, before.get((figure, currency))),
        }
        for figure, currency, value in headline_values(report)
    ]


def previous_report_path(reports_path: str, day: datetime.date) -> str:
    """Where the report of the day before `day` is (or would be)."""
    before = (day - datetime.timedelta(days=1)).isoformat()
    return FileSystems.join(reports_path, before, 'report.json')


def read_report(path: str) -> Optional[Dict[str, Any]]:
    """The report dict at `path` (any Beam filesystem), or None when there is none there.

    A report that exists but cannot be read is logged and treated as missing: the day's
    report is still made, without the comparison, and its notes say there was none.
    """
    if not FileSystems.exists(path):
        return None
    try:
        with FileSystems.open(path) as handle:
            return json.loads(handle.read().decode('utf-8'))
    except (OSError, ValueError) as error:
        logging.warning(
            "The previous day's report %s is unreadable (%s); this report has no comparison",
            path,
            error,
        )
        return None
