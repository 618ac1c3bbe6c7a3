"""The figures of the daily report, computed in the pipeline.

`ArchivedOrders` turns the archive's order dicts back into `Order`s at their event time;
`ComputeReportFigures` computes every figure with combiners (the streaming pipeline's
`CountPerWindow` with hour and day windows, `Top`, `Count`) and gathers them, as side inputs,
into one report dict (`report_assemble.assemble_report`): the JSON document that
`pipelines.daily_report` describes.
"""

import base64
import datetime
import json
import time
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Tuple

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows, TimestampedValue

from connectors.avro_archive import as_mapping
from pipelines.daily_report.assemble import assemble_report, made_stamp
from pipelines.daily_report.assemble import rank_by_revenue as _rank
from pipelines.daily_report.comparison import read_report
from pipelines.daily_report.currency import ByCurrency, ConvertedAmount, CurrencyRates, split_key
from pipelines.daily_report.days import DAY_S, HOUR_S, day_bounds_ms
from pipelines.daily_report.dead_letter_reasons import OUTSIDE_DAY, STAGE_ARCHIVE
from transforms.dead_letters import sha256_hex
from transforms.records import (
    DEAD_LETTER,
    STAGE_VALIDATE,
    VALID,
    DeadLetter,
    EnrichedOrder,
    WindowCount,
)
from transforms.validation_rules import ValidationError, validate_order
from transforms.windowed_counts import CountPerWindow, product_id_of

TOP_N = 10
UNKNOWN_CATEGORY = '(unknown product)'
"""The category of orders whose product is not in the reference data."""
_ALL = 'all'


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
        result = records | 'TypeOrders' >> beam.ParDo(_TypeOrderFn(start_ms, end_ms)).with_outputs(
            DEAD_LETTER, main=VALID
        )
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
            yield self._dead_letter(
                fields,
                STAGE_VALIDATE,
                str(error.reason),
                f'archived order failed re-validation: {error.message}',
            )
            return
        if not self._start_ms <= order.event_time_ms < self._end_ms:
            yield self._dead_letter(
                fields,
                STAGE_ARCHIVE,
                OUTSIDE_DAY,
                f'archived order at {order.timestamp} is not in the day of its archive folder',
            )
            return
        yield TimestampedValue(order, order.event_time_ms / 1000)

    def _dead_letter(self, fields, stage, reason, message):
        self._rejected.inc()
        raw = json.dumps(dict(fields), sort_keys=True, default=str).encode('utf-8')
        return pvalue.TaggedOutput(
            DEAD_LETTER,
            DeadLetter(
                stage,
                reason,
                message,
                base64.b64encode(raw).decode('ascii'),
                None,
                None,
                None,
                int(time.time() * 1000),
                None,
                len(raw),
                sha256_hex(raw),
                False,
            ),
        )


def customer_id_of(element: EnrichedOrder) -> str:
    return element.order.customer_id


def category_of(element: EnrichedOrder) -> str:
    return element.product.category if element.product is not None else UNKNOWN_CATEGORY


def everything(element: Any) -> str:
    return _ALL


def dead_letter_reason(dead_letter: Any) -> str:
    """`stage/REASON` of a `DeadLetter` or an archived dead-letter dict."""
    fields = as_mapping(dead_letter)
    return f'{fields["stage"]}/{fields["reason"]}'


def alert_rule(alert: Any) -> str:
    return as_mapping(alert)['rule']


def alert_row(alert: Any) -> Dict[str, Any]:
    """An `Alert` (or alert dict) as a row of the report's `alerts` list."""
    fields = as_mapping(alert)
    return {
        'event_time_ms': int(fields['event_time']),
        'rule': fields['rule'],
        'card_id': fields['card_id'],
        'order_ids': list(fields['order_ids']),
        'alert_id': fields['alert_id'],
    }


def _product_name(element: EnrichedOrder) -> Tuple[str, Optional[str]]:
    return element.order.product_id, element.product.name if element.product else None


def _customer_name(element: EnrichedOrder) -> Tuple[str, Optional[str]]:
    return element.order.customer_id, element.customer.name if element.customer else None


def _order_currency(element: EnrichedOrder) -> str:
    return element.order.currency


def _customer_of_key(row: WindowCount) -> str:
    return split_key(row.key)[1]


def _by_currency(row: WindowCount) -> Tuple[str, WindowCount]:
    return split_key(row.key)[0], row


class ReportContext(NamedTuple):
    """What the report states besides the day's figures: how amounts are shown, the day
    before, and where the report came from.

    Attributes:
        rates: Conversion into one report currency, or None to keep currencies apart.
        previous_report: Where the previous day's `report.json` is (or would be), read when
            the pipeline runs (so building the graph needs no access to the reports), or
            None for no comparison.
        source: Where the day was read from, for people (e.g. `archive /data/archive`).
        runner: The Beam runner that made the report.
    """

    rates: Optional[CurrencyRates] = None
    previous_report: Optional[str] = None
    source: str = ''
    runner: str = ''


class ComputeReportFigures(beam.PTransform):
    """Enriched orders, alerts and dead letters of one day in; one report dict out.

    Input: a tuple `(enriched, alerts, dead_letters)` of bounded PCollections:
    `EnrichedOrder`s at their event time, `Alert`s (or alert dicts) and `DeadLetter`s (or
    archived dead-letter dicts), in any windowing.

    Output: a PCollection of exactly one dict, in the global window: the report of
    `pipelines.daily_report` (`report_assemble.REPORT_FORMAT`), also for an empty day.
    Sums are exact (`CountPerWindow`) and never mix currencies: they are per currency, or
    of amounts converted with `context.rates`. Revenue is rounded to cents only in the
    report dict.
    """

    def __init__(
        self, day: datetime.date, top_n: int = TOP_N, context: ReportContext = ReportContext()
    ):
        super().__init__()
        if not isinstance(top_n, int) or top_n < 1:
            raise ValueError(f'top_n must be an int of at least 1, got {top_n!r}')
        self._day = day
        self._top_n = top_n
        self._context = context

    def expand(self, inputs) -> beam.PCollection[Dict]:
        enriched, alerts, dead_letters = inputs
        pipeline = enriched.pipeline
        rates = self._context.rates

        def per_key(label, key_fn, size_s=DAY_S, value_fn=ConvertedAmount(rates)):
            return (
                enriched
                | label >> CountPerWindow(key_fn, value_fn, size_s=size_s)
                | f'{label}Global' >> beam.WindowInto(GlobalWindows())
            )

        def top(label, rows):
            return (
                rows
                | f'{label}ByCurrency' >> beam.Map(_by_currency)
                | label >> beam.combiners.Top.PerKey(self._top_n, key=_rank, reverse=True)
            )

        per_currency = per_key(
            'RevenuePerCurrency', _order_currency, value_fn=ConvertedAmount(None)
        )
        if rates is not None:
            converted = per_key('ConvertedTotal', everything)
        else:
            converted = pipeline | 'NoConversion' >> beam.Create([])
        hourly = per_key('RevenuePerHour', ByCurrency(everything, rates), size_s=HOUR_S)
        products = per_key('RevenuePerProduct', ByCurrency(product_id_of, rates))
        customers = per_key('RevenuePerCustomer', ByCurrency(customer_id_of, rates))
        categories = per_key('RevenuePerCategory', ByCurrency(category_of, rates))
        unique_customers = (
            customers
            | 'CustomerIds' >> beam.Map(_customer_of_key)
            | 'DistinctCustomers' >> beam.Distinct()
            | 'UniqueCustomers' >> beam.combiners.Count.Globally()
        )
        product_names = (
            enriched
            | 'ProductNames' >> beam.Map(_product_name)
            | 'DistinctProductNames' >> beam.Distinct()
        )
        customer_names = (
            enriched
            | 'CustomerNames' >> beam.Map(_customer_name)
            | 'DistinctCustomerNames' >> beam.Distinct()
        )
        global_alerts = alerts | 'AlertsGlobal' >> beam.WindowInto(GlobalWindows())
        alerts_per_rule = (
            global_alerts
            | 'AlertRule' >> beam.Map(alert_rule)
            | 'AlertsPerRule' >> beam.combiners.Count.PerElement()
        )
        alert_rows = global_alerts | 'AlertRows' >> beam.Map(alert_row)
        dead_letters_per_reason = (
            dead_letters
            | 'DeadLettersGlobal' >> beam.WindowInto(GlobalWindows())
            | 'DeadLetterReason' >> beam.Map(dead_letter_reason)
            | 'DeadLettersPerReason' >> beam.combiners.Count.PerElement()
        )

        previous = (
            pipeline
            | 'PreviousReportPath' >> beam.Create([self._context.previous_report])
            | 'ReadPreviousReport' >> beam.FlatMap(_read_previous)
        )

        return (
            pipeline
            | 'ReportDay' >> beam.Create([self._day.isoformat()])
            | 'AssembleReport'
            >> beam.Map(
                _assemble,
                self._top_n,
                self._context,
                previous=pvalue.AsSingleton(previous, default_value=None),
                per_currency=pvalue.AsList(per_currency),
                converted=pvalue.AsList(converted),
                hourly=pvalue.AsList(hourly),
                top_products=pvalue.AsList(top('TopProducts', products)),
                top_customers=pvalue.AsList(top('TopCustomers', customers)),
                unique_customers=pvalue.AsSingleton(unique_customers),
                categories=pvalue.AsList(categories),
                product_names=pvalue.AsDict(product_names),
                customer_names=pvalue.AsDict(customer_names),
                alerts=pvalue.AsList(alerts_per_rule),
                alert_rows=pvalue.AsList(alert_rows),
                dead_letters=pvalue.AsList(dead_letters_per_reason),
            )
        )


def _read_previous(path: Optional[str]) -> List[Dict[str, Any]]:
    """The previous day's report, or nothing: a side input holding None reaches the portable
    Flink runner as a null, which it refuses (NullPointerException)."""
    report = read_report(path) if path else None
    return [] if report is None else [report]


def _assemble(day: str, top_n: int, context: ReportContext, **figures) -> Dict:
    return assemble_report(
        datetime.date.fromisoformat(day),
        top_n=top_n,
        rates=context.rates,
        made=made_stamp(context.source, context.runner),
        **figures,
    )
