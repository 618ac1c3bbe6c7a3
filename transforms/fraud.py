"""CheckFraud: orders in, fraud alerts out, each order checked the moment it arrives."""

import math
import time
import zlib
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import apache_beam as beam
from apache_beam.coders import FastPrimitivesCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.transforms.window import GlobalWindow, GlobalWindows, TimestampedValue
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from connectors.kafka_commit import DELIVERED, Acknowledged, Origin, acknowledged_of
from transforms.card_history import CardHistory, EventRow, check_arrival, expires_at_ms
from transforms.fraud_rules import (
    RULES,
    CardEvent,
    Finding,
    FraudThresholds,
    findings_at,
    in_event_order,
    without_repeats,
)
from transforms.records import Alert, EnrichedOrder, Order
from transforms.shard_cards import ShardCards

DEFAULT_SHARDS = 4
"""Keys of the streaming state: cards are hashed into this many shards (see CheckFraud).

Few: the Python SDK reads a key's state with one blocking round trip and, as a bundle ends,
writes each touched state cell with another, one after the other, so a bundle's state cost
grows with the shards it touches (docs/fraud.md)."""


class CheckFraud(beam.PTransform):
    """Applies the fraud rules of ``transforms.fraud_rules`` to each card's orders.

    Input: a PCollection of ``Order`` (or ``EnrichedOrder``, whose ``order`` is used), each
    at its event time (as ``ValidateOrders`` leaves them); bounded or unbounded, in any
    windowing: orders are re-windowed into the global window, because a card's history must
    not be cut by windows.

    Output: a PCollection of ``Alert`` in the global window, each stamped with its
    ``event_time`` (the event time of its last triggering order). An alert's ``alert_id``
    depends only on its rule and orders, so a replay or a retry gives the same ids
    (``detected_at``, the wall clock, is the one field that differs).

    Unbounded input (the streaming pipeline): **each order is checked in the bundle that
    reads it**, without waiting for the watermark (``transforms.card_history``): it takes
    its place in its card's history by event time, is checked as the last order of the
    history up to it, and the later orders whose rules can see it are checked again, so an
    order arriving after later ones misses nothing. In event-time order the alerts are
    exactly those of ``fraud_rules.evaluate_history``; shuffled by up to
    ``max_out_of_orderness_s`` per card they include all of those, plus, at most, alerts on
    orders that were neighbours when checked. An alert is never retracted.

    State: cards are hashed into ``shards`` keys (16), each holding its cards' histories as
    a log of changes (transforms/shard_cards.py). Per-card keys would cost a blocking state
    round trip to the runner for nearly every order (few orders share a card within a
    bundle); a bundle reads a shard's head once and appends the cards it changed. A card keeps its
    orders of the last
    ``max(rule windows) + max_out_of_orderness_s`` and always its latest order (the one
    ``IMPOSSIBLE_TRAVEL`` compares the next with), and is cleared by an event-time timer
    once the watermark is ``idle_timeout_s`` (24 h) past its latest order: state is bounded
    by the cards active in a day. Timers only clear state; they never raise alerts.

    Bounded input (a back-fill, the daily report): one ``GroupByKey`` per card and its whole
    history evaluated in event-time order, which gives exactly the alerts of
    ``evaluate_history`` with no state at all. ``per_card_state`` forces either way.

    ``acknowledge=True`` (unbounded input, for ``connectors.kafka_commit``): the output also
    holds ``Acknowledged`` marks (kind DELIVERED) of the Kafka offsets of the orders each
    bundle checked, emitted as the bundle ends, after its alerts; a sink that forwards them
    once its records are acknowledged (``WriteToKafka``) makes "checked, alerts delivered"
    durable before the offsets are committed.

    Counters (namespace ``CheckFraud``): ``orders``, ``orders_too_late`` (further behind
    their card's latest order than its history reaches), ``orders_repeated`` (a redelivered
    order, counted once), ``alerts_<RULE>``, ``cards_expired``, ``sweeps`` (timers that
    cleared idle cards).
    """

    def __init__(
        self,
        *,
        small_amount: float = 1.0,
        large_amount: float = 500.0,
        small_then_large_window_s: float = 60.0,
        max_speed_kmh: float = 900.0,
        min_distance_km: float = 500.0,
        velocity_count: int = 20,
        velocity_window_s: float = 60.0,
        idle_timeout_s: float = 86400.0,
        max_out_of_orderness_s: float = 300.0,
        shards: int = DEFAULT_SHARDS,
        per_card_state: Optional[bool] = None,
        acknowledge: bool = False,
    ) -> None:
        """Configures the rules; the defaults are those of docs/fraud.md.

        Args:
            small_amount: SMALL_THEN_LARGE: amount the first order is under.
            large_amount: SMALL_THEN_LARGE: amount the second order is over.
            small_then_large_window_s: SMALL_THEN_LARGE: most seconds between them.
            max_speed_kmh: IMPOSSIBLE_TRAVEL: speed over which travel is impossible.
            min_distance_km: IMPOSSIBLE_TRAVEL: distance the orders must be over.
            velocity_count: VELOCITY: orders needed within the window.
            velocity_window_s: VELOCITY: the window, in seconds.
            idle_timeout_s: Seconds without orders after which a card's history ends and
                its state is cleared (24 h: half the Earth's circumference at 900 km/h
                takes 22.3 h, so IMPOSSIBLE_TRAVEL cannot fire on a longer gap).
            max_out_of_orderness_s: Unbounded input: how far (event time) behind its
                card's latest order an order may arrive and still be checked against every
                neighbour; the card keeps this much more history.
            shards: Unbounded input: how many state keys the cards are hashed into.
            per_card_state: True: state (unbounded or not); False: one GroupByKey per card
                (bounded input only: it waits for the whole input); None: state for
                unbounded input, grouping for bounded input.
            acknowledge: Also output ``Acknowledged`` marks of the orders checked (needs
                per-card state; see above).

        Raises:
            ValueError: If a threshold is invalid (see ``FraudThresholds.validated``),
                ``max_out_of_orderness_s`` is negative or not finite, or ``shards`` is not
                a positive integer.
        """
        super().__init__()
        self.thresholds = FraudThresholds(
            small_amount,
            large_amount,
            small_then_large_window_s,
            max_speed_kmh,
            min_distance_km,
            velocity_count,
            velocity_window_s,
            idle_timeout_s,
        ).validated()
        if (
            isinstance(max_out_of_orderness_s, bool)
            or not isinstance(max_out_of_orderness_s, (int, float))
            or not math.isfinite(max_out_of_orderness_s)
            or max_out_of_orderness_s < 0
        ):
            raise ValueError(
                'max_out_of_orderness_s must be a finite number of at least 0, '
                f'got {max_out_of_orderness_s!r}'
            )
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise ValueError(f'shards must be an integer of at least 1, got {shards!r}')
        self.keep_ms = self.thresholds.lookback_ms + math.ceil(1000 * max_out_of_orderness_s)
        self.shards = shards
        self.per_card_state = per_card_state
        self.acknowledge = acknowledge

    def expand(
        self,
        orders: Union[
            beam.PCollection[Union[Order, EnrichedOrder]],
            Sequence[beam.PCollection[Union[Order, EnrichedOrder]]],
        ],
    ) -> beam.PCollection[Union[Alert, Acknowledged]]:
        """Checks ``orders``: one PCollection, or several (e.g. live orders and those a
        restarted job reads again). Several are keyed each on its own and merged just
        before the state step, so that on a runner that flattens between stages (Prism)
        every order crosses to the runner once, not three times."""
        inputs = tuple(orders) if isinstance(orders, (tuple, list)) else (orders,)
        bounded = all(pcoll.is_bounded for pcoll in inputs)
        per_card_state = self.per_card_state
        if per_card_state is None:
            per_card_state = not bounded
        elif not per_card_state and not bounded:
            raise ValueError(
                'CheckFraud(per_card_state=False) needs a bounded input: it '
                "groups each card's whole history"
            )
        if self.acknowledge and not per_card_state:
            raise ValueError(
                'CheckFraud(acknowledge=True) needs per-card state (unbounded '
                'input, or per_card_state=True)'
            )
        if per_card_state:
            shards, acknowledge = self.shards, self.acknowledge
            keyed = _merged(
                [
                    _globally_windowed(pcoll, suffix)
                    | f'KeyByShard{suffix}'
                    >> beam.Map(_keyed_by_shard, shards, acknowledge).with_output_types(
                        Tuple[int, Tuple[str, EventRow, Optional[Origin]]]
                    )
                    for pcoll, suffix in _suffixed(inputs)
                ]
            )
            return keyed | 'CheckOnArrival' >> beam.ParDo(
                _CheckOnArrivalFn(self.thresholds, self.keep_ms)
            ).with_output_types(Union[Alert, Acknowledged] if acknowledge else Alert)
        keyed = _merged(
            [
                _globally_windowed(pcoll, suffix)
                | f'KeyByCard{suffix}'
                >> beam.Map(_keyed_by_card).with_output_types(Tuple[str, EventRow])
                for pcoll, suffix in _suffixed(inputs)
            ]
        )
        return (
            keyed
            | 'GroupByCard' >> beam.GroupByKey()
            | 'EvaluateHistories'
            >> beam.ParDo(_CheckHistoryFn(self.thresholds)).with_output_types(Alert)
        )


def _suffixed(inputs):
    """Each input with the suffix of its step labels: none for a single input."""
    return [(pcoll, '' if len(inputs) == 1 else str(index)) for index, pcoll in enumerate(inputs)]


def _globally_windowed(pcoll: beam.PCollection, suffix: str) -> beam.PCollection:
    """``pcoll`` in the global window: as it is when it already is (a source's output), so
    that no per-element step re-assigns a window for nothing."""
    if isinstance(pcoll.windowing.windowfn, GlobalWindows) and pcoll.windowing.is_default():
        return pcoll
    return pcoll | f'GlobalWindow{suffix}' >> beam.WindowInto(GlobalWindows())


def _merged(keyed: List[beam.PCollection]) -> beam.PCollection:
    return keyed[0] if len(keyed) == 1 else tuple(keyed) | 'MergeInputs' >> beam.Flatten()


def shard_of(card_id: str, shards: int) -> int:
    """The state key of a card: a hash that is the same in every process and run."""
    return zlib.crc32(card_id.encode('utf-8')) % shards


def _keyed_by_card(element: Union[Order, EnrichedOrder]) -> Tuple[str, EventRow]:
    order = element.order if isinstance(element, EnrichedOrder) else element
    return order.card_id, (order.event_time_ms, order.order_id, order.amount, order.lat, order.lon)


def _keyed_by_shard(
    element: Union[Order, EnrichedOrder], shards: int, acknowledge: bool
) -> Tuple[int, Tuple[str, EventRow, Optional[Origin]]]:
    card_id, row = _keyed_by_card(element)
    order = element.order if isinstance(element, EnrichedOrder) else element
    origin = order.source if acknowledge and order.source_topic is not None else None
    return shard_of(card_id, shards), (card_id, row, origin)


def _timestamp(millis: int) -> Timestamp:
    return Timestamp(micros=millis * 1000)


class _RuleCounters:
    """The CheckFraud counters, counted in a bundle and reported at its end."""

    def __init__(self) -> None:
        self._metrics = {
            name: Metrics.counter('CheckFraud', name)
            for name in (
                'orders',
                'orders_too_late',
                'orders_repeated',
                'cards_expired',
                'sweeps',
                *(f'alerts_{rule}' for rule in RULES),
            )
        }
        self._pending: Dict[str, int] = {}

    def add(self, name: str, count: int = 1) -> None:
        self._pending[name] = self._pending.get(name, 0) + count

    def report(self) -> None:
        for name, count in self._pending.items():
            self._metrics[name].inc(count)
        self._pending.clear()


class _CheckOnArrivalFn(beam.DoFn):
    """Per shard of cards: each order checked as it arrives; a timer clears idle cards.

    A shard's cards (``{card_id: CardHistory}``) are a log of changes and a head with the
    sweep time: a bundle writes only what it changed, and a DoFn instance reuses the cards it
    decoded while no one else changed the shard (transforms/shard_cards.py).
    """

    HEAD = ReadModifyWriteStateSpec('cards_head', FastPrimitivesCoder())
    LOG = BagStateSpec('cards_log', FastPrimitivesCoder())
    SWEEP = TimerSpec('sweep', TimeDomain.WATERMARK)

    def __init__(self, thresholds: FraudThresholds, keep_ms: int) -> None:
        self._thresholds = thresholds
        self._keep_ms = keep_ms
        self._idle_ms = thresholds.idle_timeout_ms
        # Idle cards are cleared in sweeps at most this often (event time), not one by one.
        self._sweep_every_ms = max(1000, self._idle_ms // 24)

    def setup(self) -> None:
        self._counters = _RuleCounters()
        self._shards = ShardCards()

    def start_bundle(self) -> None:
        self._shards.start_bundle()
        self._checked: List[Origin] = []
        self._earliest: Optional[Timestamp] = None

    def finish_bundle(self) -> Iterable[WindowedValue]:
        self._counters.report()
        self._shards.finish_bundle()
        if self._earliest is None:  # no order checked: nothing to acknowledge
            return
        for mark in acknowledged_of(DELIVERED, self._checked):
            yield WindowedValue(mark, self._earliest, (GlobalWindow(),))

    def process(
        self,
        element: Tuple[int, Tuple[str, EventRow, Optional[Origin]]],
        head_state=beam.DoFn.StateParam(HEAD),
        log_state=beam.DoFn.StateParam(LOG),
        sweep=beam.DoFn.TimerParam(SWEEP),
        timestamp=beam.DoFn.TimestampParam,
    ) -> Iterable[TimestampedValue]:
        shard, (card_id, row, origin) = element
        if origin is not None:
            # Acknowledged when the bundle ends, repeated and late orders too: checked.
            self._checked.append(origin)
            if self._earliest is None or timestamp < self._earliest:
                self._earliest = timestamp
        sweep_at_ms, cards = self._shards.read(shard, head_state, log_state)
        stored = cards.get(card_id)
        arrival = check_arrival(
            None if stored is None else CardHistory._make(stored),
            row,
            self._thresholds,
            self._keep_ms,
        )
        self._counters.add('orders')
        if arrival.repeated:
            self._counters.add('orders_repeated')
            return
        if arrival.too_late:
            self._counters.add('orders_too_late')
        # Plain tuples: what the state coder stores best.
        self._shards.put(shard, card_id, tuple(arrival.card), head_state, log_state)
        if sweep_at_ms is None:
            sweep_at_ms = expires_at_ms(arrival.card, self._thresholds) + self._sweep_every_ms
            sweep.set(_timestamp(sweep_at_ms))
            self._shards.set_sweep(shard, sweep_at_ms, head_state)
        for alert in _alerts_of(card_id, arrival.findings, self._counters):
            yield TimestampedValue(alert, _timestamp(alert.event_time))

    @on_timer(SWEEP)
    def on_sweep(
        self,
        shard=beam.DoFn.KeyParam,
        fired_at=beam.DoFn.TimestampParam,
        head_state=beam.DoFn.StateParam(HEAD),
        log_state=beam.DoFn.StateParam(LOG),
        sweep=beam.DoFn.TimerParam(SWEEP),
    ) -> None:
        _, cards = self._shards.read(shard, head_state, log_state)
        now_ms = fired_at.micros // 1000
        self._counters.add('sweeps')
        kept = {
            card_id: card for card_id, card in cards.items() if self._expires_at_ms(card) > now_ms
        }
        self._counters.add('cards_expired', len(cards) - len(kept))
        if not kept:
            self._shards.clear(shard, head_state, log_state)
            return
        sweep_at_ms = min(map(self._expires_at_ms, kept.values())) + self._sweep_every_ms
        sweep.set(_timestamp(sweep_at_ms))
        self._shards.replace(shard, sweep_at_ms, kept, head_state, log_state)

    def _expires_at_ms(self, card: tuple) -> int:
        return expires_at_ms(CardHistory._make(card), self._thresholds)


class _CheckHistoryFn(beam.DoFn):
    """A card's whole (bounded) history in; its alerts out, each at its event time."""

    def __init__(self, thresholds: FraudThresholds) -> None:
        self._thresholds = thresholds

    def setup(self) -> None:
        self._counters = _RuleCounters()

    def finish_bundle(self) -> None:
        self._counters.report()

    def process(self, element: Tuple[str, Iterable[EventRow]]) -> Iterable[TimestampedValue]:
        card_id, rows = element
        events = in_event_order(CardEvent._make(row) for row in rows)
        history = without_repeats(events)
        self._counters.add('orders', len(events))
        if len(history) < len(events):
            self._counters.add('orders_repeated', len(events) - len(history))
        for i in range(len(history)):
            for alert in _alerts_of(
                card_id, findings_at(history, i, self._thresholds), self._counters
            ):
                yield TimestampedValue(alert, _timestamp(alert.event_time))
        self._counters.add('cards_expired')  # the input ended, and with it the card's history


def _alerts_of(card_id: str, findings: List[Finding], counters: _RuleCounters) -> List[Alert]:
    """The card's alerts of `findings`, detected now; counts each as ``alerts_<rule>``."""
    if not findings:
        return []
    detected_at = int(time.time() * 1000)
    alerts = []
    for finding in findings:
        counters.add(f'alerts_{finding.rule}')
        alerts.append(
            Alert(
                finding.alert_id,
                finding.rule,
                card_id,
                list(finding.order_ids),
                finding.event_time_ms,
                detected_at,
                finding.details,
            )
        )
    return alerts
