"""Shared by the transform tests: runner options, sample orders, counters."""

from typing import Iterable

from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from pipelines.local.cache import prism_binary
from transforms.records import Order

RUNNERS = ('DirectRunner', 'PrismRunner')
"""Runners of the tests that care about runner semantics (state, timers, triggers).

With a TestStream, DirectRunner is Beam's in-process runner; PrismRunner runs
the same TestStream on Prism.
"""

NOW_S = 1_795_000_000.0
"""A fixed wall clock (2026-11-18T11:06:40Z) for ValidateOrders in tests."""
T0_MS = 1_794_999_600_000
"""Event time of the sample orders: 2026-11-18T11:00:00Z, a 5-minute window start."""


def options(runner: str = 'DirectRunner', streaming: bool = False) -> PipelineOptions:
    """Options for a test pipeline; Prism is always the locally built binary (no download)."""
    opts = PipelineOptions([f'--runner={runner}', f'--prism_location={prism_binary()}'])
    opts.view_as(StandardOptions).streaming = streaming
    return opts


def fixed_clock() -> float:
    """The wall clock of ValidateOrders tests: ``NOW_S``."""
    return NOW_S


def raw_order(**overrides) -> dict:
    """A valid version 2 order as a producer writes it, with fields replaced."""
    fields = {
        'order_id': 'ord-0001',
        'customer_id': 'cus-0001',
        'product_id': 'prd-001',
        'quantity': 2,
        'price': 10.5,
        'currency': 'EUR',
        'card_id': 'card-0001',
        'lat': 52.52,
        'lon': 13.405,
        'timestamp': '2026-11-18T11:00:00.250Z',
        'tax': 1.25,
        'version': 2,
    }
    fields.update(overrides)
    return fields


def order(
    order_id: str,
    at_s: float,
    amount: float = 10.0,
    card_id: str = 'card-1',
    lat: float = 52.52,
    lon: float = 13.405,
    product_id: str = 'prd-1',
    quantity: int = 1,
    customer_id: str = 'cus-1',
) -> Order:
    """An ``Order`` at ``T0_MS + at_s`` seconds whose amount is ``amount`` (tax 0)."""
    event_ms = T0_MS + round(at_s * 1000)
    return Order(
        order_id,
        customer_id,
        product_id,
        quantity,
        amount / quantity,
        'EUR',
        card_id,
        lat,
        lon,
        str(event_ms),
        0.0,
        2,
        event_ms,
    )


def at_event_time(element: Order) -> TimestampedValue:
    """The order as ValidateOrders emits it: at its event time."""
    return TimestampedValue(element, Timestamp(micros=element.event_time_ms * 1000))


def seconds(at_s: float) -> Timestamp:
    """The Beam timestamp ``at_s`` seconds after ``T0_MS``."""
    return Timestamp(micros=(T0_MS + round(at_s * 1000)) * 1000)


def counter(result, namespace: str, name: str) -> int:
    """The value of a counter after ``result`` finished (committed, else attempted)."""
    found = result.metrics().query(MetricsFilter().with_namespace(namespace).with_name(name))[
        'counters'
    ]
    total = 0
    for item in found:
        total += item.committed if item.committed is not None else item.attempted
    return total


def ids(alerts: Iterable) -> list:
    """Alert ids, sorted: what replays and runners must agree on."""
    return sorted(alert.alert_id for alert in alerts)


def without_detection_time(alert):
    """An alert with ``detected_at`` (the wall clock) zeroed, for equality checks."""
    return alert._replace(detected_at=0)
