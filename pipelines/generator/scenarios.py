"""Fraud scenarios: short order sequences on a dedicated card that raise exactly one alert.

Each builder returns a ``Scenario``: its orders (drafts, each with the delay
after its event time at which it is produced) and which of them the alert
names, worked out from the rule text of docs/fraud.md (and checked against
``transforms.fraud_rules`` by the tests). A card of a scenario has no other
orders, and everything else on it stays far from every threshold:

* ``SMALL_THEN_LARGE``: an ordinary order, then one under ``small_amount``,
  then, within the window, one over ``large_amount``.
  Alert: ``[small, large]``.
* ``IMPOSSIBLE_TRAVEL``: two ordinary orders in city A, then one in city B
  (more than ``min_distance_km`` away, at well over ``max_speed_kmh``),
  then one more in B. Alert: ``[last order in A, first order in B]``.
* ``VELOCITY``: exactly ``velocity_count`` orders within 95 % of
  ``velocity_window_s``. Alert: all of them, at the last.

An out-of-order scenario is produced in a different order than its event
times: the first triggering order is held back past the next one (and, for
VELOCITY, some neighbours swap), never more than ``out_of_order_max_ms``
after its own event time.
"""

import math
import random
from typing import NamedTuple, Tuple

from pipelines.generator.orders import Card, OrderDraft, OrderFactory
from pipelines.generator.reference_data import CITIES, great_circle_km
from transforms.fraud_rules import IMPOSSIBLE_TRAVEL, SMALL_THEN_LARGE, VELOCITY, FraudThresholds

RULES = (SMALL_THEN_LARGE, IMPOSSIBLE_TRAVEL, VELOCITY)
_MIN_SWAP_MS = 300  # how far past the next order a held-back order is produced, at least
_MAX_TRAVEL_GAP_MS = 60_000


class ScenarioOrder(NamedTuple):
    """An order of a scenario and how long after its event time it is produced."""

    draft: OrderDraft
    delay_ms: int


class Scenario(NamedTuple):
    """One injected fraud scenario.

    Attributes:
        rule: The rule it triggers.
        card_id: Its dedicated card.
        orders: Its orders, in event-time order.
        trigger: Indexes into ``orders`` of the orders the alert names, in
            event-time order.
        out_of_order: Whether some orders are produced out of event-time order.
    """

    rule: str
    card_id: str
    orders: Tuple[ScenarioOrder, ...]
    trigger: Tuple[int, ...]
    out_of_order: bool


def duration_ms(rule: str, thresholds: FraudThresholds) -> int:
    """The most event time a scenario of ``rule`` spans, for spacing scenarios apart."""
    if rule == SMALL_THEN_LARGE:
        return 20_000 + math.ceil(1000 * thresholds.small_then_large_window_s)
    if rule == IMPOSSIBLE_TRAVEL:
        return 40_000 + _max_travel_gap_ms(thresholds, _longest_pair_km())
    return math.ceil(1000 * thresholds.velocity_window_s)


def build_scenario(
    rule: str,
    factory: OrderFactory,
    rng: random.Random,
    card: Card,
    start_ms: int,
    out_of_order: bool,
    thresholds: FraudThresholds,
    max_delay_ms: int,
) -> Scenario:
    """Builds a scenario of ``rule`` on ``card``, its first order at ``start_ms``.

    Args:
        rule: ``SMALL_THEN_LARGE``, ``IMPOSSIBLE_TRAVEL`` or ``VELOCITY``.
        factory: Draws the orders.
        rng: Draws the timing and amounts.
        card: A card with no other orders.
        start_ms: Event time of the first order.
        out_of_order: Produce some orders out of event-time order.
        thresholds: The thresholds the alert must cross.
        max_delay_ms: The most an order may be produced after its event time;
            out-of-order scenarios need at least 1 s.

    Raises:
        ValueError: For an unknown rule, or an out-of-order scenario with
            ``max_delay_ms`` under 1000.
    """
    if out_of_order and max_delay_ms < 1000:
        raise ValueError(
            f'out-of-order scenarios need max_delay_ms of 1000 or more, got {max_delay_ms}'
        )
    builders = {
        SMALL_THEN_LARGE: _small_then_large,
        IMPOSSIBLE_TRAVEL: _impossible_travel,
        VELOCITY: _velocity,
    }
    if rule not in builders:
        raise ValueError(f'unknown rule {rule!r}; expected one of {", ".join(RULES)}')
    return builders[rule](factory, rng, card, start_ms, out_of_order, thresholds, max_delay_ms)


def _small_then_large(
    factory: OrderFactory,
    rng: random.Random,
    card: Card,
    start_ms: int,
    out_of_order: bool,
    thresholds: FraudThresholds,
    max_delay_ms: int,
) -> Scenario:
    small_limit = math.ceil(thresholds.small_amount * 100) - 1  # cents strictly under
    small = rng.randint(max(1, small_limit // 2), small_limit)
    window_ms = math.floor(1000 * thresholds.small_then_large_window_s)
    if out_of_order:
        gap_ms = rng.randint(200, max(200, min(max_delay_ms - _MIN_SWAP_MS, window_ms) // 2))
    else:
        gap_ms = rng.randint(min(1000, window_ms), max(min(1000, window_ms), window_ms - 1000))
    quantity = 2
    large_price = math.floor(thresholds.large_amount * 100) // quantity + rng.randint(500, 20_000)
    first_ms = start_ms
    small_ms = first_ms + rng.randint(5_000, 20_000)
    orders = [
        ScenarioOrder(factory.order(card, first_ms), 0),
        ScenarioOrder(
            factory.order(card, small_ms, price_cents=small, quantity=1, tax_cents=0),
            _hold_back(rng, gap_ms, max_delay_ms) if out_of_order else 0,
        ),
        ScenarioOrder(
            factory.order(card, small_ms + gap_ms, price_cents=large_price, quantity=quantity), 0
        ),
    ]
    return Scenario(SMALL_THEN_LARGE, card.card_id, tuple(orders), (1, 2), out_of_order)


def _impossible_travel(
    factory: OrderFactory,
    rng: random.Random,
    card: Card,
    start_ms: int,
    out_of_order: bool,
    thresholds: FraudThresholds,
    max_delay_ms: int,
) -> Scenario:
    far_enough = thresholds.min_distance_km * 1.2 + 100
    here = CITIES[card.city]
    choices = [
        i
        for i, city in enumerate(CITIES)
        if great_circle_km(here.lat, here.lon, city.lat, city.lon) > far_enough
    ]
    if not choices:
        raise ValueError(
            f'no city is more than {far_enough:.0f} km from {here.name}; '
            'min_distance_km is too large for the generator'
        )
    there = rng.choice(choices)
    distance_km = great_circle_km(here.lat, here.lon, CITIES[there].lat, CITIES[there].lon)
    if out_of_order:
        gap_ms = rng.randint(200, max(200, (max_delay_ms - _MIN_SWAP_MS) // 2))
    else:  # at least twice the fastest allowed speed, and at least 1 s
        gap_ms = rng.randint(1000, max(1000, _max_travel_gap_ms(thresholds, distance_km)))
    second_ms = start_ms + rng.randint(5_000, 20_000)
    arrival_ms = second_ms + gap_ms
    orders = [
        ScenarioOrder(factory.order(card, start_ms), 0),
        ScenarioOrder(
            factory.order(card, second_ms),
            _hold_back(rng, gap_ms, max_delay_ms) if out_of_order else 0,
        ),
        ScenarioOrder(factory.order(card, arrival_ms, city=there), 0),
        ScenarioOrder(factory.order(card, arrival_ms + rng.randint(5_000, 20_000), city=there), 0),
    ]
    return Scenario(IMPOSSIBLE_TRAVEL, card.card_id, tuple(orders), (1, 2), out_of_order)


def _velocity(
    factory: OrderFactory,
    rng: random.Random,
    card: Card,
    start_ms: int,
    out_of_order: bool,
    thresholds: FraudThresholds,
    max_delay_ms: int,
) -> Scenario:
    count = thresholds.velocity_count
    budget_ms = math.floor(0.95 * 1000 * thresholds.velocity_window_s)
    widest_gap = max(2, budget_ms // (count - 1))
    if out_of_order:  # gaps short enough that a held-back order passes its successor
        widest_gap = max(2, min(widest_gap, (max_delay_ms - _MIN_SWAP_MS) // 2))
    times = [start_ms]
    for _ in range(count - 1):
        times.append(times[-1] + rng.randint(max(1, widest_gap // 2), widest_gap))
    delays = [0] * count
    if out_of_order:
        for i in range(0, count - 1, 4):  # every fourth order passes its successor
            delays[i] = _hold_back(rng, times[i + 1] - times[i], max_delay_ms)
    orders = tuple(ScenarioOrder(factory.order(card, t), d) for t, d in zip(times, delays))
    return Scenario(VELOCITY, card.card_id, orders, tuple(range(count)), out_of_order)


def _hold_back(rng: random.Random, gap_ms: int, max_delay_ms: int) -> int:
    """A delay that makes an order come after one ``gap_ms`` later, within ``max_delay_ms``."""
    return min(max_delay_ms, gap_ms + rng.randint(_MIN_SWAP_MS, 2 * _MIN_SWAP_MS))


def _max_travel_gap_ms(thresholds: FraudThresholds, distance_km: float) -> int:
    """The longest gap to use for ``distance_km``: covered at twice the speed limit or more.

    At most a minute (so a scenario fits a short stream), and at most half the idle
    timeout (after which the card's history would end and the rule compare nothing).
    """
    at_twice_the_limit = math.floor(distance_km / (2 * thresholds.max_speed_kmh) * 3_600_000)
    return max(1000, min(at_twice_the_limit, _MAX_TRAVEL_GAP_MS, thresholds.idle_timeout_ms // 2))


def _longest_pair_km() -> float:
    return max(great_circle_km(a.lat, a.lon, b.lat, b.lon) for a in CITIES for b in CITIES)
