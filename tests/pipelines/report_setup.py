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
from typing import Any, Dict, List

import apache_beam as beam

from connectors.avro_archive import WriteAvroArchive
from connectors.order_codec import decode_order
from pipelines import daily_report, streaming
from pipelines.reference_data import build_reference_data, write_reference_data
from pipelines.traffic_config import TrafficConfig
from pipelines.traffic_plan import TrafficPlan, plan_traffic
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


def generated_day(folder: pathlib.Path, extra_dead_letters: List[Dict] = ()) -> TrafficPlan:
    """Plans CONFIG's traffic and writes its reference data (`folder/reference`) and its
    archive (`folder/archive`, plus `extra_dead_letters`); returns the plan."""
    plan = plan_traffic(CONFIG, now_ms=PLAN_NOW_MS)
    write_reference_data(folder / 'reference', seed=CONFIG.seed, customers=CONFIG.customers,
                         products=CONFIG.products)
    write_archive(folder / 'archive', plan, PLAN_NOW_MS, extra_dead_letters)
    return plan


def write_archive(archive: pathlib.Path, plan: TrafficPlan, now_ms: int,
                  extra_dead_letters: List[Dict] = ()) -> None:
    """Archives the plan's records (orders and dead letters), plus dead-letter dicts placed
    by their `failed_at`."""
    records = [(r.value, r.event_time_ms) for r in plan.records]
    with beam.Pipeline() as pipeline:
        ingested = (pipeline
                    | 'Records' >> beam.Create(records)
                    | 'Stamp' >> beam.Map(_stamped)
                    | 'Ingest' >> IngestOrders(clock=FixedClock(now_ms)))
        _ = ingested[VALID] | 'ArchiveOrders' >> WriteAvroArchive(
            str(archive), load_schema('order.v2.avsc'), streaming.event_time_of,
            prefix=streaming.ORDERS_DATASET, to_mapping=streaming.order_archive_record)
        _ = ingested[DEAD_LETTER] | 'ArchiveDeadLetters' >> WriteAvroArchive(
            str(archive), load_schema('dead_letter.v1.avsc'),
            prefix=streaming.DEAD_LETTERS_DATASET)
        if extra_dead_letters:
            _ = (pipeline
                 | 'Extra' >> beam.Create(list(extra_dead_letters))
                 | 'ArchiveExtra' >> WriteAvroArchive(
                     str(archive), load_schema('dead_letter.v1.avsc'), _dead_letter_time,
                     prefix=streaming.DEAD_LETTERS_DATASET))


def run_report(day: str, archive: pathlib.Path, reference: pathlib.Path,
               reports: pathlib.Path, *extra: str) -> Dict[str, Any]:
    """Runs the daily report through `build`; returns the report.json it wrote."""
    options = daily_report.pipeline_options([
        f'--date={day}', f'--archive_path={archive}', f'--reference_data={reference}',
        f'--reports_path={reports}', *extra])
    with beam.Pipeline(options=options) as pipeline:
        daily_report.build(pipeline, options)
    return json.loads((reports / day / 'report.json').read_text(encoding='utf-8'))


def _cents(value: float) -> int:
    return round(value * 100)


def expected_report(plan: TrafficPlan, now_ms: int, day: datetime.date) -> Dict[str, Any]:
    """The figures a report of `day` must show for the plan (revenue in currency units)."""
    config = plan.config
    reference = build_reference_data(config.seed, config.customers, config.products)
    categories = {p.product_id: p.category for p in reference.products}
    product_names = {p.product_id: p.name for p in reference.products}
    customer_names = {c.customer_id: c.name for c in reference.customers}
    zero = lambda: [0, 0, 0]  # noqa: E731  (orders, units, cents)
    hours, products, customers, per_category = (collections.defaultdict(zero) for _ in range(4))
    total = [0, 0, 0]
    for record in plan.records:
        if record.order_id is None:
            continue
        order = validate_order(decode_order(record.value), now_ms)
        moment = datetime.datetime.fromtimestamp(order.event_time_ms / 1000,
                                                 tz=datetime.timezone.utc)
        if moment.date() != day:
            continue
        amount = _cents(order.price) * order.quantity + _cents(order.tax)
        for row in (total, hours[moment.hour], products[order.product_id],
                    customers[order.customer_id],
                    per_category[categories.get(order.product_id, '(unknown product)')]):
            row[0] += 1
            row[1] += order.quantity
            row[2] += amount

    def ranked(table, names, id_column):
        order = sorted(table.items(), key=lambda item: (-item[1][2], item[0]))[:10]
        return [{'rank': rank, id_column: key, 'name': names.get(key), 'orders': row[0],
                 'units': row[1], 'revenue': row[2] / 100}
                for rank, (key, row) in enumerate(order, start=1)]

    alerts = collections.Counter(alert.rule for alert in plan.ground_truth.alerts)
    dead_letters = plan.ground_truth.dead_letters.by_reason
    return {
        'summary': {'orders': total[0], 'units': total[1], 'revenue': total[2] / 100,
                    'unique_customers': len(customers),
                    'average_order_value': round(total[2] / 100 / total[0], 2),
                    'fraud_alerts': sum(alerts.values()),
                    'dead_letters': sum(dead_letters.values())},
        'revenue_per_hour': [
            {'hour': h, 'start': f'{day.isoformat()}T{h:02d}:00:00Z', 'orders': hours[h][0],
             'units': hours[h][1], 'revenue': hours[h][2] / 100} for h in range(24)],
        'top_products': ranked(products, product_names, 'product_id'),
        'top_customers': ranked(customers, customer_names, 'customer_id'),
        'revenue_per_category': [
            {'category': key, 'orders': row[0], 'units': row[1], 'revenue': row[2] / 100}
            for key, row in sorted(per_category.items(), key=lambda i: (-i[1][2], i[0]))],
        'alerts_per_rule': [{'rule': rule, 'alerts': alerts.get(rule, 0)}
                            for rule in sorted(RULES)],
        'dead_letters_per_reason': [
            {'stage': key.split('/')[0], 'reason': key.split('/')[1], 'dead_letters': count}
            for key, count in sorted(dead_letters.items(), key=lambda i: (-i[1], i[0]))],
    }
