"""The HTML page of the daily report: self-contained, every chart drawn, every table there."""

import datetime
import html.parser
import re
from typing import Dict, List

from pipelines.daily_report import html as report_html
from pipelines.daily_report.assemble import assemble_report, made_stamp
from pipelines.daily_report.currency import KEY_SEPARATOR
from pipelines.daily_report.days import day_bounds_ms
from pipelines.daily_report.html import chart_ids, render_html
from pipelines.daily_report.writers import TABLE_COLUMNS
from transforms.records import WindowCount

DAY = datetime.date(2026, 11, 18)
START_MS = day_bounds_ms(DAY)[0]


def _row(key, orders, revenue, start=START_MS, size_ms=86_400_000):
    return WindowCount(start, start + size_ms, key, orders, orders * 2, revenue, 'ON_TIME', 0)


def _in(currency, key):
    return f'{currency}{KEY_SEPARATOR}{key}'


SAMPLE_REPORT = assemble_report(
    DAY,
    per_currency=[_row('EUR', 4, 300.25), _row('USD', 2, 110.25)],
    hourly=[
        _row(_in('EUR', 'all'), 4, 300.25, START_MS + 8 * 3_600_000, 3_600_000),
        _row(_in('USD', 'all'), 2, 110.25, START_MS + 9 * 3_600_000, 3_600_000),
    ],
    top_products=[
        ('EUR', [_row(_in('EUR', 'prod-0001'), 4, 300.25)]),
        ('USD', [_row(_in('USD', 'prod-9001'), 2, 110.25)]),
    ],
    top_customers=[
        ('EUR', [_row(_in('EUR', 'cust-00001'), 4, 300.25)]),
        ('USD', [_row(_in('USD', 'cust-00001'), 2, 110.25)]),
    ],
    unique_customers=1,
    categories=[
        _row(_in('EUR', 'books'), 4, 300.25),
        _row(_in('USD', '(unknown product)'), 2, 110.25),
    ],
    product_names={'prod-0001': 'Atlas <&> "Maps"', 'prod-9001': None},
    customer_names={'cust-00001': 'Ada'},
    alerts=[('VELOCITY', 2), ('SMALL_THEN_LARGE', 1)],
    alert_rows=[
        {
            'event_time_ms': START_MS + 8 * 3_600_000 + n,
            'rule': rule,
            'card_id': 'card-000001',
            'order_ids': ['ord-1', 'ord-2'],
            'alert_id': f'a{n}',
        }
        for n, rule in enumerate(['VELOCITY', 'VELOCITY', 'SMALL_THEN_LARGE'])
    ],
    dead_letters=[('decode/BAD_JSON', 3)],
    made=made_stamp(
        'archive /data/archive',
        'DirectRunner',
        datetime.datetime(2026, 11, 19, 2, 0, 5, tzinfo=datetime.timezone.utc),
    ),
)
EMPTY_REPORT = assemble_report(
    DAY,
    per_currency=[],
    hourly=[],
    top_products=[],
    top_customers=[],
    unique_customers=0,
    categories=[],
    product_names={},
    customer_names={},
    alerts=[],
    dead_letters=[],
)


class _Page(html.parser.HTMLParser):
    """Collects the shapes of each svg, the tables, and every attribute value."""

    VOID = {'meta', 'br', 'img', 'input', 'link', 'hr', 'line', 'rect', 'path'}

    def __init__(self):
        super().__init__()
        self.svgs: Dict[str, List[str]] = {}
        self.tables: Dict[str, int] = {}
        self.attributes: List[str] = []
        self.tags: List[str] = []
        self.open: List[str] = []
        self.text: List[str] = []
        self._svg = None
        self._table = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.attributes.extend(value or '' for value in attrs.values())
        if tag == 'svg':
            self._svg = attrs['id']
            self.svgs[self._svg] = []
        elif self._svg is not None:
            self.svgs[self._svg].append(tag)
        if tag == 'table':
            self._table = attrs['id']
            self.tables[self._table] = 0
        elif tag == 'tr' and self._table is not None:
            self.tables[self._table] += 1
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.open.pop()

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.open and self.open[-1] == tag, f'</{tag}> closes <{self.open[-1:]}>'
        self.open.pop()
        if tag == 'svg':
            self._svg = None
        elif tag == 'table':
            self._table = None

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.open == [], f'unclosed tags {parser.open}'
    return parser


def test_every_chart_is_an_inline_svg_with_bars_and_each_currency_has_its_own():
    page = parse(render_html(SAMPLE_REPORT))
    assert (
        list(page.svgs)
        == chart_ids(SAMPLE_REPORT)
        == [
            'alerts-per-rule',
            'revenue-per-hour-eur',
            'top-products-eur',
            'revenue-per-category-eur',
            'revenue-per-hour-usd',
            'top-products-usd',
            'revenue-per-category-usd',
        ]
    )
    for chart in page.svgs:
        assert page.svgs[chart].count('rect') >= 1, chart
    for currency in ('eur', 'usd'):
        assert page.svgs[f'revenue-per-hour-{currency}'].count('rect') == 24  # zeros flat
        assert page.svgs[f'top-products-{currency}'].count('rect') == 1
        assert page.svgs[f'revenue-per-category-{currency}'].count('rect') == 1
    assert page.svgs['alerts-per-rule'].count('rect') == 3


def test_the_page_fetches_nothing():
    text = render_html(SAMPLE_REPORT)
    page = parse(text)
    assert 'http' not in text.lower() and '//' not in ''.join(page.attributes)
    assert 'script' not in page.tags and '<script' not in text.lower()
    assert not {'link', 'img', 'iframe', 'object', 'embed'} & set(page.tags)
    assert 'url(' not in text and '@import' not in text


def test_every_table_is_there_with_its_rows():
    page = parse(render_html(SAMPLE_REPORT))
    for table in TABLE_COLUMNS:
        table_id = 'table-' + table.replace('_', '-')
        # a header row plus one per report row
        assert page.tables[table_id] == 1 + len(SAMPLE_REPORT[table]), table
    assert page.tables['table-revenue-per-hour'] == 1 + 2 * 24


def test_headlines_show_the_previous_day_and_the_change():
    previous = assemble_report(
        DAY,
        per_currency=[_row('EUR', 5, 200.5)],
        hourly=[],
        top_products=[],
        top_customers=[],
        unique_customers=2,
        categories=[],
        product_names={},
        customer_names={},
        alerts=[],
        dead_letters=[('decode/BAD_JSON', 3)],
    )
    today = assemble_report(
        DAY,
        per_currency=[_row('EUR', 4, 300.25), _row('USD', 2, 110.25)],
        hourly=[],
        top_products=[],
        top_customers=[],
        unique_customers=1,
        categories=[],
        product_names={},
        customer_names={},
        alerts=[],
        dead_letters=[],
        previous=previous,
    )
    page = parse(render_html(today))
    text = ''.join(page.text)
    assert 'Orders6previous day: 5 (+20.0%)' in text
    # amounts per currency in one table, not a card each
    assert page.tables['currency-comparison'] == 1 + 2
    assert 'EUR4300.25200.50 (+49.8%)75.0640.10 (+87.2%)' in text
    assert 'USD2110.25n/a55.12n/a' in text
    assert 'Revenue (EUR)' not in text
    assert 'Unique customers1previous day: 2 (-50.0%)' in text
    assert 'Dead letters0previous day: 3 (-100.0%)' in text


def test_alerts_dead_letter_meanings_and_the_footer_are_on_the_page():
    page_text = render_html(SAMPLE_REPORT)
    page = parse(page_text)
    text = ''.join(page.text)
    # what needs attention comes before the charts of each currency
    assert page_text.index('id="table-alerts"') < page_text.index('id="revenue-per-hour-eur"')
    assert page_text.index('id="table-dead-letters-per-reason"') < page_text.index(
        'id="revenue-per-hour-eur"'
    )
    assert page.tables['table-alerts'] == 1 + 3
    assert '08:00:00.000VELOCITYcard-000001ord-1 ord-2' in text
    assert 'not valid JSON' in text
    assert 'Made 2026-11-19T02:00:05Z from archive /data/archive by DirectRunner.' in text
    assert 'per currency, never added up across currencies' in text


def test_text_is_escaped():
    text = render_html(SAMPLE_REPORT)
    assert 'Atlas &lt;&amp;&gt; &quot;Maps&quot;' in text and '<&>' not in text
    assert 'Atlas <&> "Maps"' in ''.join(parse(text).text)


def test_an_empty_day_says_so_and_draws_no_bars():
    page = parse(render_html(EMPTY_REPORT))
    text = ''.join(page.text)
    assert 'the day is empty' in text
    assert (
        list(page.svgs)
        == chart_ids(EMPTY_REPORT)
        == [
            'alerts-per-rule',
            'revenue-per-hour-all',
            'top-products-all',
            'revenue-per-category-all',
        ]
    )
    assert all('rect' not in shapes for shapes in page.svgs.values())
    assert text.count('no data') == 4
    assert page.tables['table-top-products'] == 2  # header, "none"


def test_the_peak_label_of_a_vertical_chart_has_room_left_of_the_axis():
    # 107,036.06 was cut to 07,036.06 when the left margin was a fixed 60 px.
    svg = report_html.vertical_bars(
        'revenue-per-hour', 'Revenue per hour', [('00', 107036.06), ('01', 5.0)]
    )
    label = re.search(r'<text x="(\d+)"[^>]*>107,036.06</text>', svg)
    assert label, svg
    assert int(label.group(1)) >= 7 * len('107,036.06')  # glyphs of about 7 px at 12 px
