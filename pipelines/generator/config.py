"""What traffic to generate: ``TrafficConfig``, its checks, and the record kinds.

A config and a seed determine the traffic plan completely (``traffic_plan``);
the one exception is the ``TIMESTAMP_IN_FUTURE`` malformation, whose
timestamp is taken relative to the wall clock when the plan is made.
"""

import dataclasses
import math
from typing import Any, Dict, Mapping

from transforms.fraud_rules import FraudThresholds

DEFAULT_START_MS = 1_794_988_800_000
"""2026-11-18T08:00:00Z: a fixed instant, so a seed alone fixes the traffic; every event time
of a default run (too-late orders included) falls on that UTC day."""

FORMATS = ('json', 'avro', 'mixed')

# Kinds of planned records (``PlannedRecord.kind``).
KIND_ORDER = 'order'
"""A background order: never part of an alert."""
KIND_UNKNOWN_CUSTOMER = 'unknown_customer'
"""A background order whose customer id is not in the reference data."""
KIND_UNKNOWN_PRODUCT = 'unknown_product'
"""A background order whose product id is not in the reference data."""
KIND_SCENARIO = 'scenario'
"""An order of an injected fraud scenario (a dedicated card)."""
KIND_LATE = 'late'
"""An order far behind the stream, within the metric windows' allowed lateness."""
KIND_TOO_LATE = 'too_late'
"""An order so far behind the stream that its window has expired."""
KIND_MALFORMED = 'malformed'
"""A record that must become a dead letter."""
VALID_KINDS = (
    KIND_ORDER,
    KIND_UNKNOWN_CUSTOMER,
    KIND_UNKNOWN_PRODUCT,
    KIND_SCENARIO,
    KIND_LATE,
    KIND_TOO_LATE,
)
KINDS = VALID_KINDS + (KIND_MALFORMED,)


@dataclasses.dataclass(frozen=True)
class TrafficConfig:
    """The knobs of the generator; the defaults make "a few minutes of traffic".

    Attributes:
        count: Records in total: valid orders of every kind plus malformed records.
        seed: The same seed and config give byte-identical records.
        fmt: ``json``, ``avro`` or ``mixed`` (each valid order drawn at random).
            Malformations that exist in one format only use that format.
        start_ms: Event time of the stream's start, epoch ms.
        events_per_second: How fast event time advances: ``count`` records
            span ``count / events_per_second`` seconds of event time.
        fraud_scenarios: Scenarios injected per fraud rule, each on its own card.
        malformed_rate: Share of ``count`` that is malformed (rounded).
        late_orders: Orders ``late_lag_s`` behind the stream.
        too_late_orders: Orders ``too_late_lag_s`` behind the stream.
        late_lag_s: Must exceed the window size plus the source's
            out-of-orderness bound and stay under the allowed lateness
            (with 5-min windows and 10 min: 420 s).
        too_late_lag_s: Must exceed window size + allowed lateness + the
            bound (1500 s).
        unknown_rate: Share of background orders with an unknown customer id,
            and again with an unknown product id (at least one each).
        out_of_order_max_ms: How late, after its event time, a scenario order
            may be produced (keep it under the source's out-of-orderness bound).
        scenario_share: Scenarios happen within this share of the span (when
            it is long enough), leaving the rest to background traffic that
            moves the watermark past them while the stream still flows.
        window_s: Size of the metric windows, seconds.
        customers: Customers in the reference data.
        products: Products in the reference data.
        thresholds: The fraud thresholds the pipeline runs with.
        card_prefix: Card ids are ``<card_prefix>-NNNNNN``. Plans produced one after the
            other to the same topic need prefixes of their own, or their cards' histories
            would run into each other and the ground truth of each would not hold.
    """

    count: int = 10_000
    seed: int = 7
    fmt: str = 'mixed'
    start_ms: int = DEFAULT_START_MS
    events_per_second: float = 50.0
    fraud_scenarios: int = 3
    malformed_rate: float = 0.02
    late_orders: int = 3
    too_late_orders: int = 3
    late_lag_s: float = 420.0
    too_late_lag_s: float = 1500.0
    unknown_rate: float = 0.005
    out_of_order_max_ms: int = 3000
    scenario_share: float = 0.85
    window_s: int = 300
    customers: int = 500
    products: int = 50
    thresholds: FraudThresholds = FraudThresholds()
    card_prefix: str = 'card'

    @property
    def span_ms(self) -> int:
        """Event time the stream spans: ``count / events_per_second`` seconds."""
        return max(1, math.ceil(self.count * 1000 / self.events_per_second))

    @property
    def malformed_count(self) -> int:
        """How many records are malformed."""
        return round(self.count * self.malformed_rate)

    def validated(self) -> 'TrafficConfig':
        """Returns self if every setting makes sense.

        Raises:
            ValueError: Naming the first setting that does not, and what is allowed.
        """
        for name in (
            'count',
            'seed',
            'fraud_scenarios',
            'late_orders',
            'too_late_orders',
            'out_of_order_max_ms',
            'window_s',
            'customers',
            'products',
            'start_ms',
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f'{name} must be an integer, got {value!r}')
        for name in (
            'count',
            'fraud_scenarios',
            'late_orders',
            'too_late_orders',
            'out_of_order_max_ms',
            'start_ms',
        ):
            if getattr(self, name) < 0:
                raise ValueError(f'{name} must be 0 or more, got {getattr(self, name)}')
        if not isinstance(self.card_prefix, str) or not self.card_prefix:
            raise ValueError(f'card_prefix must be a non-empty string, got {self.card_prefix!r}')
        if self.fmt not in FORMATS:
            raise ValueError(f'fmt must be one of {", ".join(FORMATS)}, got {self.fmt!r}')
        _require_range('events_per_second', self.events_per_second, 0.001, 1_000_000.0)
        _require_range('malformed_rate', self.malformed_rate, 0.0, 1.0)
        _require_range('unknown_rate', self.unknown_rate, 0.0, 0.5)
        _require_range('scenario_share', self.scenario_share, 0.01, 1.0)
        _require_range('late_lag_s', self.late_lag_s, 1.0, 86_400.0)
        _require_range('too_late_lag_s', self.too_late_lag_s, 1.0, 86_400.0)
        if self.window_s < 1:
            raise ValueError(f'window_s must be 1 or more, got {self.window_s}')
        thresholds = self.thresholds.validated()
        if thresholds.velocity_count < 3:
            raise ValueError(
                'the generator needs velocity_count of at least 3, so background '
                f'cards can be kept below it; got {thresholds.velocity_count}'
            )
        if thresholds.small_amount < 0.02:
            raise ValueError(
                'the generator needs small_amount of at least 0.02 to price a '
                f'small order under it; got {thresholds.small_amount}'
            )
        return self

    def to_json(self) -> Dict[str, Any]:
        """The config as a JSON object (thresholds nested)."""
        echoed = dataclasses.asdict(self)
        echoed['thresholds'] = dict(self.thresholds._asdict())
        return echoed

    @classmethod
    def from_json(cls, echoed: Mapping[str, Any]) -> 'TrafficConfig':
        """The inverse of ``to_json``; keys that are not settings (``now_ms``...) are ignored."""
        names = {field.name for field in dataclasses.fields(cls)}
        fields = {name: value for name, value in echoed.items() if name in names}
        fields['thresholds'] = FraudThresholds(**echoed.get('thresholds', {}))
        return cls(**fields)


def _require_range(name: str, value: Any, low: float, high: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise ValueError(f'{name} must be a number from {low:g} to {high:g}, got {value!r}')
