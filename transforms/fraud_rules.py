"""The fraud rules (docs/fraud.md) as pure functions of one card's ordered history.

A card's history is its orders as ``CardEvent`` s in **event-time order**:
sorted by ``(event_time_ms, order_id)``, the order id breaking ties so that
the order is total and the same on every run. ``in_event_order`` sorts.

Each rule has a function ``<rule>_at(history, i, thresholds)`` giving the
alert, if any, whose *last* triggering order is ``history[i]``, looking only
at ``history[:i + 1]`` and, of that, only as far back as the rule needs. An
order therefore owns at most one alert per rule, and evaluating each order
once, when every earlier order is known, raises every alert exactly once:
that is what ``CheckFraud`` does, in a pipeline, and what ``evaluate_history``
does here, in a loop. ``small_then_large``, ``impossible_travel`` and
``velocity`` apply one rule to a whole history.

The rules (an order's amount is price x quantity + tax; "within" includes
its bound; "under" and "over" exclude theirs):

* ``SMALL_THEN_LARGE``: an order over ``large_amount`` (500.00) that
  follows, within ``small_then_large_window_s`` (60 s), an order under
  ``small_amount`` (1.00). One alert per large order, naming the latest such
  small order before it: ``order_ids = [small, large]``.
* ``IMPOSSIBLE_TRAVEL``: two orders consecutive in event time, more than
  ``min_distance_km`` (500 km) apart on the great circle, whose distance
  divided by their time gap is over ``max_speed_kmh`` (900 km/h); a zero gap
  counts as infinitely fast. ``order_ids = [earlier, later]``.
* ``VELOCITY``: ``velocity_count`` (20) or more orders within
  ``velocity_window_s`` (60 s). The window of order ``i`` is every order
  ``j <= i`` with ``t_i - t_j <= window``. The alert is raised once per
  burst, at the order whose window first reaches the count (the previous
  order's window held fewer), and names exactly the ``velocity_count``
  orders of that window. While the burst lasts (every following window
  still at the count or more) no further alert is raised; once a window
  drops below the count, the next crossing raises a new alert.

A card's history ends after ``idle_timeout_s`` (24 hours) without orders:
``CheckFraud`` then clears the card's state, so an order that comes that long
after the previous one is compared with nothing before it. This matters only
to ``IMPOSSIBLE_TRAVEL`` (the other windows are shorter), and with the default
thresholds not even there: half the Earth's circumference, 20,037 km, at
900 km/h takes 22.3 hours, so no longer gap can be impossible travel.

An order delivered more than once (the same order id and event time, as
after a retry of an at-least-once source) counts once.

An alert's id is ``alert_id(rule, order_ids)``: the first 32 hex digits of
the SHA-256 of the JSON array ``[rule, *order_ids]`` (UTF-8, no spaces),
with the order ids in event-time order. It depends on nothing else, so a
replay or a retry gives the same id.
"""

import hashlib
import json
import math
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

SMALL_THEN_LARGE = 'SMALL_THEN_LARGE'
IMPOSSIBLE_TRAVEL = 'IMPOSSIBLE_TRAVEL'
VELOCITY = 'VELOCITY'
RULES = (SMALL_THEN_LARGE, IMPOSSIBLE_TRAVEL, VELOCITY)

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), for great-circle distances."""


class CardEvent(NamedTuple):
    """What the rules need of one order.

    Attributes:
        event_time_ms: The order's event time, epoch milliseconds.
        order_id: The order's id.
        amount: price x quantity + tax.
        lat: Latitude of the card's location.
        lon: Longitude of the card's location.
    """

    event_time_ms: int
    order_id: str
    amount: float
    lat: float
    lon: float

    @classmethod
    def from_order(cls, order) -> 'CardEvent':
        """The card event of an ``Order`` (anything with its fields and ``amount``)."""
        return cls(order.event_time_ms, order.order_id, order.amount, order.lat, order.lon)


class FraudThresholds(NamedTuple):
    """The thresholds of the rules; the defaults are those of docs/fraud.md.

    Attributes:
        small_amount: SMALL_THEN_LARGE: the first order's amount is under this.
        large_amount: SMALL_THEN_LARGE: the second order's amount is over this.
        small_then_large_window_s: SMALL_THEN_LARGE: the most seconds between them.
        max_speed_kmh: IMPOSSIBLE_TRAVEL: speeds over this are impossible.
        min_distance_km: IMPOSSIBLE_TRAVEL: only distances over this count.
        velocity_count: VELOCITY: this many orders or more...
        velocity_window_s: VELOCITY: ...within this many seconds.
        idle_timeout_s: A card's history ends after this long without orders (24 h).
    """

    small_amount: float = 1.0
    large_amount: float = 500.0
    small_then_large_window_s: float = 60.0
    max_speed_kmh: float = 900.0
    min_distance_km: float = 500.0
    velocity_count: int = 20
    velocity_window_s: float = 60.0
    idle_timeout_s: float = 86400.0

    def validated(self) -> 'FraudThresholds':
        """Returns self if every threshold makes sense.

        Raises:
            ValueError: naming the first threshold that does not: amounts,
                speeds, distances and durations must be finite numbers, the
                amounts and durations greater than 0 (the distance at least
                0), ``large_amount`` at least ``small_amount``,
                ``velocity_count`` an integer of at least 2, and both rule
                windows shorter than ``idle_timeout_s`` (a window longer than
                a card's history could never be seen whole).
        """
        for name in (
            'small_amount',
            'large_amount',
            'small_then_large_window_s',
            'max_speed_kmh',
            'velocity_window_s',
            'idle_timeout_s',
        ):
            _require_number(name, getattr(self, name), minimum=0.0, inclusive=False)
        _require_number('min_distance_km', self.min_distance_km, minimum=0.0, inclusive=True)
        if self.large_amount < self.small_amount:
            raise ValueError(
                f'large_amount ({self.large_amount}) must be at least '
                f'small_amount ({self.small_amount})'
            )
        if (
            not isinstance(self.velocity_count, int)
            or isinstance(self.velocity_count, bool)
            or self.velocity_count < 2
        ):
            raise ValueError(
                f'velocity_count must be an integer of at least 2, got {self.velocity_count!r}'
            )
        for name in ('small_then_large_window_s', 'velocity_window_s'):
            if getattr(self, name) >= self.idle_timeout_s:
                raise ValueError(
                    f'{name} ({getattr(self, name)}) must be shorter than '
                    f'idle_timeout_s ({self.idle_timeout_s})'
                )
        return self

    @property
    def lookback_ms(self) -> int:
        """How far before an order the rules look (besides the previous order)."""
        return math.ceil(1000 * max(self.small_then_large_window_s, self.velocity_window_s))

    @property
    def idle_timeout_ms(self) -> int:
        """``idle_timeout_s`` in milliseconds, rounded up."""
        return math.ceil(1000 * self.idle_timeout_s)


class Finding(NamedTuple):
    """An alert as the rules see it, before it gets a card and a detection time.

    Attributes:
        rule: One of ``RULES``.
        order_ids: The triggering orders, in event-time order.
        event_time_ms: Event time of the last triggering order.
        details: Rule-specific facts as text.
        alert_id: ``alert_id(rule, order_ids)``.
    """

    rule: str
    order_ids: Tuple[str, ...]
    event_time_ms: int
    details: Dict[str, str]
    alert_id: str


def alert_id(rule: str, order_ids: Sequence[str]) -> str:
    """The deterministic id of the alert of ``rule`` on ``order_ids`` (in event-time order)."""
    text = json.dumps([rule, *order_ids], ensure_ascii=False, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


def in_event_order(events: Iterable[CardEvent]) -> List[CardEvent]:
    """The events sorted into event-time order: by time, then order id."""
    return sorted(events, key=_event_key)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points in degrees, by the haversine formula."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def small_then_large_at(
    history: Sequence[CardEvent], i: int, thresholds: FraudThresholds
) -> Optional[Finding]:
    """The SMALL_THEN_LARGE alert whose large order is ``history[i]``, if any."""
    large = history[i]
    if not large.amount > thresholds.large_amount:
        return None
    window_ms = 1000 * thresholds.small_then_large_window_s
    for j in range(i - 1, -1, -1):
        small = history[j]
        gap_ms = large.event_time_ms - small.event_time_ms
        if gap_ms > window_ms:
            return None
        if small.amount < thresholds.small_amount:
            return _finding(
                SMALL_THEN_LARGE,
                (small, large),
                {
                    'small_amount': f'{small.amount:.2f}',
                    'large_amount': f'{large.amount:.2f}',
                    'gap_s': f'{gap_ms / 1000:g}',
                    'window_s': f'{thresholds.small_then_large_window_s:g}',
                },
            )
    return None


def impossible_travel_at(
    history: Sequence[CardEvent], i: int, thresholds: FraudThresholds
) -> Optional[Finding]:
    """The IMPOSSIBLE_TRAVEL alert of ``history[i - 1]`` and ``history[i]``, if any."""
    if i == 0:
        return None
    before, after = history[i - 1], history[i]
    gap_ms = after.event_time_ms - before.event_time_ms
    if gap_ms >= 1000 * thresholds.idle_timeout_s:
        return None  # the card's history ended in between
    distance_km = great_circle_km(before.lat, before.lon, after.lat, after.lon)
    if not distance_km > thresholds.min_distance_km:
        return None
    speed_kmh = math.inf if gap_ms == 0 else distance_km / (gap_ms / 3_600_000)
    if not speed_kmh > thresholds.max_speed_kmh:
        return None
    return _finding(
        IMPOSSIBLE_TRAVEL,
        (before, after),
        {
            'distance_km': f'{distance_km:.1f}',
            'gap_s': f'{gap_ms / 1000:g}',
            'speed_kmh': 'inf' if math.isinf(speed_kmh) else f'{speed_kmh:.1f}',
            'max_speed_kmh': f'{thresholds.max_speed_kmh:g}',
        },
    )


def velocity_at(
    history: Sequence[CardEvent], i: int, thresholds: FraudThresholds
) -> Optional[Finding]:
    """The VELOCITY alert raised at ``history[i]`` (a window first reaching the count), if any."""
    needed = thresholds.velocity_count
    window_ms = 1000 * thresholds.velocity_window_s
    start = _window_start(history, i, window_ms)
    if i - start + 1 < needed:
        return None
    if i > 0 and (i - 1) - _window_start(history, i - 1, window_ms) + 1 >= needed:
        return None  # the burst was already reported
    # The window grows by at most one order per order, so it holds exactly `needed`.
    return _finding(
        VELOCITY,
        tuple(history[start : i + 1]),
        {
            'count': str(i - start + 1),
            'window_s': f'{thresholds.velocity_window_s:g}',
        },
    )


RULE_FUNCTIONS = (
    (SMALL_THEN_LARGE, small_then_large_at),
    (IMPOSSIBLE_TRAVEL, impossible_travel_at),
    (VELOCITY, velocity_at),
)


def findings_at(history: Sequence[CardEvent], i: int, thresholds: FraudThresholds) -> List[Finding]:
    """Every alert whose last triggering order is ``history[i]``, in ``RULES`` order.

    Args:
        history: A card's events in event-time order. Only ``history[:i + 1]``
            is read, and of it only ``history[i - 1]`` and the orders at most
            ``thresholds.lookback_ms`` before it: a caller may forget older ones.
        i: The index of the order to evaluate.
        thresholds: Validated thresholds.
    """
    found = []
    for _, rule_at in RULE_FUNCTIONS:
        finding = rule_at(history, i, thresholds)
        if finding is not None:
            found.append(finding)
    return found


def small_then_large(history: Sequence[CardEvent], thresholds: FraudThresholds) -> List[Finding]:
    """Every SMALL_THEN_LARGE alert of a card's event-time-ordered history."""
    return _every(small_then_large_at, history, thresholds)


def impossible_travel(history: Sequence[CardEvent], thresholds: FraudThresholds) -> List[Finding]:
    """Every IMPOSSIBLE_TRAVEL alert of a card's event-time-ordered history."""
    return _every(impossible_travel_at, history, thresholds)


def velocity(history: Sequence[CardEvent], thresholds: FraudThresholds) -> List[Finding]:
    """Every VELOCITY alert of a card's event-time-ordered history."""
    return _every(velocity_at, history, thresholds)


def evaluate_history(
    events: Iterable[CardEvent], thresholds: FraudThresholds = FraudThresholds()
) -> List[Finding]:
    """Every alert of one card's events, in any order: what ``CheckFraud`` raises for them.

    Args:
        events: The card's orders, in any order (they are sorted here); an order
            given twice (same id and event time) counts once.
        thresholds: The thresholds; validated here.

    Returns:
        The findings, ordered by their last order, then by ``RULES``.

    Raises:
        ValueError: If a threshold is invalid.
    """
    thresholds = thresholds.validated()
    history = without_repeats(in_event_order(events))
    found = []
    for i in range(len(history)):
        found.extend(findings_at(history, i, thresholds))
    return found


def without_repeats(history: Sequence[CardEvent]) -> List[CardEvent]:
    """An event-time-ordered history with each order once: a redelivered order is the same order.

    Two events are the same order when their order id and event time are equal (a
    redelivery after a retry); they are adjacent in event-time order.
    """
    kept: List[CardEvent] = []
    for event in history:
        if kept and _event_key(kept[-1]) == _event_key(event):
            continue
        kept.append(event)
    return kept


def _every(rule_at, history: Sequence[CardEvent], thresholds: FraudThresholds) -> List[Finding]:
    thresholds = thresholds.validated()
    found = []
    for i in range(len(history)):
        finding = rule_at(history, i, thresholds)
        if finding is not None:
            found.append(finding)
    return found


def _window_start(history: Sequence[CardEvent], i: int, window_ms: float) -> int:
    end_ms = history[i].event_time_ms
    start = i
    while start > 0 and end_ms - history[start - 1].event_time_ms <= window_ms:
        start -= 1
    return start


def _finding(rule: str, events: Tuple[CardEvent, ...], details: Dict[str, str]) -> Finding:
    order_ids = tuple(event.order_id for event in events)
    return Finding(rule, order_ids, events[-1].event_time_ms, details, alert_id(rule, order_ids))


def _event_key(event: CardEvent) -> Tuple[int, str]:
    return event.event_time_ms, event.order_id


def _require_number(name: str, value, minimum: float, inclusive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f'{name} must be a finite number, got {value!r}')
    if value < minimum or (value == minimum and not inclusive):
        relation = 'at least' if inclusive else 'greater than'
        raise ValueError(f'{name} must be {relation} {minimum:g}, got {value!r}')
