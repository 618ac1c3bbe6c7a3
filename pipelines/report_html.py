"""The daily report as one self-contained HTML page: inline CSS, inline SVG charts.

Nothing is fetched when the page is viewed: no scripts, fonts, images or style sheets from
elsewhere, and no URL at all (inline SVG in HTML needs no namespace URL). Charts: revenue per
hour, top products, revenue per category and alerts per rule; then every table. An empty day
gives a page that says so, with the charts showing "no data".
"""
import html
from typing import Any, List, Mapping, Sequence, Tuple

CHARTS = ('revenue-per-hour', 'top-products', 'revenue-per-category', 'alerts-per-rule')
"""The `id`s of the chart `<svg>` elements, in page order."""

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}
h1{margin-bottom:.2em} .notes{background:#fff4d6;padding:.6em 1em;border-radius:4px}
.summary{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.summary div{border:1px solid #ddd;border-radius:4px;padding:.5em 1em}
.summary b{display:block;font-size:1.4em}
figure{margin:1.5em 0} figcaption{font-weight:bold;margin-bottom:.4em}
svg text{font-size:11px;fill:#333} .bar{fill:#3b7dd8} .empty{fill:#888}
table{border-collapse:collapse;margin:.5em 0 1.5em} th,td{border:1px solid #ccc;padding:.25em .6em}
td.n{text-align:right} caption{font-weight:bold;text-align:left;padding:.3em 0}
"""

_TABLES: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    ('revenue_per_hour', 'Revenue per hour (UTC)', ('hour', 'orders', 'units', 'revenue')),
    ('top_products', 'Top products by revenue',
     ('rank', 'product_id', 'name', 'orders', 'units', 'revenue')),
    ('top_customers', 'Top customers by revenue',
     ('rank', 'customer_id', 'name', 'orders', 'units', 'revenue')),
    ('revenue_per_category', 'Revenue per category', ('category', 'orders', 'units', 'revenue')),
    ('alerts_per_rule', 'Fraud alerts per rule', ('rule', 'alerts')),
    ('dead_letters_per_reason', 'Dead letters per reason', ('stage', 'reason', 'dead_letters')),
)


def _fmt(column: str, value: Any) -> str:
    if value is None:
        return ''
    if column in ('revenue', 'average_order_value'):
        return f'{value:,.2f}'
    if isinstance(value, int):
        return f'{value:,}'
    return str(value)


def _no_data(chart_id: str, width: int, title: str) -> str:
    return (f'<svg id="{chart_id}" role="img" aria-label="{html.escape(title)}: no data" '
            f'width="{width}" height="40" viewBox="0 0 {width} 40">'
            '<text class="empty" x="10" y="25">no data</text></svg>')


def vertical_bars(chart_id: str, title: str, points: Sequence[Tuple[str, float]],
                  value_column: str = 'revenue') -> str:
    """An SVG bar chart, one vertical bar per point (label, value), labels underneath."""
    width, height, bottom, top = 760, 240, 30, 10
    peak = max((value for _, value in points), default=0)
    if peak <= 0:
        return _no_data(chart_id, width, title)
    peak_label = _fmt(value_column, peak)
    left = max(60, 12 + 8 * len(peak_label))  # room for the axis label, about 8 px a character
    slot = (width - left - 10) / len(points)
    plot = height - bottom - top
    parts = [f'<svg id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f'<line x1="{left}" y1="{top + plot}" x2="{width - 10}" y2="{top + plot}" '
             'stroke="#999"/>',
             f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{peak_label}</text>',
             f'<text x="{left - 6}" y="{top + plot}" text-anchor="end">0</text>']
    for index, (label, value) in enumerate(points):
        bar = plot * value / peak
        x = left + index * slot
        parts.append(f'<rect class="bar" x="{x + 1:.1f}" y="{top + plot - bar:.1f}" '
                     f'width="{max(slot - 2, 1):.1f}" height="{bar:.1f}">'
                     f'<title>{html.escape(label)}: {_fmt(value_column, value)}</title></rect>')
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 14}" '
                     f'text-anchor="middle">{html.escape(label)}</text>')
    parts.append('</svg>')
    return ''.join(parts)


def horizontal_bars(chart_id: str, title: str, points: Sequence[Tuple[str, float]],
                    value_column: str = 'revenue') -> str:
    """An SVG bar chart, one horizontal bar per point (label, value), values at the bar ends."""
    width, label_width, row, value_width = 760, 220, 22, 110
    peak = max((value for _, value in points), default=0)
    if peak <= 0:
        return _no_data(chart_id, width, title)
    height = row * len(points) + 10
    plot = width - label_width - value_width
    parts = [f'<svg id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for index, (label, value) in enumerate(points):
        y = 5 + index * row
        bar = plot * value / peak
        shown = label if len(label) <= 32 else label[:31] + '\u2026'
        parts.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">'
                     f'{html.escape(shown)}</text>')
        parts.append(f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{bar:.1f}" '
                     f'height="{row - 6}"><title>{html.escape(label)}: '
                     f'{_fmt(value_column, value)}</title></rect>')
        parts.append(f'<text x="{label_width + bar + 6:.1f}" y="{y + 15}">'
                     f'{_fmt(value_column, value)}</text>')
    parts.append('</svg>')
    return ''.join(parts)


def _figure(title: str, svg: str) -> str:
    return f'<figure><figcaption>{html.escape(title)}</figcaption>{svg}</figure>'


def _table(table_id: str, caption: str, columns: Sequence[str],
           rows: Sequence[Mapping[str, Any]]) -> str:
    head = ''.join(f'<th>{html.escape(column)}</th>' for column in columns)
    body: List[str] = []
    for row in rows:
        cells = ''.join(
            f'<td class="{"n" if isinstance(row[c], (int, float)) else "t"}">'
            f'{html.escape(_fmt(c, row[c]))}</td>' for c in columns)
        body.append(f'<tr>{cells}</tr>')
    if not rows:
        body.append(f'<tr><td colspan="{len(columns)}">none</td></tr>')
    return (f'<table id="table-{table_id.replace("_", "-")}"><caption>{html.escape(caption)}'
            f'</caption><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _label(row: Mapping[str, Any], id_column: str) -> str:
    name = row.get('name')
    return f'{row[id_column]} {name}' if name else row[id_column]


def render_html(report: Mapping[str, Any]) -> str:
    """The report dict (`pipelines.daily_report`'s JSON) as a self-contained HTML page."""
    day = html.escape(report['date'])
    summary = report['summary']
    cards = ''.join(f'<div>{html.escape(name.replace("_", " "))}'
                    f'<b>{html.escape(_fmt(name, value)) or "n/a"}</b></div>'
                    for name, value in summary.items())
    notes = ''.join(f'<p class="notes">{html.escape(note)}</p>' for note in report['notes'])
    charts = [
        _figure('Revenue per hour (UTC)', vertical_bars(
            CHARTS[0], 'Revenue per hour',
            [(f"{row['hour']:02d}", row['revenue']) for row in report['revenue_per_hour']])),
        _figure('Top products by revenue', horizontal_bars(
            CHARTS[1], 'Top products',
            [(_label(row, 'product_id'), row['revenue']) for row in report['top_products']])),
        _figure('Revenue per category', horizontal_bars(
            CHARTS[2], 'Revenue per category',
            [(row['category'], row['revenue']) for row in report['revenue_per_category']])),
        _figure('Fraud alerts per rule', horizontal_bars(
            CHARTS[3], 'Alerts per rule',
            [(row['rule'], row['alerts']) for row in report['alerts_per_rule']], 'alerts')),
    ]
    tables = [_table(key, caption, columns, report[key]) for key, caption, columns in _TABLES]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>goldstream daily report {day}</title><style>{_STYLE}</style></head>'
            f'<body><h1>Daily report {day}</h1><p>UTC day {day}; revenue is price x quantity '
            f'+ tax, summed over currencies.</p>{notes}<section class="summary">{cards}</section>'
            f'<section class="charts">{"".join(charts)}</section>'
            f'<section class="tables">{"".join(tables)}</section></body></html>\n')
