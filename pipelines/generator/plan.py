"""Planning traffic: every record to produce, in order, and the ground truth, from a config.

``plan_traffic(config)`` is pure apart from ``now_ms`` (see
``traffic_malformed``): the same config gives byte-identical records and
ground truth. Nothing here touches Kafka; ``traffic_producer`` sends a plan.

How the stream is laid out:

* **Event time** runs from ``config.start_ms`` for ``count /
  events_per_second`` seconds. Every record has a *release time* and records
  are produced in release-time order (ties by creation order). A record's
  release time is its event time plus a delay: 0 for background orders, at
  most ``out_of_order_max_ms`` for scenario orders, so no order is produced
  more than that behind the latest event time produced before it.
* **Background orders** are evenly spaced over the span. Cards are dealt in
  blocks: each block of ``cards`` orders uses every card once, in a shuffled
  order, so a card has at most ``ceil(M / cards) + 1`` orders in any
  velocity window holding M background orders; ``background_cards`` picks
  ``cards`` so that this stays at or under a quarter of ``velocity_count``.
  With amounts of at least ``max(1.00, small_amount)`` and each card in one
  city, background traffic cannot raise any alert.
* **Fraud scenarios** (``traffic_scenarios``) are spread evenly over the
  first ``scenario_share`` of the span (85 %; they all end there when the
  span is long enough: a scenario lasts at most about 100 s with the default
  thresholds), rules interleaved, each on a card of its own; every second
  scenario of a rule is produced out of order.
* **Late and too-late orders** are released in the second half of the span,
  ``late_lag_s`` / ``too_late_lag_s`` behind their release time (so behind
  the stream by that much), each on a card of its own: a card with one order
  never raises an alert, however late the order comes.
* **Unknown customers and products** are background orders with an id
  outside the reference data.
* **Malformed records** are released at random times, their kinds dealt
  round-robin from ``traffic_malformed.MALFORMATIONS``; each is keyed by a
  background card.

Ids follow the produce order: the record at position ``p`` has header
``gen_id`` ``gen-<seed>-<p:08d>`` and, if it is an order, order id
``ord-<seed>-<p:08d>``.
"""

import itertools
import math
import random
import time
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from pipelines.generator import ground_truth as truth
from pipelines.generator.config import (
    KIND_LATE,
    KIND_MALFORMED,
    KIND_ORDER,
    KIND_SCENARIO,
    KIND_TOO_LATE,
    KIND_UNKNOWN_CUSTOMER,
    KIND_UNKNOWN_PRODUCT,
    TrafficConfig,
)
from pipelines.generator.malformed import MALFORMATIONS, Malformation
from pipelines.generator.orders import Card, OrderDraft, OrderFactory, encode_draft, spread_ms
from pipelines.generator.reference_data import (
    UNKNOWN_CUSTOMER_BASE,
    UNKNOWN_PRODUCT_BASE,
    build_reference_data,
    customer_id,
    product_id,
)
from pipelines.generator.scenarios import RULES, Scenario, build_scenario, duration_ms
from transforms.fraud_rules import alert_id

MIN_BACKGROUND_CARDS = 50


class PlannedRecord(NamedTuple):
    """One record to produce.

    Attributes:
        gen_id: Unique id of the record in this plan, sent as header ``gen_id``.
        key: The Kafka key: the card id, UTF-8 (malformed records too).
        value: The record value.
        event_time_ms: The order's event time; for a malformed record, the
            stream time it is released at.
        kind: One of ``traffic_config.KINDS``.
        order_id: The order id of a valid order; None for a malformed record.
        dead_letter: ``stage/REASON`` the pipeline must dead-letter a
            malformed record with; None for a valid order.
    """

    gen_id: str
    key: bytes
    value: bytes
    event_time_ms: int
    kind: str
    order_id: Optional[str]
    dead_letter: Optional[str]

    @property
    def headers(self) -> List[Tuple[str, bytes]]:
        """The Kafka headers known before producing: ``gen_id``."""
        return [('gen_id', self.gen_id.encode('ascii'))]


class TrafficPlan(NamedTuple):
    """A plan: the records, in produce order, and what the pipeline must make of them."""

    config: TrafficConfig
    records: Tuple[PlannedRecord, ...]
    ground_truth: truth.GroundTruth


class _Item(NamedTuple):
    release_ms: int
    seq: int
    kind: str
    draft: OrderDraft
    malformation: Optional[Malformation]


def background_cards(config: TrafficConfig) -> int:
    """How many background cards keep each under a quarter of ``velocity_count`` per window."""
    thresholds = config.thresholds
    per_window = math.ceil(thresholds.velocity_window_s * config.events_per_second) + 1
    allowed = max(2, thresholds.velocity_count // 4)  # orders of one card in one window
    return max(MIN_BACKGROUND_CARDS, math.ceil(per_window / (allowed - 1)))


def plan_traffic(config: TrafficConfig, now_ms: Optional[int] = None) -> TrafficPlan:
    """Plans the records and works out their ground truth.

    Args:
        config: What to generate.
        now_ms: The wall clock for the ``TIMESTAMP_IN_FUTURE`` malformation,
            epoch ms; the current time when None. Pass it to get identical
            plans at different times.

    Returns:
        The plan.

    Raises:
        ValueError: If the config is invalid, or ``count`` is too small for
            the scenarios, late orders and malformed records asked for.
    """
    config = config.validated()
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    planner = _Planner(config)
    scenarios, scenario_seqs = planner.add_scenarios()
    extra = (
        len(planner.items) + config.malformed_count + config.late_orders + config.too_late_orders
    )
    if extra > config.count:
        raise ValueError(
            f'count {config.count} is too small: the fraud scenarios, late orders and malformed '
            f'records alone need {extra} records; raise count (--count) or lower fraud_scenarios '
            '(--fraud_scenarios)'
        )
    planner.add_background(config.count - extra)
    planner.add_late(KIND_LATE, config.late_orders, config.late_lag_s)
    planner.add_late(KIND_TOO_LATE, config.too_late_orders, config.too_late_lag_s)
    planner.add_malformed(config.malformed_count)

    items = sorted(planner.items, key=lambda item: (item.release_ms, item.seq))
    records = _encode(items, config.seed, now_ms, random.Random(f'{config.seed}/malformations'))
    order_id_by_seq = {
        item.seq: record.order_id
        for item, record in zip(items, records)
        if record.order_id is not None
    }  # a scenario's orders have ids
    alerts = _alerts(scenarios, scenario_seqs, order_id_by_seq)
    return TrafficPlan(
        config, tuple(records), _ground_truth(config, now_ms, items, records, alerts)
    )


class _Planner:
    """Collects the unsorted items of a plan; each part draws from its own random stream."""

    def __init__(self, config: TrafficConfig) -> None:
        self.config = config
        self.items: List[_Item] = []
        self._reference = build_reference_data(config.seed, config.customers, config.products)
        self._min_price = max(100, math.ceil(config.thresholds.small_amount * 100))
        self._seq = itertools.count()
        _, card_factory = self._factory('cards')
        self.cards = [
            card_factory.card(f'{self.config.card_prefix}-{n:06d}')
            for n in range(background_cards(config))
        ]
        self._new_cards = itertools.count(len(self.cards))

    def _factory(self, part: str) -> Tuple[random.Random, OrderFactory]:
        rng = random.Random(f'{self.config.seed}/{part}')
        return rng, OrderFactory(rng, self._reference, self.config.fmt, self._min_price)

    def _new_card(self, factory: OrderFactory) -> Card:
        return factory.card(f'{self.config.card_prefix}-{next(self._new_cards):06d}')

    def _add(
        self,
        release_ms: int,
        kind: str,
        draft: OrderDraft,
        malformation: Optional[Malformation] = None,
    ) -> int:
        seq = next(self._seq)
        self.items.append(_Item(release_ms, seq, kind, draft, malformation))
        return seq

    def add_scenarios(self) -> Tuple[List[Scenario], List[List[int]]]:
        """Spreads the scenarios over the first ``scenario_share`` of the span."""
        config = self.config
        rng, factory = self._factory('scenarios')
        rules = [rule for rule in RULES for _ in range(config.fraud_scenarios)]
        rng.shuffle(rules)
        seen: Dict[str, int] = {}
        last_end = config.start_ms + math.floor(config.span_ms * config.scenario_share)
        scenarios, seqs = [], []
        for j, rule in enumerate(rules):
            nth = seen[rule] = seen.get(rule, -1) + 1
            out_of_order = nth % 2 == 1 and config.out_of_order_max_ms >= 1000
            room = max(0, last_end - duration_ms(rule, config.thresholds) - config.start_ms)
            start = (
                config.start_ms
                + spread_ms(room, len(rules), j)
                + rng.randrange(max(1, room // len(rules)))
            )
            scenario = build_scenario(
                rule,
                factory,
                rng,
                self._new_card(factory),
                start,
                out_of_order,
                config.thresholds,
                config.out_of_order_max_ms,
            )
            scenarios.append(scenario)
            seqs.append(
                [
                    self._add(o.draft.event_time_ms + o.delay_ms, KIND_SCENARIO, o.draft)
                    for o in scenario.orders
                ]
            )
        return scenarios, seqs

    def add_background(self, count: int) -> None:
        """Evenly spaced orders, cards dealt in shuffled blocks, some with unknown ids."""
        config, cards = self.config, self.cards
        rng, factory = self._factory('background')
        unknown = _unknown_positions(rng, count, config.unknown_rate)
        block: List[int] = []
        for i in range(count):
            if i % len(cards) == 0:
                block = rng.sample(range(len(cards)), len(cards))
            kind = unknown.get(i, KIND_ORDER)
            overrides: Dict[str, Any] = {}
            if kind == KIND_UNKNOWN_CUSTOMER:
                overrides['customer_id'] = customer_id(UNKNOWN_CUSTOMER_BASE + rng.randrange(1000))
            elif kind == KIND_UNKNOWN_PRODUCT:
                overrides['product_id'] = product_id(UNKNOWN_PRODUCT_BASE + rng.randrange(100))
            event_ms = config.start_ms + i * config.span_ms // count
            self._add(
                event_ms, kind, factory.order(cards[block[i % len(cards)]], event_ms, **overrides)
            )

    def add_late(self, kind: str, count: int, lag_s: float) -> None:
        """Orders released in the second half of the span, ``lag_s`` behind, on new cards."""
        config = self.config
        rng, factory = self._factory(kind)
        half = config.span_ms // 2
        slot = max(1, (config.span_ms - half) // max(count, 1))
        for j in range(count):
            release = (
                config.start_ms
                + half
                + spread_ms(config.span_ms - half, count, j)
                + rng.randrange(slot)
            )
            draft = factory.order(self._new_card(factory), release - math.ceil(lag_s * 1000))
            self._add(release, kind, draft)

    def add_malformed(self, count: int) -> None:
        """Records released at random times, kinds dealt round-robin, on background cards."""
        rng, factory = self._factory('malformed')
        for k in range(count):
            release = self.config.start_ms + rng.randrange(self.config.span_ms)
            draft = factory.order(self.cards[rng.randrange(len(self.cards))], release)
            self._add(release, KIND_MALFORMED, draft, MALFORMATIONS[k % len(MALFORMATIONS)])


def _unknown_positions(rng: random.Random, background: int, rate: float) -> Dict[int, str]:
    if rate <= 0 or background < 2:
        return {}
    each = min(background // 2, max(1, round(background * rate)))
    chosen = rng.sample(range(background), 2 * each)
    return {
        **{i: KIND_UNKNOWN_CUSTOMER for i in chosen[:each]},
        **{i: KIND_UNKNOWN_PRODUCT for i in chosen[each:]},
    }


def _encode(items: List[_Item], seed: int, now_ms: int, rng: random.Random) -> List[PlannedRecord]:
    records = []
    for position, item in enumerate(items):
        gen_id = f'gen-{seed}-{position:08d}'
        order_id = f'ord-{seed}-{position:08d}'
        key = item.draft.card_id.encode('utf-8')
        if item.malformation is None:
            records.append(
                PlannedRecord(
                    gen_id,
                    key,
                    encode_draft(item.draft, order_id),
                    item.draft.event_time_ms,
                    item.kind,
                    order_id,
                    None,
                )
            )
        else:
            value = item.malformation.build(rng, item.draft, order_id, now_ms)
            records.append(
                PlannedRecord(
                    gen_id,
                    key,
                    value,
                    item.draft.event_time_ms,
                    item.kind,
                    None,
                    item.malformation.label,
                )
            )
    return records


def _alerts(
    scenarios: List[Scenario], scenario_seqs: List[List[int]], order_id_by_seq: Dict[int, str]
) -> List[truth.ExpectedAlert]:
    alerts = []
    for scenario, seqs in zip(scenarios, scenario_seqs):
        trigger = sorted(
            scenario.trigger,
            key=lambda i: (scenario.orders[i].draft.event_time_ms, order_id_by_seq[seqs[i]]),
        )
        order_ids = tuple(order_id_by_seq[seqs[i]] for i in trigger)
        alerts.append(
            truth.ExpectedAlert(
                scenario.rule,
                scenario.card_id,
                order_ids,
                alert_id(scenario.rule, order_ids),
                scenario.orders[trigger[-1]].draft.event_time_ms,
                scenario.out_of_order,
            )
        )
    alerts.sort(key=lambda a: (a.event_time_ms, a.rule, a.card_id))
    return alerts


def _ground_truth(
    config: TrafficConfig,
    now_ms: int,
    items: List[_Item],
    records: List[PlannedRecord],
    alerts: List[truth.ExpectedAlert],
) -> truth.GroundTruth:
    facts = [
        truth.ValidOrderFact(
            record.order_id,
            item.kind,
            item.draft.product_id,
            item.draft.quantity,
            item.draft.amount_cents,
            item.draft.event_time_ms,
        )
        for item, record in zip(items, records)
        if record.order_id is not None
    ]
    kinds: Dict[str, int] = {}
    for record in records:
        kinds[record.kind] = kinds.get(record.kind, 0) + 1
    malformed = {r.gen_id: r.dead_letter for r in records if r.dead_letter is not None}
    orders = truth.order_truth(
        facts,
        len(malformed),
        kinds,
        [r.order_id for r in records if r.kind == KIND_UNKNOWN_CUSTOMER and r.order_id is not None],
        [r.order_id for r in records if r.kind == KIND_UNKNOWN_PRODUCT and r.order_id is not None],
    )
    echo = dict(config.to_json(), now_ms=now_ms, background_cards=background_cards(config))
    return truth.GroundTruth(
        echo,
        tuple(alerts),
        truth.dead_letter_truth(malformed),
        tuple(truth.window_metrics(facts, config.window_s * 1000)),
        orders,
    )
