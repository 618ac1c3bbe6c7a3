"""The daily report never adds amounts of different currencies; a rates file converts them.

A hand-made day of three orders, two in EUR and one in USD, on the same product and customer,
is archived the way the streaming pipeline archives it; the report runs through `build`
(on Prism) without and with a rates file.
"""

import datetime
import json
import types

import pytest

from connectors.order_codec import encode_order_json
from pipelines.daily_report.currency import load_rates, parse_rates
from pipelines.daily_report.days import day_bounds_ms
from pipelines.generator.reference_data import customer_id, product_id, write_reference_data
from tests.pipelines.daily_report.report_setup import run_report, write_archive

DAY = datetime.date(2026, 11, 18)
START_MS = day_bounds_ms(DAY)[0]
HOUR_MS = 3_600_000
# (currency, price, quantity, tax, hour): EUR 2 x 10.00 + 1.00 = 21.00 and 100.00, USD 50.00
SAMPLE_ORDERS = [('EUR', 10.0, 2, 1.0, 9), ('EUR', 100.0, 1, 0.0, 10), ('USD', 50.0, 1, 0.0, 10)]


def _record(number, currency, price, quantity, tax, hour):
    event_ms = START_MS + hour * HOUR_MS + number * 1000
    timestamp = datetime.datetime.fromtimestamp(event_ms / 1000, datetime.timezone.utc)
    fields = {
        'order_id': f'ord-{number}',
        'customer_id': customer_id(1),
        'product_id': product_id(1),
        'quantity': quantity,
        'price': price,
        'currency': currency,
        'card_id': f'card-{number}',
        'lat': 48.85,
        'lon': 2.35,
        'timestamp': timestamp.isoformat().replace('+00:00', 'Z'),
        'tax': tax,
        'version': 2,
    }
    return types.SimpleNamespace(value=encode_order_json(fields), event_time_ms=event_ms)


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp('currencies')
    write_reference_data(folder / 'reference', seed=1, customers=5, products=5)
    plan = types.SimpleNamespace(
        records=[_record(n, *order) for n, order in enumerate(SAMPLE_ORDERS)]
    )
    write_archive(folder / 'archive', plan, START_MS + 2 * 86_400_000)
    (folder / 'rates.json').write_text(json.dumps({'currency': 'EUR', 'rates': {'USD': 0.5}}))
    (folder / 'no-usd.json').write_text(json.dumps({'currency': 'EUR', 'rates': {'GBP': 1.2}}))
    return folder


def _report(folder, name, *extra):
    return run_report(
        DAY.isoformat(), folder / 'archive', folder / 'reference', folder / name, *extra
    )


def test_a_two_currency_day_keeps_the_currencies_apart(folder):
    report = _report(folder, 'reports')
    assert report['currency'] is None
    assert 'revenue' not in report['summary'] and report['summary']['orders'] == 3
    assert report['revenue_per_currency'] == [
        {'currency': 'EUR', 'orders': 2, 'units': 3, 'revenue': 121.0, 'average_order_value': 60.5},
        {'currency': 'USD', 'orders': 1, 'units': 1, 'revenue': 50.0, 'average_order_value': 50.0},
    ]
    product = product_id(1)
    assert [
        (row['currency'], row['product_id'], row['revenue']) for row in report['top_products']
    ] == [('EUR', product, 121.0), ('USD', product, 50.0)]
    assert [(row['currency'], row['revenue']) for row in report['top_customers']] == [
        ('EUR', 121.0),
        ('USD', 50.0),
    ]
    assert sorted(
        (row['currency'], row['hour'], row['revenue'])
        for row in report['revenue_per_hour']
        if row['orders']
    ) == [('EUR', 9, 21.0), ('EUR', 10, 100.0), ('USD', 10, 50.0)]
    assert [(row['currency'], row['revenue']) for row in report['revenue_per_category']] == [
        ('EUR', 121.0),
        ('USD', 50.0),
    ]
    assert [
        (row['figure'], row['currency'], row['value'])
        for row in report['headlines']
        if row['currency']
    ] == [
        ('revenue', 'EUR', 121.0),
        ('average_order_value', 'EUR', 60.5),
        ('revenue', 'USD', 50.0),
        ('average_order_value', 'USD', 50.0),
    ]
    assert not any(row['revenue'] == 171.0 for row in report['revenue_per_hour'])


def test_a_rates_file_converts_every_amount_into_its_currency(folder):
    report = _report(folder, 'reports-eur', f'--rates_file={folder / "rates.json"}')
    assert report['currency'] == 'EUR'
    assert report['summary']['revenue'] == 146.0  # 121.00 EUR + 50.00 USD x 0.5
    assert report['summary']['average_order_value'] == 48.67
    assert report['revenue_per_currency'][1] == {  # each currency's own amounts stay there
        'currency': 'USD',
        'orders': 1,
        'units': 1,
        'revenue': 50.0,
        'average_order_value': 50.0,
    }
    assert [(row['currency'], row['revenue']) for row in report['top_products']] == [('EUR', 146.0)]
    assert {row['currency'] for row in report['revenue_per_hour']} == {'EUR'}
    assert [row['revenue'] for row in report['revenue_per_hour'] if row['orders']] == [21.0, 125.0]
    assert 'Amounts are converted into EUR with the rates file.' in report['notes']


def test_an_order_in_a_currency_the_rates_lack_fails_the_report_naming_it(folder):
    with pytest.raises(Exception, match='no rate for USD'):
        _report(folder, 'reports-no-usd', f'--rates_file={folder / "no-usd.json"}')


@pytest.mark.parametrize(
    'data, message',
    [
        ([], 'expected a JSON object'),
        ({'currency': 'eur', 'rates': {}}, 'ISO 4217 code'),
        ({'currency': 'EUR', 'rates': {'US$': 1.0}}, "'US\\$' is not an ISO 4217"),
        ({'currency': 'EUR', 'rates': {'USD': 0}}, 'the rate of USD must be a number above 0'),
        ({'currency': 'EUR', 'rates': {'EUR': 2}}, 'report currency EUR must be 1'),
    ],
)
def test_a_bad_rates_document_is_refused_saying_why(data, message):
    with pytest.raises(ValueError, match=message):
        parse_rates(data)


def test_a_missing_rates_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match='does not exist'):
        load_rates(str(tmp_path / 'rates.json'))
    assert load_rates(None) is None
