"""The report dict from the figures the pipeline gathered (plain Python: sorts and rounds).

`assemble_report` is the last step of `report_figures.ComputeReportFigures`; the dict it
returns is the `report.json` document that `pipelines.daily_report` describes. Amounts are
never added up across currencies: the revenue tables are per currency (the `currency`
column), or hold one report currency when `rates` converted every amount first.
"""

import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from pipelines.daily_report.comparison import headlines
from pipelines.daily_report.currency import CurrencyRates, split_key
from pipelines.daily_report.days import HOUR_S, day_bounds_ms
from pipelines.daily_report.dead_letter_reasons import meaning
from transforms.fraud_rules import RULES
from transforms.records import WindowCount

REPORT_FORMAT = 2
"""Version of the report dict: 2 keeps currencies apart, lists alerts and compares days."""
TOP_N = 10


def cents(amount: float) -> float:
    """An amount rounded to cents, as every output gives revenue."""
    return round(amount, 2)


def rank_by_revenue(row: WindowCount) -> Tuple[float, str]:
    """Top(reverse=True) keeps the smallest: highest revenue in cents first, ties by key.

    Ranking by the revenue shown (cents), not the exact sum, makes equal revenues in the
    outputs always come in key order.
    """
    return -cents(row.revenue), row.key


def utc_iso(epoch_ms: int) -> str:
    """Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`."""
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + f'{epoch_ms % 1000:03d}Z'


def made_stamp(source: str, runner: str, now: Optional[datetime.datetime] = None) -> Dict[str, str]:
    """The report's `made` stamp: when (UTC, to the second), from which source, by which
    runner."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return {
        'at': now.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'source': source,
        'runner': runner,
    }


def _sales(row: Optional[WindowCount]) -> Dict[str, Any]:
    if row is None:
        return {'orders': 0, 'units': 0, 'revenue': 0.0}
    return {'orders': row.orders, 'units': row.units, 'revenue': cents(row.revenue)}


def _average(row: Optional[WindowCount]) -> Optional[float]:
    return cents(row.revenue / row.orders) if row is not None and row.orders else None


def _per_currency(rows: Iterable[WindowCount]) -> Dict[str, Dict[str, WindowCount]]:
    """{currency: {table key: row}} of rows keyed by `report_currency.ByCurrency`."""
    tables: Dict[str, Dict[str, WindowCount]] = {}
    for row in rows:
        currency, key = split_key(row.key)
        tables.setdefault(currency, {})[key] = row
    return tables


def _ranked(rows: Iterable[WindowCount]) -> List[Tuple[str, WindowCount]]:
    """(table key, row) by revenue descending, ties by key."""
    keyed = [(split_key(row.key)[1], row) for row in rows]
    return sorted(keyed, key=lambda item: (-cents(item[1].revenue), item[0]))


def assemble_report(
    day: datetime.date,
    *,
    per_currency: Sequence[WindowCount],
    hourly: Sequence[WindowCount],
    top_products: Sequence[Tuple[str, List[WindowCount]]],
    top_customers: Sequence[Tuple[str, List[WindowCount]]],
    unique_customers: int,
    categories: Sequence[WindowCount],
    product_names: Mapping[str, Optional[str]],
    customer_names: Mapping[str, Optional[str]],
    alerts: Sequence[Tuple[str, int]],
    dead_letters: Sequence[Tuple[str, int]],
    alert_rows: Sequence[Mapping[str, Any]] = (),
    converted: Sequence[WindowCount] = (),
    rates: Optional[CurrencyRates] = None,
    previous: Optional[Mapping[str, Any]] = None,
    made: Optional[Mapping[str, str]] = None,
    top_n: int = TOP_N,
) -> Dict[str, Any]:
    """The report dict of `day` from its gathered figures.

    Args:
        day: The UTC day.
        per_currency: One day row per original currency (key: the currency).
        hourly, categories: Rows keyed `ByCurrency` (hour windows; day windows).
        top_products, top_customers: (currency, rows keyed `ByCurrency`) per currency.
        unique_customers: Distinct customers of the day.
        product_names, customer_names: Names by id (None: unknown to the reference data).
        alerts: (rule, count) pairs. alert_rows: `report_figures.alert_row` dicts.
        dead_letters: (`stage/REASON`, count) pairs.
        converted: With `rates`, the one day row of every amount converted.
        rates: The conversion, or None when amounts stay in their currencies.
        previous: The previous day's report dict, for the comparison, or None.
        made: The `made` stamp (`made_stamp`).
        top_n: Rows of the top products and customers, per currency.
    """
    start_ms, _ = day_bounds_ms(day)
    by_currency = {row.key: row for row in per_currency}
    orders = sum(row.orders for row in per_currency)
    units = sum(row.units for row in per_currency)
    currencies: List[Any]  # None alone for a day without orders or rates: looked up as is
    if rates is not None:
        currencies = [rates.currency]
    else:
        currencies = sorted(by_currency) or [None]
    alert_counts = dict.fromkeys(RULES, 0)
    alert_counts.update(dict(alerts))
    alert_total = sum(alert_counts.values())
    dead_letter_rows: List[Dict[str, Any]] = []
    for key, count in sorted(dead_letters, key=lambda item: (-item[1], item[0])):
        stage, _, reason = key.partition('/')
        dead_letter_rows.append(
            {
                'stage': stage,
                'reason': reason,
                'meaning': meaning(stage, reason),
                'dead_letters': count,
            }
        )
    dead_letter_total = sum(row['dead_letters'] for row in dead_letter_rows)

    summary: Dict[str, Any] = {
        'orders': orders,
        'units': units,
        'unique_customers': unique_customers,
        'fraud_alerts': alert_total,
        'dead_letters': dead_letter_total,
    }
    if rates is not None:
        total = converted[0] if converted else None
        summary.update(revenue=_sales(total)['revenue'], average_order_value=_average(total))

    hours: Dict[Optional[str], Dict[int, WindowCount]] = {}
    for row in hourly:
        hour = (row.window_start - start_ms) // (HOUR_S * 1000)
        hours.setdefault(split_key(row.key)[0], {})[hour] = row
    products = dict(top_products)
    customers = dict(top_customers)
    category_rows = _per_currency(categories)
    report: Dict[str, Any] = {
        'format': REPORT_FORMAT,
        'date': day.isoformat(),
        'empty': not (orders or alert_total or dead_letter_total),
        'notes': _notes(day, orders, alert_total, dead_letter_total, by_currency, rates, previous),
        'currency': rates.currency if rates is not None else None,
        'made': dict(made or made_stamp('', '')),
        'summary': summary,
        'revenue_per_currency': [
            dict({'currency': currency}, **_sales(row), average_order_value=_average(row))
            for currency, row in sorted(by_currency.items())
        ],
        'revenue_per_hour': [
            dict(
                {
                    'currency': currency,
                    'hour': hour,
                    'start': f'{day.isoformat()}T{hour:02d}:00:00Z',
                },
                **_sales(hours.get(currency, {}).get(hour)),
            )
            for currency in currencies
            for hour in range(24)
        ],
        'top_products': [
            dict(
                {
                    'currency': currency,
                    'rank': rank,
                    'product_id': key,
                    'name': product_names.get(key),
                },
                **_sales(row),
            )
            for currency in currencies
            for rank, (key, row) in enumerate(_ranked(products.get(currency, []))[:top_n], 1)
        ],
        'top_customers': [
            dict(
                {
                    'currency': currency,
                    'rank': rank,
                    'customer_id': key,
                    'name': customer_names.get(key),
                },
                **_sales(row),
            )
            for currency in currencies
            for rank, (key, row) in enumerate(_ranked(customers.get(currency, []))[:top_n], 1)
        ],
        'revenue_per_category': [
            dict({'currency': currency, 'category': key}, **_sales(row))
            for currency in currencies
            for key, row in _ranked(category_rows.get(currency, {}).values())
        ],
        'alerts_per_rule': [
            {'rule': rule, 'alerts': count} for rule, count in sorted(alert_counts.items())
        ],
        'alerts': [
            {
                'time': utc_iso(row['event_time_ms']),
                'rule': row['rule'],
                'card_id': row['card_id'],
                'order_ids': list(row['order_ids']),
                'alert_id': row['alert_id'],
            }
            for row in sorted(
                alert_rows,
                key=lambda r: (r['event_time_ms'], r['rule'], r['card_id'], r['alert_id']),
            )
        ],
        'dead_letters_per_reason': dead_letter_rows,
    }
    report['headlines'] = headlines(report, previous)
    return report


def _notes(
    day: datetime.date,
    orders: int,
    alert_total: int,
    dead_letter_total: int,
    by_currency: Mapping[str, WindowCount],
    rates: Optional[CurrencyRates],
    previous: Optional[Mapping[str, Any]],
) -> List[str]:
    notes = []
    if not orders:
        if dead_letter_total or alert_total:
            notes.append(f'No valid orders on {day.isoformat()}; {dead_letter_total} dead letters.')
        else:
            notes.append(
                f'No orders, alerts or dead letters were found for '
                f'{day.isoformat()}: the day is empty.'
            )
    if rates is None and len(by_currency) > 1:
        notes.append(
            f'Orders were paid in {len(by_currency)} currencies; amounts are shown '
            'per currency and never added up across them (give a rates file to '
            'convert them into one).'
        )
    if rates is not None:
        notes.append(f'Amounts are converted into {rates.currency} with the rates file.')
    before = (day - datetime.timedelta(days=1)).isoformat()
    if previous is None:
        notes.append(f'There is no report of {before} to compare with.')
    return notes
