"""The figures of the daily report, computed in the pipeline.

`ArchivedOrders` turns the archive's order dicts back into `Order`s at their event time;
`ComputeReportFigures` computes every figure with combiners (the streaming pipeline's
`CountPerWindow` with hour and day windows, `Top`, `Count`) and gathers them, as side inputs,
into one report dict: the JSON document that `pipelines.daily_report` describes.
"""
import base64
import datetime
import json
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows, TimestampedValue

from connectors.avro_archive import as_mapping
from transforms.fraud_rules import RULES
from transforms.records import (
    DEAD_LETTER, STAGE_VALIDATE, VALID, DeadLetter, EnrichedOrder, WindowCount)
from transforms.validation_rules import ValidationError, validate_order
from transforms.windowed_counts import CountPerWindow, product_id_of

REPORT_FORMAT = 1
TOP_N = 10
HOUR_S = 3600
DAY_S = 24 * HOUR_S
DAY_MS = DAY_S * 1000
UNKNOWN_CATEGORY = '(unknown product)'
"""The category of orders whose product is not in the reference data."""
STAGE_ARCHIVE = 'archive'
"""Dead-letter stage of archived orders the report cannot place in its day."""
OUTSIDE_DAY = 'OUTSIDE_DAY'
"""Reason of an archived order whose event time is not in the archive folder's day."""
_ALL = 'all'


def day_bounds_ms(day: datetime.date) -> Tuple[int, int]:
    """[start, end) of a UTC day, epoch milliseconds."""
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
    start_ms = int(start.timestamp()) * 1000
    return start_ms, start_ms + DAY_MS


class ArchivedOrders(beam.PTransform):
    """Archived order dicts (the v2 fields) in; `Order`s at their event time out.

    The archive holds orders `ValidateOrders` accepted; they are typed again with the same
    `validate_order`. Its only clock-dependent rule (at most one day after the wall clock)
    is checked against the end of the report's day: an order of that day is never after
    it, so a re-run next year gives the same report. An order that fails a rule anyway (an
    archive written by other code) or whose event time is not in the day is not dropped:
    it becomes a `DeadLetter` (stage `validate` with the rule's reason, or stage `archive`
    with `OUTSIDE_DAY`), counted as `DailyReport/archived_orders_rejected`.

    Output: `{VALID: PCollection[Order], DEAD_LETTER: PCollection[DeadLetter]}`.
    """

    def __init__(self, day: datetime.date):
        super().__init__()
        self._day = day

    def expand(self, records: beam.PCollection[Dict]) -> Dict[str, beam.PCollection]:
        start_ms, end_ms = day_bounds_ms(self._day)
        result = records | 'TypeOrders' >> beam.ParDo(
            _TypeOrderFn(start_ms, end_ms)).with_outputs(DEAD_LETTER, main=VALID)
        return {VALID: result[VALID], DEAD_LETTER: result[DEAD_LETTER]}


class _TypeOrderFn(beam.DoFn):
    def __init__(self, start_ms: int, end_ms: int):
        self._start_ms = start_ms
        self._end_ms = end_ms
        self._rejected = Metrics.counter('DailyReport', 'archived_orders_rejected')

    def process(self, fields: Dict[str, Any]) -> Iterable:
        try:
            order = validate_order(fields, now_ms=self._end_ms)
        except ValidationError as error:
            yield self._dead_letter(fields, STAGE_VALIDATE, str(error.reason),
                                    f'archived order failed re-validation: {error.message}')
            return
        if not self._start_ms <= order.event_time_ms < self._end_ms:
            yield self._dead_letter(fields, STAGE_ARCHIVE, OUTSIDE_DAY,
                                    f'archived order at {order.timestamp} is not in the day '
                                    'of its archive folder')
            return
        yield TimestampedValue(order, order.event_time_ms / 1000)

    def _dead_letter(self, fields, stage, reason, message):
        self._rejected.inc()
        raw = json.dumps(dict(fields), sort_keys=True, default=str).encode('utf-8')
        return pvalue.TaggedOutput(DEAD_LETTER, DeadLetter(
            stage, reason, message, base64.b64encode(raw).decode('ascii'), None, None, None,
            int(time.time() * 1000), None))


def customer_id_of(element: EnrichedOrder) -> str:
    return element.order.customer_id


def category_of(element: EnrichedOrder) -> str:
    return element.product.category if element.product is not None else UNKNOWN_CATEGORY


def everything(element: Any) -> str:
    return _ALL


def dead_letter_reason(dead_letter: Any) -> str:
    """`stage/REASON` of a `DeadLetter` or an archived dead-letter dict."""
    fields = as_mapping(dead_letter)
    return f"{fields['stage']}/{fields['reason']}"


def alert_rule(alert: Any) -> str:
    return as_mapping(alert)['rule']


def _product_name(element: EnrichedOrder) -> Tuple[str, Optional[str]]:
    return element.order.product_id, element.product.name if element.product else None


def _customer_name(element: EnrichedOrder) -> Tuple[str, Optional[str]]:
    return element.order.customer_id, element.customer.name if element.customer else None


def _rank(row: WindowCount) -> Tuple[float, str]:
    """Top.Of(reverse=True) keeps the smallest: highest revenue in cents first, ties by id.

    Ranking by the revenue shown (cents), not the exact sum, makes equal revenues in the
    outputs always come in id order.
    """
    return -cents(row.revenue), row.key


class ComputeReportFigures(beam.PTransform):
    """Enriched orders, alerts and dead letters of one day in; one report dict out.

    Input: a tuple `(enriched, alerts, dead_letters)` of bounded PCollections:
    `EnrichedOrder`s at their event time, `Alert`s (or alert dicts) and `DeadLetter`s (or
    archived dead-letter dicts), in any windowing.

    Output: a PCollection of exactly one dict, in the global window: the report of
    `pipelines.daily_report` (format `REPORT_FORMAT`), also for an empty day. Sums are
    exact (`CountPerWindow`); revenue is rounded to cents only in the report dict.
    """

    def __init__(self, day: datetime.date, top_n: int = TOP_N):
        super().__init__()
        if not isinstance(top_n, int) or top_n < 1:
            raise ValueError(f'top_n must be an int of at least 1, got {top_n!r}')
        self._day = day
        self._top_n = top_n

    def expand(self, inputs) -> beam.PCollection[Dict]:
        enriched, alerts, dead_letters = inputs
        pipeline = enriched.pipeline

        def per_key(label, key_fn, size_s=DAY_S):
            return (enriched
                    | label >> CountPerWindow(key_fn, size_s=size_s)
                    | f'{label}Global' >> beam.WindowInto(GlobalWindows()))

        totals = per_key('Totals', everything)
        hourly = per_key('RevenuePerHour', everything, size_s=HOUR_S)
        products = per_key('RevenuePerProduct', product_id_of)
        customers = per_key('RevenuePerCustomer', customer_id_of)
        categories = per_key('RevenuePerCategory', category_of)
        top_products = products | 'TopProducts' >> beam.combiners.Top.Of(
            self._top_n, key=_rank, reverse=True)
        top_customers = customers | 'TopCustomers' >> beam.combiners.Top.Of(
            self._top_n, key=_rank, reverse=True)
        unique_customers = customers | 'UniqueCustomers' >> beam.combiners.Count.Globally()
        product_names = (enriched | 'ProductNames' >> beam.Map(_product_name)
                         | 'DistinctProductNames' >> beam.Distinct())
        customer_names = (enriched | 'CustomerNames' >> beam.Map(_customer_name)
                          | 'DistinctCustomerNames' >> beam.Distinct())
        alerts_per_rule = (alerts
                           | 'AlertsGlobal' >> beam.WindowInto(GlobalWindows())
                           | 'AlertRule' >> beam.Map(alert_rule)
                           | 'AlertsPerRule' >> beam.combiners.Count.PerElement())
        dead_letters_per_reason = (dead_letters
                                   | 'DeadLettersGlobal' >> beam.WindowInto(GlobalWindows())
                                   | 'DeadLetterReason' >> beam.Map(dead_letter_reason)
                                   | 'DeadLettersPerReason' >> beam.combiners.Count.PerElement())

        return (pipeline
                | 'ReportDay' >> beam.Create([self._day.isoformat()])
                | 'AssembleReport' >> beam.Map(
                    _assemble, self._top_n,
                    totals=pvalue.AsList(totals), hourly=pvalue.AsList(hourly),
                    top_products=pvalue.AsSingleton(top_products),
                    top_customers=pvalue.AsSingleton(top_customers),
                    unique_customers=pvalue.AsSingleton(unique_customers),
                    categories=pvalue.AsList(categories),
                    product_names=pvalue.AsDict(product_names),
                    customer_names=pvalue.AsDict(customer_names),
                    alerts=pvalue.AsList(alerts_per_rule),
                    dead_letters=pvalue.AsList(dead_letters_per_reason)))


def _assemble(day: str, top_n: int, **figures) -> Dict:
    return assemble_report(datetime.date.fromisoformat(day), top_n=top_n, **figures)


def cents(amount: float) -> float:
    """An amount rounded to cents, as every output gives revenue."""
    return round(amount, 2)


def _sales(row: Optional[WindowCount]) -> Dict[str, Any]:
    if row is None:
        return {'orders': 0, 'units': 0, 'revenue': 0.0}
    return {'orders': row.orders, 'units': row.units, 'revenue': cents(row.revenue)}


def assemble_report(day: datetime.date, *, totals: List[WindowCount],
                    hourly: List[WindowCount], top_products: List[WindowCount],
                    top_customers: List[WindowCount], unique_customers: int,
                    categories: List[WindowCount], product_names: Mapping[str, Optional[str]],
                    customer_names: Mapping[str, Optional[str]],
                    alerts: List[Tuple[str, int]], dead_letters: List[Tuple[str, int]],
                    top_n: int = TOP_N) -> Dict[str, Any]:
    """The report dict from the gathered figures (plain Python; sorts and rounds only)."""
    start_ms, _ = day_bounds_ms(day)
    total = _sales(totals[0] if totals else None)
    exact_revenue = totals[0].revenue if totals else 0.0
    by_hour = {(row.window_start - start_ms) // (HOUR_S * 1000): row for row in hourly}
    alert_counts = dict.fromkeys(RULES, 0)
    alert_counts.update(dict(alerts))
    dead_letter_rows = []
    for key, count in sorted(dead_letters, key=lambda item: (-item[1], item[0])):
        stage, _, reason = key.partition('/')
        dead_letter_rows.append({'stage': stage, 'reason': reason, 'dead_letters': count})
    alert_total = sum(alert_counts.values())
    dead_letter_total = sum(row['dead_letters'] for row in dead_letter_rows)

    notes = []
    if not total['orders']:
        if dead_letter_total or alert_total:
            notes.append(f'No valid orders on {day.isoformat()}; '
                         f'{dead_letter_total} dead letters.')
        else:
            notes.append(f'No orders, alerts or dead letters were found for '
                         f'{day.isoformat()}: the day is empty.')
    return {
        'format': REPORT_FORMAT,
        'date': day.isoformat(),
        'empty': not (total['orders'] or alert_total or dead_letter_total),
        'notes': notes,
        'summary': dict(
            total, unique_customers=unique_customers,
            average_order_value=(cents(exact_revenue / total['orders'])
                                 if total['orders'] else None),
            fraud_alerts=alert_total, dead_letters=dead_letter_total),
        'revenue_per_hour': [
            dict({'hour': hour,
                  'start': f'{day.isoformat()}T{hour:02d}:00:00Z'}, **_sales(by_hour.get(hour)))
            for hour in range(24)],
        'top_products': [
            dict({'rank': rank, 'product_id': row.key, 'name': product_names.get(row.key)},
                 **_sales(row))
            for rank, row in enumerate(sorted(top_products, key=_rank)[:top_n], start=1)],
        'top_customers': [
            dict({'rank': rank, 'customer_id': row.key, 'name': customer_names.get(row.key)},
                 **_sales(row))
            for rank, row in enumerate(sorted(top_customers, key=_rank)[:top_n], start=1)],
        'revenue_per_category': [
            dict({'category': row.key}, **_sales(row))
            for row in sorted(categories, key=_rank)],
        'alerts_per_rule': [{'rule': rule, 'alerts': count}
                            for rule, count in sorted(alert_counts.items())],
        'dead_letters_per_reason': dead_letter_rows,
    }
