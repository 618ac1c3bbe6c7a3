"""Each headline figure beside the previous day's, over two generated days made as a range.

Two days of generated traffic (different sizes, so the figures differ; one seed, so one set
of reference data) are archived the way
the streaming pipeline archives them; `daily_report.run` makes both with `--from`/`--to`,
the first day first, so the second compares with the first.
"""

import dataclasses
import datetime
import json

import pytest

from pipelines.daily_report import pipeline as daily_report
from pipelines.daily_report.days import DAY_MS
from pipelines.generator.config import DEFAULT_START_MS, TrafficConfig
from pipelines.generator.plan import plan_traffic
from pipelines.generator.reference_data import write_reference_data
from tests.pipelines.daily_report.report_setup import PLAN_NOW_MS, expected_report, write_archive

FIRST = datetime.date(2026, 11, 18)
SECOND = FIRST + datetime.timedelta(days=1)
FIRST_CONFIG = TrafficConfig(count=400, seed=5, events_per_second=0.2)
SECOND_CONFIG = dataclasses.replace(FIRST_CONFIG, count=500, start_ms=DEFAULT_START_MS + DAY_MS)


@pytest.fixture(scope='module')
def two_days(tmp_path_factory):
    """(folder, {day: expected figures}, {day: report.json}) of the two generated days."""
    folder = tmp_path_factory.mktemp('two_days')
    write_reference_data(
        folder / 'reference',
        seed=FIRST_CONFIG.seed,
        customers=FIRST_CONFIG.customers,
        products=FIRST_CONFIG.products,
    )
    expected = {}
    for day, config in ((FIRST, FIRST_CONFIG), (SECOND, SECOND_CONFIG)):
        plan = plan_traffic(config, now_ms=PLAN_NOW_MS)
        write_archive(folder / 'archive', plan, PLAN_NOW_MS)
        expected[day] = expected_report(plan, PLAN_NOW_MS, day)
    daily_report.run(
        [
            f'--from={FIRST}',
            f'--to={SECOND}',
            f'--archive_path={folder / "archive"}',
            f'--reference_data={folder / "reference"}',
            f'--reports_path={folder / "reports"}',
        ]
    )
    reports = {
        day: json.loads(
            (folder / 'reports' / day.isoformat() / 'report.json').read_text(encoding='utf-8')
        )
        for day in (FIRST, SECOND)
    }
    return folder, expected, reports


def _headline_values(expected):
    """{(figure, currency): value} the expected figures give."""
    values = {(figure, None): value for figure, value in expected['summary'].items()}
    for row in expected['revenue_per_currency']:
        for figure in ('revenue', 'average_order_value'):
            values[figure, row['currency']] = row[figure]
    return values


@pytest.mark.parametrize('day', [FIRST, SECOND])
def test_each_day_of_the_range_equals_its_ground_truth(two_days, day):
    _, expected, reports = two_days
    for table in (
        'summary',
        'revenue_per_currency',
        'top_products',
        'alerts',
        'dead_letters_per_reason',
    ):
        assert reports[day][table] == expected[day][table], table


def test_the_first_day_has_nothing_to_compare_with(two_days):
    _, _, reports = two_days
    first = reports[FIRST]
    assert 'There is no report of 2026-11-17 to compare with.' in first['notes']
    assert all(row['previous'] is None and row['change_pct'] is None for row in first['headlines'])


def test_the_second_day_shows_the_first_days_figures_and_the_change(two_days):
    _, expected, reports = two_days
    today, before = _headline_values(expected[SECOND]), _headline_values(expected[FIRST])
    rows = {(row['figure'], row['currency']): row for row in reports[SECOND]['headlines']}
    assert set(rows) == set(today)
    compared = 0
    for key, row in rows.items():
        assert row['value'] == today[key], key
        assert row['previous'] == before.get(key), key
        if before.get(key):
            compared += 1
            assert row['change_pct'] == round((today[key] - before[key]) / before[key] * 100, 1)
        else:
            assert row['change_pct'] is None
    assert rows['orders', None]['change_pct'] != 0 and compared >= 7
    assert not any('to compare with' in note for note in reports[SECOND]['notes'])


def test_the_headlines_csv_holds_the_comparison(two_days):
    folder, _, reports = two_days
    lines = (folder / 'reports' / SECOND.isoformat() / 'headlines.csv').read_text().splitlines()
    orders = reports[SECOND]['headlines'][0]
    assert orders['figure'] == 'orders'
    assert lines[0] == 'figure,currency,value,previous,change_pct'
    assert lines[1] == (f'orders,,{orders["value"]},{orders["previous"]},{orders["change_pct"]}')
