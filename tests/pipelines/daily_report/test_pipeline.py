"""The daily report over a generated day equals the generator's ground truth.

One archive is written for the module (generated traffic on 2026-11-18, plus dead letters
alone on 2026-11-20); the report runs on Prism (through `build`) for the generated day, a
day without files and the dead-letter-only day.
"""

import csv
import datetime
import io

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.daily_report import pipeline as daily_report
from pipelines.daily_report.assemble import assemble_report
from pipelines.daily_report.currency import KEY_SEPARATOR
from pipelines.daily_report.days import day_bounds_ms
from pipelines.daily_report.options import DailyReportOptions, ReportSettings, report_settings
from pipelines.daily_report.writers import TABLE_COLUMNS
from pipelines.streaming.options import StreamingOptions
from tests.pipelines.daily_report.report_setup import (
    DAY,
    PLAN_NOW_MS,
    expected_report,
    generated_day,
    run_report,
)
from transforms.records import WindowCount

DEAD_LETTER_DAY = datetime.date(2026, 11, 20)
SAMPLE_DEAD_LETTERS = [
    {
        'stage': stage,
        'reason': reason,
        'message': 'sample',
        'raw': '',
        'topic': 'orders',
        'partition': 0,
        'offset': n,
        'failed_at': day_bounds_ms(DEAD_LETTER_DAY)[0] + n * 3_600_000,
        'key': None,
    }
    for n, (stage, reason) in enumerate(
        [('decode', 'BAD_JSON'), ('decode', 'BAD_JSON'), ('validate', 'TAX_NEGATIVE')]
    )
]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp('daily_report')
    return folder, generated_day(folder, SAMPLE_DEAD_LETTERS)


@pytest.fixture(scope='module')
def report(setup):
    folder, _ = setup
    return run_report(DAY.isoformat(), folder / 'archive', folder / 'reference', folder / 'reports')


@pytest.fixture(scope='module')
def expected(setup):
    _, plan = setup
    return expected_report(plan, PLAN_NOW_MS, DAY)


def test_the_plan_spans_several_hours_and_has_every_kind_of_figure(setup, expected):
    _, plan = setup
    assert sum(1 for row in expected['revenue_per_hour'] if row['orders']) >= 4
    assert expected['summary']['orders'] == plan.ground_truth.orders.valid
    # the streaming metrics' revenue adds currencies up: only their sum can be checked
    assert round(sum(m.revenue for m in plan.ground_truth.metrics), 2) == round(
        sum(row['revenue'] for row in expected['revenue_per_currency']), 2
    )
    assert len(expected['revenue_per_currency']) > 2 and len(expected['alerts']) > 0
    assert expected['summary']['fraud_alerts'] > 0 and expected['summary']['dead_letters'] > 0
    assert any(row['name'] is None for row in expected['top_products']) or any(
        row['category'] == '(unknown product)' for row in expected['revenue_per_category']
    )


@pytest.mark.parametrize(
    'table',
    [
        'currency',
        'summary',
        'revenue_per_currency',
        'revenue_per_hour',
        'top_products',
        'top_customers',
        'revenue_per_category',
        'alerts_per_rule',
        'alerts',
        'dead_letters_per_reason',
    ],
)
def test_report_of_a_generated_day_equals_the_ground_truth(report, expected, table):
    assert report[table] == expected[table]


def test_report_header(report, setup):
    folder, _ = setup
    currencies = [row['currency'] for row in report['revenue_per_currency']]
    assert report['format'] == 2 and report['date'] == DAY.isoformat()
    assert report['empty'] is False and report['currency'] is None
    assert report['notes'] == [
        f'Orders were paid in {len(currencies)} currencies; amounts are shown per currency '
        'and never added up across them (give a rates file to convert them into one).',
        'There is no report of 2026-11-17 to compare with.',
    ]
    assert len(currencies) > 2 and len(report['revenue_per_hour']) == 24 * len(currencies)
    assert report['made']['source'] == f'archive {folder / "archive"}'
    assert report['made']['runner'] == 'DirectRunner'
    made = datetime.datetime.strptime(report['made']['at'], '%Y-%m-%dT%H:%M:%SZ')
    age = datetime.datetime.utcnow() - made
    assert datetime.timedelta(0) <= age < datetime.timedelta(minutes=10)


def test_each_table_is_a_csv_matching_the_json(setup, report):
    folder, _ = setup
    out = folder / 'reports' / DAY.isoformat()
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(
        ['report.json', 'report.html', 'summary.csv'] + [f'{table}.csv' for table in TABLE_COLUMNS]
    )
    for table, columns in TABLE_COLUMNS.items():
        rows = list(csv.DictReader(io.StringIO((out / f'{table}.csv').read_text())))
        assert tuple(rows[0].keys()) == columns
        assert len(rows) == len(report[table])
        for row, json_row in zip(rows, report[table]):
            for column in columns:
                value = json_row[column]
                if value is None:
                    shown = ''
                elif column in ('revenue', 'average_order_value'):
                    shown = f'{value:.2f}'
                elif isinstance(value, list):
                    shown = ' '.join(value)
                elif (
                    table == 'headlines'
                    and column in ('value', 'previous')
                    and json_row['figure'] in ('revenue', 'average_order_value')
                ):
                    shown = f'{value:.2f}'
                else:
                    shown = str(value)
                assert row[column] == shown
    summary = dict(csv.reader(io.StringIO((out / 'summary.csv').read_text())))
    assert summary['orders'] == str(report['summary']['orders'])
    assert summary['currency'] == '' and 'revenue' not in summary
    assert summary['made_source'] == report['made']['source']
    assert '<svg' in (out / 'report.html').read_text()


def test_a_day_without_files_gives_a_report_that_says_so(setup):
    folder, _ = setup
    day = '2026-11-19'
    report = run_report(day, folder / 'archive', folder / 'reference', folder / 'reports')
    assert report['empty'] is True
    assert 'empty' in report['notes'][0]
    assert report['summary'] == {
        'orders': 0,
        'units': 0,
        'unique_customers': 0,
        'fraud_alerts': 0,
        'dead_letters': 0,
    }
    assert report['revenue_per_currency'] == [] and report['alerts'] == []
    assert [row['revenue'] for row in report['revenue_per_hour']] == [0.0] * 24
    assert {row['currency'] for row in report['revenue_per_hour']} == {None}
    assert report['top_products'] == report['top_customers'] == []
    assert report['revenue_per_category'] == report['dead_letters_per_reason'] == []
    assert all(row['alerts'] == 0 for row in report['alerts_per_rule'])
    html = (folder / 'reports' / day / 'report.html').read_text()
    assert 'the day is empty' in html and 'no data' in html


def test_a_day_of_dead_letters_only_reports_them(setup):
    folder, _ = setup
    day = DEAD_LETTER_DAY.isoformat()
    report = run_report(day, folder / 'archive', folder / 'reference', folder / 'reports')
    assert report['empty'] is False
    assert report['notes'][0] == f'No valid orders on {day}; 3 dead letters.'
    assert report['summary']['orders'] == 0 and report['summary']['dead_letters'] == 3
    assert report['revenue_per_currency'] == []
    assert report['dead_letters_per_reason'] == [
        {
            'stage': 'decode',
            'reason': 'BAD_JSON',
            'dead_letters': 2,
            'meaning': 'The record was text but not valid JSON: a producer wrote a broken or '
            'cut-off order.',
        },
        {
            'stage': 'validate',
            'reason': 'TAX_NEGATIVE',
            'dead_letters': 1,
            'meaning': 'The tax was negative.',
        },
    ]


def test_date_is_required_and_checked():
    with pytest.raises(ValueError, match='--date is required'):
        daily_report.pipeline_options([])
    with pytest.raises(ValueError, match='YYYY-MM-DD'):
        daily_report.pipeline_options(['--date=18/11/2026'])


def test_settings_share_the_streaming_options():
    settings = report_settings(
        PipelineOptions(
            ['--date=2026-11-18', '--velocity_count=7', '--archive_path=a', '--reference_data=r']
        )
    )
    streaming = StreamingOptions([])
    assert settings == ReportSettings(
        DAY, 'a', 'r', 'reports', dict(streaming.fraud_thresholds(), velocity_count=7)
    )


def _row(key, revenue, start=0):
    return WindowCount(start, start + 1, key, 1, 1, revenue, 'ON_TIME', 0)


def _eur(key):
    return f'EUR{KEY_SEPARATOR}{key}'


def test_ties_are_ranked_by_id_and_revenue_rounded_to_cents():
    report = assemble_report(
        datetime.date(1970, 1, 1),
        per_currency=[_row('EUR', 30.005)],
        hourly=[],
        top_products=[
            ('EUR', [_row(_eur('p2'), 10.0), _row(_eur('p1'), 10.001), _row(_eur('p3'), 10.004)])
        ],
        top_customers=[],
        unique_customers=0,
        categories=[_row(_eur('b'), 5.0), _row(_eur('a'), 5.0)],
        product_names={},
        customer_names={},
        alerts=[('VELOCITY', 2)],
        dead_letters=[('decode/EMPTY', 1), ('decode/BAD_JSON', 1)],
    )
    assert [row['product_id'] for row in report['top_products']] == ['p1', 'p2', 'p3']
    assert [row['revenue'] for row in report['top_products']] == [10.0, 10.0, 10.0]
    assert [row['category'] for row in report['revenue_per_category']] == ['a', 'b']
    assert [row['reason'] for row in report['dead_letters_per_reason']] == ['BAD_JSON', 'EMPTY']
    assert {row['rule']: row['alerts'] for row in report['alerts_per_rule']} == {
        'IMPOSSIBLE_TRAVEL': 0,
        'SMALL_THEN_LARGE': 0,
        'VELOCITY': 2,
    }


def test_a_missing_archive_is_an_error_not_an_empty_day(setup):
    folder, _ = setup
    with pytest.raises(ValueError, match='--archive_path .*no-such-archive does not exist'):
        daily_report.pipeline_options(
            [f'--date={DAY}', f'--archive_path={folder / "no-such-archive"}']
        )


def test_the_command_line_says_what_is_wrong_in_one_line(setup, capsys):
    folder, _ = setup
    missing = folder / 'no-such-archive'
    code = daily_report.main(
        [
            f'--date={DAY}',
            f'--archive_path={missing}',
            f'--reference_data={folder / "reference"}',
            f'--reports_path={folder / "missing-reports"}',
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f'error: --archive_path {missing} does not exist: point it at the folder '
        'the streaming pipeline archives into (it holds dt=YYYY-MM-DD folders), '
        'or read the day from Kafka with --source=kafka'
    ]
    assert not (folder / 'missing-reports').exists()


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--date=2026-11-18', '--from=2026-11-17', '--to=2026-11-18'], 'not both'),
        (['--from=2026-11-17'], 'both --from and --to'),
        (['--from=2026-11-18', '--to=2026-11-17'], 'ends .* before it starts'),
        (['--from=17.11.2026', '--to=2026-11-18'], '--from must be YYYY-MM-DD'),
    ],
)
def test_a_bad_range_is_refused(argv, message):
    with pytest.raises(ValueError, match=message):
        daily_report.days_options(argv)


def test_a_range_gives_each_day_in_order(setup):
    folder, _ = setup
    days = daily_report.days_options(
        ['--from=2026-11-30', '--to=2026-12-02', f'--archive_path={folder / "archive"}']
    )
    assert [o.view_as(DailyReportOptions).date for o in days] == [
        '2026-11-30',
        '2026-12-01',
        '2026-12-02',
    ]
