"""The ground truth of a traffic plan: what the pipeline must output for it.

Written as JSON by the generator (``write_ground_truth``) and read back by
tests (``load_ground_truth``). The file is one object (``format`` 1)::

    {
      "format": 1,
      "config": {...TrafficConfig.to_json()...,   # the settings, thresholds nested
                 "now_ms": <wall clock of the plan>, "background_cards": 751},
      "alerts": [                       # exactly the alerts that must fire, no other
        {"rule": "VELOCITY", "card_id": "card-000812",
         "order_ids": ["ord-7-00001234", ...],     # event-time order
         "alert_id": "<fraud_rules.alert_id(rule, order_ids)>",
         "event_time_ms": <event time of the last order>,
         "out_of_order": true}          # produced out of event-time order
      ],
      "dead_letters": {
        "total": 200,
        "by_reason": {"decode/EMPTY": 10, "validate/TAX_NEGATIVE": 9, ...},
        "by_gen_id": {"gen-7-00000042": "decode/EMPTY", ...}   # header gen_id
      },
      "metrics": [                      # per 5-minute window and product, sorted
        {"window_start_ms": ..., "window_end_ms": ..., "product_id": "prod-0003",
         "orders": 12, "units": 19, "revenue": 1234.56,           # every valid order
         "on_time_orders": 11, "on_time_units": 18, "on_time_revenue": 1200.06,
         "final_orders": 12, "final_units": 19, "final_revenue": 1234.56}
      ],                                # on_time_*: without late and too-late orders;
                                        # final_*: without too-late orders
      "orders": {
        "total": 10000, "valid": 9800, "malformed": 200,
        "by_kind": {"order": ..., "scenario": ..., "late": 3, ...},
        "unknown_customer_ids": [...], "unknown_product_ids": [...],  # order ids
        "late_order_ids": [...], "too_late_order_ids": [...],
        "first_event_ms": ..., "last_event_ms": ...   # over valid orders
      }
    }

Revenue is price x quantity + tax summed exactly in cents, then given in
currency units (two decimals; the pipeline sums floats, so compare rounded to
cents). Windows are aligned to the epoch. Which metric columns a run must
match depends on its watermark: ``on_time_*`` are the ON_TIME panes of a run
whose watermark follows event time (late orders come in LATE panes, too-late
ones are dropped), ``final_*`` the last pane of such a run in accumulating
mode, and ``orders``/``units``/``revenue`` a run where every order is on time
(a watermark that only moves at the end of a bounded input). A row whose
``on_time_orders`` is 0 has no ON_TIME pane (only late orders fell in it).
Mixing currencies in a sum is the pipeline's definition of revenue, kept here.
"""

import collections
import json
import pathlib
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Sequence, Tuple, Union

from pipelines.generator.config import KIND_LATE, KIND_TOO_LATE

FORMAT_VERSION = 1


class ExpectedAlert(NamedTuple):
    """An alert the pipeline must raise.

    Attributes:
        rule: ``SMALL_THEN_LARGE``, ``IMPOSSIBLE_TRAVEL`` or ``VELOCITY``.
        card_id: The card.
        order_ids: The triggering orders, in event-time order.
        alert_id: ``transforms.fraud_rules.alert_id(rule, order_ids)``.
        event_time_ms: Event time of the last triggering order.
        out_of_order: Whether the scenario was produced out of event-time order.
    """

    rule: str
    card_id: str
    order_ids: Tuple[str, ...]
    alert_id: str
    event_time_ms: int
    out_of_order: bool


class ExpectedMetric(NamedTuple):
    """Sales of one product in one window, three ways.

    Attributes:
        window_start_ms: Window start, inclusive, epoch ms (aligned to the epoch).
        window_end_ms: Window end, exclusive.
        product_id: The product (unknown ones included).
        orders: Every valid order: what one pane shows when the watermark
            never passes an order's window before the input ends (a bounded run).
        units: Their units.
        revenue: Their price x quantity + tax.
        on_time_orders: Without late and too-late orders: the ON_TIME pane.
        on_time_units: Their units.
        on_time_revenue: Their revenue.
        final_orders: Without too-late orders (which the runner drops): the
            last pane of an accumulating unbounded run.
        final_units: Their units.
        final_revenue: Their revenue.
    """

    window_start_ms: int
    window_end_ms: int
    product_id: str
    orders: int
    units: int
    revenue: float
    on_time_orders: int
    on_time_units: int
    on_time_revenue: float
    final_orders: int
    final_units: int
    final_revenue: float


class DeadLetterTruth(NamedTuple):
    """The dead letters the pipeline must publish.

    Attributes:
        total: How many.
        by_reason: ``stage/REASON`` -> count.
        by_gen_id: The ``gen_id`` header of each malformed record -> ``stage/REASON``.
    """

    total: int
    by_reason: Dict[str, int]
    by_gen_id: Dict[str, str]


class OrderTruth(NamedTuple):
    """Counts and notable ids of the orders (see the module docstring)."""

    total: int
    valid: int
    malformed: int
    by_kind: Dict[str, int]
    unknown_customer_ids: Tuple[str, ...]
    unknown_product_ids: Tuple[str, ...]
    late_order_ids: Tuple[str, ...]
    too_late_order_ids: Tuple[str, ...]
    first_event_ms: int
    last_event_ms: int


class GroundTruth(NamedTuple):
    """Everything a test needs to check a pipeline's output for one plan."""

    config: Dict[str, Any]
    alerts: Tuple[ExpectedAlert, ...]
    dead_letters: DeadLetterTruth
    metrics: Tuple[ExpectedMetric, ...]
    orders: OrderTruth

    def to_json(self) -> Dict[str, Any]:
        """The ground truth as the JSON object of the module docstring."""
        return {
            'format': FORMAT_VERSION,
            'config': self.config,
            'alerts': [dict(a._asdict(), order_ids=list(a.order_ids)) for a in self.alerts],
            'dead_letters': dict(self.dead_letters._asdict()),
            'metrics': [dict(m._asdict()) for m in self.metrics],
            'orders': {
                name: list(value) if isinstance(value, tuple) else value
                for name, value in self.orders._asdict().items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> 'GroundTruth':
        """Reads the JSON object back.

        Raises:
            ValueError: If the format is not ``FORMAT_VERSION``.
        """
        if data.get('format') != FORMAT_VERSION:
            raise ValueError(
                f'ground truth format {data.get("format")!r} is not '
                f'{FORMAT_VERSION}; regenerate it with this generator'
            )
        orders: Dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in data['orders'].items()
        }
        return cls(
            dict(data['config']),
            tuple(
                ExpectedAlert(**dict(a, order_ids=tuple(a['order_ids']))) for a in data['alerts']
            ),
            DeadLetterTruth(**data['dead_letters']),
            tuple(ExpectedMetric(**m) for m in data['metrics']),
            OrderTruth(**orders),
        )

    def alerts_by_id(self) -> Dict[str, ExpectedAlert]:
        """The expected alerts by alert id."""
        return {alert.alert_id: alert for alert in self.alerts}

    def window_totals(self) -> Dict[Tuple[int, str], Tuple[int, int, float]]:
        """(window start, product) -> (orders, units, revenue in cents) of every valid order:
        what a bounded run's ON_TIME panes hold (`on_time_panes` of its metrics)."""
        return {
            (m.window_start_ms, m.product_id): (m.orders, m.units, round(m.revenue, 2))
            for m in self.metrics
        }


def on_time_panes(
    metric_rows: Iterable[Mapping[str, Any]],
) -> Dict[Tuple[int, str], Tuple[int, int, float]]:
    """The ON_TIME panes of `order.metrics` JSON rows, keyed and rounded as
    `GroundTruth.window_totals`."""
    return {
        (m['window_start'], m['product_id']): (m['orders'], m['units'], round(m['revenue'], 2))
        for m in metric_rows
        if m['pane'] == 'ON_TIME'
    }


def dead_letter_reasons(dead_letters: Iterable[Mapping[str, Any]]) -> collections.Counter:
    """`stage/reason` counts of dead-letter JSON rows, as `DeadLetterTruth.by_reason`."""
    return collections.Counter(f'{d["stage"]}/{d["reason"]}' for d in dead_letters)


class ValidOrderFact(NamedTuple):
    """What the ground truth needs of a valid order."""

    order_id: str
    kind: str
    product_id: str
    quantity: int
    amount_cents: int
    event_time_ms: int


def window_metrics(orders: Iterable[ValidOrderFact], window_ms: int) -> List[ExpectedMetric]:
    """Totals per (window, product), sorted: of every order, the on-time ones, all but too-late."""
    totals: Dict[Tuple[int, str], List[int]] = collections.defaultdict(lambda: [0] * 9)
    for order in orders:
        start = order.event_time_ms - order.event_time_ms % window_ms
        row = totals[(start, order.product_id)]
        on_time = order.kind not in (KIND_LATE, KIND_TOO_LATE)
        for offset, include in ((0, True), (3, on_time), (6, order.kind != KIND_TOO_LATE)):
            if include:
                row[offset] += 1
                row[offset + 1] += order.quantity
                row[offset + 2] += order.amount_cents
    return [
        ExpectedMetric(
            start,
            start + window_ms,
            product,
            row[0],
            row[1],
            row[2] / 100,
            row[3],
            row[4],
            row[5] / 100,
            row[6],
            row[7],
            row[8] / 100,
        )
        for (start, product), row in sorted(totals.items())
    ]


def dead_letter_truth(labels_by_gen_id: Mapping[str, str]) -> DeadLetterTruth:
    """Counts the expected dead letters (``gen_id -> stage/REASON``) by label."""
    counts = collections.Counter(labels_by_gen_id.values())
    return DeadLetterTruth(
        len(labels_by_gen_id), dict(sorted(counts.items())), dict(labels_by_gen_id)
    )


def order_truth(
    orders: Sequence[ValidOrderFact],
    malformed: int,
    kinds: Mapping[str, int],
    unknown_customer_ids: Sequence[str],
    unknown_product_ids: Sequence[str],
) -> OrderTruth:
    """Order counts and notable ids; ``orders`` are the valid ones."""
    times = [order.event_time_ms for order in orders]
    return OrderTruth(
        len(orders) + malformed,
        len(orders),
        malformed,
        dict(sorted(kinds.items())),
        tuple(unknown_customer_ids),
        tuple(unknown_product_ids),
        tuple(o.order_id for o in orders if o.kind == KIND_LATE),
        tuple(o.order_id for o in orders if o.kind == KIND_TOO_LATE),
        min(times, default=0),
        max(times, default=0),
    )


def write_ground_truth(path: Union[str, pathlib.Path], truth: GroundTruth) -> pathlib.Path:
    """Writes the ground truth as indented JSON (folders are created); returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(truth), encoding='utf-8')
    return path


def dumps(truth: GroundTruth) -> str:
    """The ground truth as JSON text, deterministic for a given plan."""
    return json.dumps(truth.to_json(), indent=1, ensure_ascii=False) + '\n'


def load_ground_truth(path: Union[str, pathlib.Path]) -> GroundTruth:
    """Reads a ground-truth file written by ``write_ground_truth``.

    Raises:
        OSError: If it cannot be read.
        ValueError: If it is not JSON or not of ``FORMAT_VERSION``.
    """
    with open(path, encoding='utf-8') as source:
        return GroundTruth.from_json(json.load(source))
