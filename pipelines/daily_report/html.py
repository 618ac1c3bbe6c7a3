"""The daily report as one self-contained HTML page: inline CSS, inline SVG charts.

Nothing is fetched when the page is viewed: no scripts, fonts, images or style sheets from
elsewhere, and no URL at all (inline SVG in HTML needs no namespace URL).

The page, top to bottom: the notes; the headline figures, each beside the previous day's
and its change in %, with revenue and average order value per currency in a table; what
needs attention: alerts per rule, the day's alerts listed (time, rule, card, orders) and
dead letters with what their reason means; for each currency shown (each currency of the
day, or the one report currency of a rates file) the charts of revenue per hour, top
products and revenue per category; then the other tables; and a footer saying when, from
which source and by which runner the report was made. An empty
day gives a page that says so, with the charts showing "no data".
"""

import html
from typing import Any, List, Mapping, Optional, Sequence, Tuple

CURRENCY_CHARTS = ('revenue-per-hour', 'top-products', 'revenue-per-category')
"""The charts drawn once per currency shown; their `id` is `<kind>-<currency, lower case>`
(`-all` for an empty day without a report currency)."""
ALERTS_CHART = 'alerts-per-rule'

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}
h1{margin-bottom:.2em} .notes{background:#fff4d6;padding:.6em 1em;border-radius:4px}
.summary{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.summary div{border:1px solid #ddd;border-radius:4px;padding:.5em 1em}
.summary b{display:block;font-size:1.4em} .summary small{color:#555}
footer{margin-top:2em;color:#555;font-size:.9em}
figure{margin:1.5em 0} figcaption{font-weight:bold;margin-bottom:.4em}
svg text{font-size:11px;fill:#333} .bar{fill:#3b7dd8} .empty{fill:#888}
table{border-collapse:collapse;margin:.5em 0 1.5em} th,td{border:1px solid #ccc;padding:.25em .6em}
td.n{text-align:right} caption{font-weight:bold;text-align:left;padding:.3em 0}
#table-alerts td:nth-child(-n+3){white-space:nowrap}
"""

_TABLES: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    (
        'headlines',
        'Headline figures beside the previous day',
        ('figure', 'currency', 'value', 'previous', 'change_pct'),
    ),
    (
        'revenue_per_currency',
        'Revenue per currency',
        ('currency', 'orders', 'units', 'revenue', 'average_order_value'),
    ),
    ('alerts', 'Fraud alerts of the day (time UTC)', ('time', 'rule', 'card_id', 'order_ids')),
    ('alerts_per_rule', 'Fraud alerts per rule', ('rule', 'alerts')),
    (
        'dead_letters_per_reason',
        'Dead letters per reason',
        ('stage', 'reason', 'meaning', 'dead_letters'),
    ),
    (
        'revenue_per_hour',
        'Revenue per hour (UTC)',
        ('currency', 'hour', 'orders', 'units', 'revenue'),
    ),
    (
        'top_products',
        'Top products by revenue',
        ('currency', 'rank', 'product_id', 'name', 'orders', 'units', 'revenue'),
    ),
    (
        'top_customers',
        'Top customers by revenue',
        ('currency', 'rank', 'customer_id', 'name', 'orders', 'units', 'revenue'),
    ),
    (
        'revenue_per_category',
        'Revenue per category',
        ('currency', 'category', 'orders', 'units', 'revenue'),
    ),
)
_FIGURE_NAMES = {
    'orders': 'Orders',
    'units': 'Units',
    'unique_customers': 'Unique customers',
    'fraud_alerts': 'Fraud alerts',
    'dead_letters': 'Dead letters',
    'revenue': 'Revenue',
    'average_order_value': 'Average order value',
}


def _fmt(column: str, value: Any) -> str:
    if value is None:
        return ''
    if isinstance(value, (list, tuple)):
        return ' '.join(str(item) for item in value)
    if column in ('revenue', 'average_order_value'):
        return f'{value:,.2f}'
    if column == 'change_pct':
        return f'{value:+.1f}%'
    if isinstance(value, int):
        return f'{value:,}'
    return str(value)


def report_currencies(report: Mapping[str, Any]) -> List[Optional[str]]:
    """The currencies the page draws charts for, in report order (None: an empty day
    without a report currency)."""
    seen: List[Optional[str]] = []
    for row in report['revenue_per_hour']:
        if row['currency'] not in seen:
            seen.append(row['currency'])
    return seen


def chart_id(kind: str, currency: Optional[str]) -> str:
    """The `id` of a per-currency chart."""
    return f'{kind}-{currency.lower() if currency else "all"}'


def chart_ids(report: Mapping[str, Any]) -> List[str]:
    """The `id`s of every chart `<svg>` of the report's page, in page order."""
    return [ALERTS_CHART] + [
        chart_id(kind, currency)
        for currency in report_currencies(report)
        for kind in CURRENCY_CHARTS
    ]


def _no_data(chart_id: str, width: int, title: str) -> str:
    return (
        f'<svg id="{chart_id}" role="img" aria-label="{html.escape(title)}: no data" '
        f'width="{width}" height="40" viewBox="0 0 {width} 40">'
        '<text class="empty" x="10" y="25">no data</text></svg>'
    )


def vertical_bars(
    chart_id: str, title: str, points: Sequence[Tuple[str, float]], value_column: str = 'revenue'
) -> str:
    """An SVG bar chart, one vertical bar per point (label, value), labels underneath."""
    width, height, bottom, top = 760, 240, 30, 10
    peak = max((value for _, value in points), default=0)
    if peak <= 0:
        return _no_data(chart_id, width, title)
    peak_label = _fmt(value_column, peak)
    left = max(60, 12 + 8 * len(peak_label))  # room for the axis label, about 8 px a character
    slot = (width - left - 10) / len(points)
    plot = height - bottom - top
    parts = [
        f'<svg id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<line x1="{left}" y1="{top + plot}" x2="{width - 10}" y2="{top + plot}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{peak_label}</text>',
        f'<text x="{left - 6}" y="{top + plot}" text-anchor="end">0</text>',
    ]
    for index, (label, value) in enumerate(points):
        bar = plot * value / peak
        x = left + index * slot
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{top + plot - bar:.1f}" '
            f'width="{max(slot - 2, 1):.1f}" height="{bar:.1f}">'
            f'<title>{html.escape(label)}: {_fmt(value_column, value)}</title></rect>'
        )
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 14}" '
            f'text-anchor="middle">{html.escape(label)}</text>'
        )
    parts.append('</svg>')
    return ''.join(parts)


def horizontal_bars(
    chart_id: str, title: str, points: Sequence[Tuple[str, float]], value_column: str = 'revenue'
) -> str:
    """An SVG bar chart, one horizontal bar per point (label, value), values at the bar ends."""
    width, label_width, row, value_width = 760, 220, 22, 110
    peak = max((value for _, value in points), default=0)
    if peak <= 0:
        return _no_data(chart_id, width, title)
    height = row * len(points) + 10
    plot = width - label_width - value_width
    parts = [
        f'<svg id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for index, (label, value) in enumerate(points):
        y = 5 + index * row
        bar = plot * value / peak
        shown = label if len(label) <= 32 else label[:31] + '\u2026'
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">'
            f'{html.escape(shown)}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{bar:.1f}" '
            f'height="{row - 6}"><title>{html.escape(label)}: '
            f'{_fmt(value_column, value)}</title></rect>'
        )
        parts.append(
            f'<text x="{label_width + bar + 6:.1f}" y="{y + 15}">{_fmt(value_column, value)}</text>'
        )
    parts.append('</svg>')
    return ''.join(parts)


def _figure(title: str, svg: str) -> str:
    return f'<figure><figcaption>{html.escape(title)}</figcaption>{svg}</figure>'


def _table(
    table_id: str, caption: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> str:
    head = ''.join(f'<th>{html.escape(column)}</th>' for column in columns)
    body: List[str] = []
    for row in rows:
        cells = ''.join(
            f'<td class="{"n" if isinstance(row[c], (int, float)) else "t"}">'
            f'{html.escape(_cell(row, c))}</td>'
            for c in columns
        )
        body.append(f'<tr>{cells}</tr>')
    if not rows:
        body.append(f'<tr><td colspan="{len(columns)}">none</td></tr>')
    return (
        f'<table id="table-{table_id.replace("_", "-")}"><caption>{html.escape(caption)}'
        f'</caption><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _cell(row: Mapping[str, Any], column: str) -> str:
    """A table cell; a headline's value and previous value shown as the figure's kind."""
    if column in ('value', 'previous') and 'figure' in row:
        return _fmt(row['figure'], row[column])
    if column == 'figure':
        return _FIGURE_NAMES.get(row[column], row[column])
    if column == 'time' and 'alert_id' in row:
        return row['time'][11:23]  # the day is the report's: HH:MM:SS.mmm (UTC)
    return _fmt(column, row[column])


def _headline_cards(report: Mapping[str, Any]) -> str:
    """One card per count, and per amount when converted into one currency (per-currency
    amounts go in `_currency_comparison`'s table instead of a card each)."""
    cards = []
    for row in report['headlines']:
        if row['currency'] is not None and not report['currency']:
            continue
        name = _FIGURE_NAMES.get(row['figure'], row['figure'])
        if row['currency']:
            name = f'{name} ({row["currency"]})'
        value = _fmt(row['figure'], row['value']) or 'n/a'
        if row['previous'] is None:
            before = 'previous day: n/a'
        else:
            change = _fmt('change_pct', row['change_pct']) or 'n/a'
            before = f'previous day: {_fmt(row["figure"], row["previous"])} ({change})'
        cards.append(
            f'<div>{html.escape(name)}<b>{html.escape(value)}</b>'
            f'<small>{html.escape(before)}</small></div>'
        )
    return f'<section class="summary" id="headlines">{"".join(cards)}</section>'


def _change(before: Any, change: Any, figure: str) -> str:
    if before is None:
        return 'n/a'
    return f'{_fmt(figure, before)} ({_fmt("change_pct", change) or "n/a"})'


def _currency_comparison(report: Mapping[str, Any]) -> str:
    """Revenue and average order value per currency beside the previous day's: a table."""
    if report['currency'] or not report['revenue_per_currency']:
        return ''
    headlines = {(row['figure'], row['currency']): row for row in report['headlines']}
    head = ''.join(
        f'<th>{html.escape(name)}</th>'
        for name in (
            'currency',
            'orders',
            'revenue',
            'previous day',
            'average order value',
            'previous day',
        )
    )
    body = []
    for row in report['revenue_per_currency']:
        revenue = headlines.get(('revenue', row['currency']), {})
        average = headlines.get(('average_order_value', row['currency']), {})
        cells = [
            ('t', row['currency']),
            ('n', _fmt('orders', row['orders'])),
            ('n', _fmt('revenue', row['revenue'])),
            ('n', _change(revenue.get('previous'), revenue.get('change_pct'), 'revenue')),
            ('n', _fmt('average_order_value', row['average_order_value'])),
            (
                'n',
                _change(average.get('previous'), average.get('change_pct'), 'average_order_value'),
            ),
        ]
        body.append(
            '<tr>'
            + ''.join(f'<td class="{kind}">{html.escape(text)}</td>' for kind, text in cells)
            + '</tr>'
        )
    return (
        '<table id="currency-comparison"><caption>Revenue and average order value per '
        f'currency, beside the previous day</caption><thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table>'
    )


def _currency_charts(report: Mapping[str, Any], currency: Optional[str]) -> List[str]:
    shown = f' ({currency})' if currency else ''
    mine = [row for row in report['revenue_per_hour'] if row['currency'] == currency]
    products = [row for row in report['top_products'] if row['currency'] == currency]
    categories = [row for row in report['revenue_per_category'] if row['currency'] == currency]
    return [
        _figure(
            f'Revenue per hour (UTC){shown}',
            vertical_bars(
                chart_id(CURRENCY_CHARTS[0], currency),
                f'Revenue per hour{shown}',
                [(f'{row["hour"]:02d}', row['revenue']) for row in mine],
            ),
        ),
        _figure(
            f'Top products by revenue{shown}',
            horizontal_bars(
                chart_id(CURRENCY_CHARTS[1], currency),
                f'Top products{shown}',
                [(_label(row, 'product_id'), row['revenue']) for row in products],
            ),
        ),
        _figure(
            f'Revenue per category{shown}',
            horizontal_bars(
                chart_id(CURRENCY_CHARTS[2], currency),
                f'Revenue per category{shown}',
                [(row['category'], row['revenue']) for row in categories],
            ),
        ),
    ]


def _label(row: Mapping[str, Any], id_column: str) -> str:
    name = row.get('name')
    return f'{row[id_column]} {name}' if name else row[id_column]


def render_html(report: Mapping[str, Any]) -> str:
    """The report dict (`pipelines.daily_report`'s JSON) as a self-contained HTML page."""
    day = html.escape(report['date'])
    if report['currency']:
        amounts = f'converted into {html.escape(report["currency"])} with a rates file'
    else:
        amounts = 'per currency, never added up across currencies'
    notes = ''.join(f'<p class="notes">{html.escape(note)}</p>' for note in report['notes'])
    alerts_chart = _figure(
        'Fraud alerts per rule',
        horizontal_bars(
            ALERTS_CHART,
            'Alerts per rule',
            [(row['rule'], row['alerts']) for row in report['alerts_per_rule']],
            'alerts',
        ),
    )
    charts: List[str] = []
    for currency in report_currencies(report):
        charts += _currency_charts(report, currency)
    tables = {key: _table(key, caption, columns, report[key]) for key, caption, columns in _TABLES}
    # what needs someone's attention first: the alerts and the dead letters
    action = [alerts_chart, tables.pop('alerts'), tables.pop('dead_letters_per_reason')]
    made = report['made']
    footer = (
        f'<footer id="made">Made {html.escape(made["at"])} from '
        f'{html.escape(made["source"] or "an unnamed source")} by '
        f'{html.escape(made["runner"] or "an unnamed runner")}.</footer>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>goldstream daily report {day}</title><style>{_STYLE}</style></head>'
        f'<body><h1>Daily report {day}</h1><p>UTC day {day}; revenue is price x quantity '
        f'+ tax, {amounts}.</p>{notes}{_headline_cards(report)}'
        f'{_currency_comparison(report)}<section class="action">{"".join(action)}</section>'
        f'<section class="charts">{"".join(charts)}</section>'
        f'<section class="tables">{"".join(tables.values())}</section>{footer}'
        '</body></html>\n'
    )
