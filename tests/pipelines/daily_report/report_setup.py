"""An archive of generated traffic for the daily report tests, and the report it must give.

The archive is written the way the streaming pipeline writes it (`IngestOrders`, then
`WriteAvroArchive` with the streaming pipeline's layout and record mapping), without Kafka.
The expected figures are worked out here from the planned records and the reference data,
in integer cents, independently of the pipeline code.
"""

import collections
import datetime
import json
import pathlib
from typing import Any, DefaultDict, Dict, List, Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from connectors.avro_archive import WriteAvroArchive
from connectors.order_codec import decode_order
from pipelines.daily_report import pipeline as daily_report
from pipelines.daily_report.dead_letter_reasons import meaning
from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import TrafficPlan, plan_traffic
from pipelines.generator.reference_data import build_reference_data, write_reference_data
from pipelines.runner_setup import with_local_runners
from pipelines.streaming import pipeline as streaming
from schemas import load_schema
from transforms.fraud_rules import RULES
from transforms.order_ingest import IngestOrders
from transforms.records import DEAD_LETTER, VALID
from transforms.validation_rules import validate_order


class FixedClock:
    """A picklable wall clock, seconds."""

    def __init__(self, now_ms: int):
        self._now_s = now_ms / 1000

    def __call__(self) -> float:
        return self._now_s


def _stamped(record):
    value, event_time_ms = record
    return beam.window.TimestampedValue(value, event_time_ms / 1000)


def _dead_letter_time(dead_letter: Dict) -> int:
    return dead_letter['failed_at']


PLAN_NOW_MS = 1_795_600_000_000  # a fixed wall clock (2026-11-26), so runs are identical
# 3,000 records over about 4 hours of event time from 08:00 UTC on DAY: several hours to
# report, and every chart of the page has bars.
CONFIG = TrafficConfig(count=3000, seed=5, events_per_second=0.2)
DAY = datetime.date(2026, 11, 18)


def generated_day(folder: pathlib.Path, extra_dead_letters: Sequence[Dict] = ()) -> TrafficPlan:
    """Plans CONFIG's traffic and writes its reference data (`folder/reference`) and its
    archive (`folder/archive`, plus `extra_dead_letters`); returns the plan."""
    plan = plan_traffic(CONFIG, now_ms=PLAN_NOW_MS)
    write_reference_data(
        folder / 'reference', seed=CONFIG.seed, customers=CONFIG.customers, products=CONFIG.products
    )
    write_archive(folder / 'archive', plan, PLAN_NOW_MS, extra_dead_letters)
    return plan


def write_archive(
    archive: pathlib.Path, plan: TrafficPlan, now_ms: int, extra_dead_letters: Sequence[Dict] = ()
) -> None:
    """Archives the plan's records (orders and dead letters), plus dead-letter dicts placed
    by their `failed_at`."""
    records = [(r.value, r.event_time_ms) for r in plan.records]
    # The local Prism, as every other pipeline of the suite: Beam shares one Prism job server
    # per process, and one made here without a location would later try to download Prism.
    with beam.Pipeline(options=with_local_runners(PipelineOptions())) as pipeline:
        ingested = (
            pipeline
            | 'Records' >> beam.Create(records)
            | 'Stamp' >> beam.Map(_stamped)
            | 'Ingest' >> IngestOrders(clock=FixedClock(now_ms))
        )
        _ = ingested[VALID] | 'ArchiveOrders' >> WriteAvroArchive(
            str(archive),
            load_schema('order.v2.avsc'),
            streaming.event_time_of,
            prefix=streaming.ORDERS_DATASET,
            to_mapping=streaming.order_archive_record,
        )
        _ = ingested[DEAD_LETTER] | 'ArchiveDeadLetters' >> WriteAvroArchive(
            str(archive), load_schema('dead_letter.v2.avsc'), prefix=streaming.DEAD_LETTERS_DATASET
        )
        if extra_dead_letters:
            _ = (
                pipeline
                | 'Extra' >> beam.Create(list(extra_dead_letters))
                | 'ArchiveExtra'
                >> WriteAvroArchive(
                    str(archive),
                    load_schema('dead_letter.v2.avsc'),
                    _dead_letter_time,
                    prefix=streaming.DEAD_LETTERS_DATASET,
                )
            )


def run_report(
    day: str, archive: pathlib.Path, reference: pathlib.Path, reports: pathlib.Path, *extra: str
) -> Dict[str, Any]:
    """Runs the daily report through `build`; returns the report.json it wrote."""
    options = daily_report.pipeline_options(
        [
            f'--date={day}',
            f'--archive_path={archive}',
            f'--reference_data={reference}',
            f'--reports_path={reports}',
            *extra,
        ]
    )
    with beam.Pipeline(options=options) as pipeline:
        daily_report.build(pipeline, options)
    return json.loads((reports / day / 'report.json').read_text(encoding='utf-8'))


def _utc(epoch_ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def _cents(value: float) -> int:
    return round(value * 100)


def _planned_orders(plan: TrafficPlan, now_ms: int, day: datetime.date):
    """The plan's valid orders whose event time is in `day`, with their UTC time."""
    for record in plan.records:
        if record.order_id is None:
            continue
        order = validate_order(decode_order(record.value), now_ms)
        moment = datetime.datetime.fromtimestamp(
            order.event_time_ms / 1000, tz=datetime.timezone.utc
        )
        if moment.date() == day:
            yield order, moment


def expected_report(
    plan: TrafficPlan,
    now_ms: int,
    day: datetime.date,
    rates: Optional[Dict[str, float]] = None,
    report_currency: Optional[str] = None,
) -> Dict[str, Any]:
    """The figures a report of `day` must show for the plan (revenue in currency units).

    Amounts are summed per currency, in integer cents; with `rates` (currency -> value in
    `report_currency`) each order's amount is converted first and the tables hold
    `report_currency` alone.
    """
    config = plan.config
    reference = build_reference_data(config.seed, config.customers, config.products)
    categories = {p.product_id: p.category for p in reference.products}
    product_names = {p.product_id: p.name for p in reference.products}
    customer_names = {c.customer_id: c.name for c in reference.customers}
    zero = lambda: [0, 0, 0]  # noqa: E731  (orders, units, cents or converted amount)
    tables: List[DefaultDict[Any, List[Any]]] = [collections.defaultdict(zero) for _ in range(5)]
    hours, products, customers, per_category, per_currency = tables
    converted = [0, 0, 0.0]
    customer_ids = set()
    for order, moment in _planned_orders(plan, now_ms, day):
        cents = _cents(order.price) * order.quantity + _cents(order.tax)
        if rates is None:
            label, amount = order.currency, cents
        else:
            label, amount = report_currency, order.amount * rates[order.currency]
        customer_ids.add(order.customer_id)
        row = per_currency[order.currency]
        row[0] += 1
        row[1] += order.quantity
        row[2] += cents
        for row in (
            hours[label, moment.hour],
            products[label, order.product_id],
            customers[label, order.customer_id],
            per_category[label, categories.get(order.product_id, '(unknown product)')],
            converted,
        ):
            row[0] += 1
            row[1] += order.quantity
            row[2] += amount
    scale = 100 if rates is None else 1
    labels = [report_currency] if rates is not None else sorted(per_currency) or [None]

    def money(value):
        return round(value / scale, 2)

    def ranked(table, names, id_column):
        rows = []
        for label in labels:
            mine = sorted(
                ((key, row) for (currency, key), row in table.items() if currency == label),
                key=lambda item: (-money(item[1][2]), item[0]),
            )
            rows += [
                {
                    'currency': label,
                    'rank': rank,
                    id_column: key,
                    'name': names.get(key),
                    'orders': row[0],
                    'units': row[1],
                    'revenue': money(row[2]),
                }
                for rank, (key, row) in enumerate(mine[:10], start=1)
            ]
        return rows

    alerts = collections.Counter(alert.rule for alert in plan.ground_truth.alerts)
    dead_letters = plan.ground_truth.dead_letters.by_reason
    summary: Dict[str, Any] = {
        'orders': sum(row[0] for row in per_currency.values()),
        'units': sum(row[1] for row in per_currency.values()),
        'unique_customers': len(customer_ids),
        'fraud_alerts': sum(alerts.values()),
        'dead_letters': sum(dead_letters.values()),
    }
    if rates is not None:
        summary.update(
            revenue=round(converted[2], 2),
            average_order_value=round(converted[2] / converted[0], 2),
        )
    return {
        'currency': report_currency if rates is not None else None,
        'summary': summary,
        'revenue_per_currency': [
            {
                'currency': currency,
                'orders': row[0],
                'units': row[1],
                'revenue': row[2] / 100,
                'average_order_value': round(row[2] / 100 / row[0], 2),
            }
            for currency, row in sorted(per_currency.items())
        ],
        'revenue_per_hour': [
            {
                'currency': label,
                'hour': h,
                'start': f'{day.isoformat()}T{h:02d}:00:00Z',
                'orders': hours[label, h][0],
                'units': hours[label, h][1],
                'revenue': money(hours[label, h][2]),
            }
            for label in labels
            for h in range(24)
        ],
        'top_products': ranked(products, product_names, 'product_id'),
        'top_customers': ranked(customers, customer_names, 'customer_id'),
        'revenue_per_category': [
            {
                'currency': label,
                'category': key,
                'orders': row[0],
                'units': row[1],
                'revenue': money(row[2]),
            }
            for label in labels
            for key, row in sorted(
                ((key, row) for (currency, key), row in per_category.items() if currency == label),
                key=lambda i: (-money(i[1][2]), i[0]),
            )
        ],
        'alerts_per_rule': [
            {'rule': rule, 'alerts': alerts.get(rule, 0)} for rule in sorted(RULES)
        ],
        'alerts': [
            {
                'time': _utc(alert.event_time_ms),
                'rule': alert.rule,
                'card_id': alert.card_id,
                'order_ids': list(alert.order_ids),
                'alert_id': alert.alert_id,
            }
            for alert in sorted(
                plan.ground_truth.alerts,
                key=lambda a: (a.event_time_ms, a.rule, a.card_id, a.alert_id),
            )
        ],
        'dead_letters_per_reason': [
            {
                'stage': key.split('/')[0],
                'reason': key.split('/')[1],
                'meaning': meaning(*key.split('/')),
                'dead_letters': count,
            }
            for key, count in sorted(dead_letters.items(), key=lambda i: (-i[1], i[0]))
        ],
    }
