"""CheckFraud: orders in, fraud alerts out, per card, in event-time order."""

import bisect
import math
import time
from typing import Iterable, List, NamedTuple, Optional, Tuple, Union

import apache_beam as beam
from apache_beam.coders import FastPrimitivesCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.transforms.window import GlobalWindows, TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from transforms.fraud_rules import (
    RULES, CardEvent, Finding, FraudThresholds, findings_at, in_event_order, without_repeats)
from transforms.records import Alert, EnrichedOrder, Order

# A CardEvent as a plain tuple: how it travels keyed and sits in state.
_EventRow = Tuple[int, str, float, float, float]


class CheckFraud(beam.PTransform):
    """Applies the fraud rules of ``transforms.fraud_rules`` to each card's orders.

    Input: a PCollection of ``Order`` (or ``EnrichedOrder``, whose ``order``
    is used), each at its event time (as ``ValidateOrders`` leaves them);
    bounded or unbounded, in any windowing: orders are re-windowed into the
    global window, because a card's history must not be cut by windows.

    Output: a PCollection of ``Alert`` in the global window, each raised
    exactly once per (rule, triggering order ids); its ``alert_id`` depends
    only on those, so a replay gives the same ids (``detected_at``, the wall
    clock, is the one field that differs).

    How it works, unbounded input: orders are keyed by ``card_id``. A stateful DoFn buffers a
    card's orders in its state and sets an event-time timer; when the watermark
    passes an order's event time plus ``allowed_lateness_s``, the timer
    evaluates the buffered orders up to there in event-time order (time,
    then order id), each once, as the last order of a history holding the
    card's earlier orders (only the last minute or so is kept: what the
    rules look back at). So orders arriving out of order, even behind the
    watermark but within the allowed lateness, give exactly the alerts they
    give in order: those of ``fraud_rules.evaluate_history``. An on-time
    alert's element timestamp is the evaluation time: its ``event_time``
    plus ``allowed_lateness_s`` (never behind the watermark downstream).

    An order behind the watermark by more than that still takes its place if
    the card has evaluated nothing after it. Only an order at or before an
    order its card has already evaluated is too late to be placed: it is
    counted as ``orders_too_late`` and evaluated at once against the history
    kept, as the last order, at its own timestamp. Nothing is dropped, but
    such an order's alerts may differ from in-order ones.

    A second event-time timer clears the card's state when the watermark
    passes its latest order plus ``idle_timeout_s`` (1 hour) plus the
    allowed lateness: the rules treat an hour without orders as the end of
    the card's history, so state stays bounded by the number of active cards.

    An order delivered twice (same order id and event time: a redelivery by an
    at-least-once source) is evaluated once; the repeat is counted as
    ``orders_repeated`` if the first copy is still in the card's state (a
    repeat of an order older than the rules' look-back would be evaluated as
    a too-late order).

    How it works, bounded input (a back-fill, the daily report): one ``GroupByKey`` per card
    and the card's whole history evaluated in event-time order, which gives the same alerts
    (those of ``fraud_rules.evaluate_history``) with no per-order state access. On runners
    that do not cache state between bundles (Prism), each state access is a round trip to
    the runner, and the stateful DoFn costs several per order; the grouping costs none.
    ``per_card_state`` forces either way.

    Counters (namespace ``CheckFraud``): ``orders``, ``orders_too_late``,
    ``orders_repeated``, ``alerts_<RULE>``, ``cards_expired``.

    Runners: Prism, Flink and Dataflow hold the output watermark for pending
    timers. Beam's legacy in-process runner (which runs ``TestStream``) does
    not: alerts of timers that fire only when the watermark jumps to infinity
    reach a downstream ``GroupByKey`` (e.g. ``assert_that``) too late and are
    dropped there. In such tests, advance the watermark past the last order
    plus ``allowed_lateness_s`` (plus ``idle_timeout_s`` to see cards expire)
    before advancing it to infinity.
    """

    def __init__(self, *, small_amount: float = 1.0, large_amount: float = 500.0,
                 small_then_large_window_s: float = 60.0, max_speed_kmh: float = 900.0,
                 min_distance_km: float = 500.0, velocity_count: int = 20,
                 velocity_window_s: float = 60.0, idle_timeout_s: float = 3600.0,
                 allowed_lateness_s: float = 0.0,
                 per_card_state: Optional[bool] = None) -> None:
        """Configures the rules; the defaults are DESIGN.md's.

        Args:
            small_amount: SMALL_THEN_LARGE: amount the first order is under.
            large_amount: SMALL_THEN_LARGE: amount the second order is over.
            small_then_large_window_s: SMALL_THEN_LARGE: most seconds between them.
            max_speed_kmh: IMPOSSIBLE_TRAVEL: speed over which travel is impossible.
            min_distance_km: IMPOSSIBLE_TRAVEL: distance the orders must be over.
            velocity_count: VELOCITY: orders needed within the window.
            velocity_window_s: VELOCITY: the window, in seconds.
            idle_timeout_s: Seconds without orders after which a card's
                history ends and its state is cleared.
            allowed_lateness_s: How far behind the watermark (seconds) an
                order may arrive and still be evaluated in event-time order.
                Evaluation waits this long in event time, so alerts come
                this much later. 0 trusts the watermark (whose source
                already allows for out-of-order records).
            per_card_state: True: the stateful DoFn; False: one GroupByKey
                per card (bounded input only: it waits for the whole input);
                None: the stateful DoFn for unbounded input, grouping for
                bounded input.

        Raises:
            ValueError: If a threshold is invalid (see
                ``FraudThresholds.validated``), or ``allowed_lateness_s`` is
                negative, not finite, or not shorter than ``idle_timeout_s``.
        """
        super().__init__()
        self.thresholds = FraudThresholds(
            small_amount, large_amount, small_then_large_window_s, max_speed_kmh,
            min_distance_km, velocity_count, velocity_window_s, idle_timeout_s).validated()
        if (isinstance(allowed_lateness_s, bool) or not isinstance(allowed_lateness_s, (int, float))
                or not math.isfinite(allowed_lateness_s) or allowed_lateness_s < 0):
            raise ValueError(
                'allowed_lateness_s must be a finite number of at least 0, '
                f'got {allowed_lateness_s!r}')
        if allowed_lateness_s >= idle_timeout_s:
            raise ValueError(f'allowed_lateness_s ({allowed_lateness_s}) must be shorter than '
                             f'idle_timeout_s ({idle_timeout_s})')
        self.allowed_lateness_s = allowed_lateness_s
        self.per_card_state = per_card_state

    def expand(self, orders: beam.PCollection[Union[Order, EnrichedOrder]]
               ) -> beam.PCollection[Alert]:
        per_card_state = self.per_card_state
        if per_card_state is None:
            per_card_state = not orders.is_bounded
        elif not per_card_state and not orders.is_bounded:
            raise ValueError('CheckFraud(per_card_state=False) needs a bounded input: it '
                             'groups each card\'s whole history')
        lateness_ms = math.ceil(1000 * self.allowed_lateness_s)
        keyed = (orders
                 | 'GlobalWindow' >> beam.WindowInto(GlobalWindows())
                 | 'KeyByCard' >> beam.Map(_keyed_by_card).with_output_types(
                     Tuple[str, _EventRow]))
        if per_card_state:
            return keyed | 'EvaluateCards' >> beam.ParDo(
                _CheckCardFn(self.thresholds, lateness_ms)).with_output_types(Alert)
        return (keyed
                | 'GroupByCard' >> beam.GroupByKey()
                | 'EvaluateHistories' >> beam.ParDo(
                    _CheckHistoryFn(self.thresholds, lateness_ms)).with_output_types(Alert))


def _keyed_by_card(element: Union[Order, EnrichedOrder]) -> Tuple[str, _EventRow]:
    order = element.order if isinstance(element, EnrichedOrder) else element
    return order.card_id, (order.event_time_ms, order.order_id, order.amount, order.lat, order.lon)


def _timestamp(millis: int) -> Timestamp:
    return Timestamp(micros=millis * 1000)


class _Card(NamedTuple):
    """What CheckFraud keeps of one card, in one state cell.

    Attributes:
        frontier_ms: Every order at or before this event time has been
            evaluated (None before the first evaluation).
        last_seen_ms: The latest event time seen.
        scheduled_ms: The time the EVALUATE timer is set to, or None.
        pending: Orders not evaluated yet, as rows.
        history: Evaluated orders the rules may still look back at, as rows
            in event-time order.
    """

    frontier_ms: Optional[int]
    last_seen_ms: Optional[int]
    scheduled_ms: Optional[int]
    pending: List[_EventRow]
    history: List[_EventRow]



class _CheckCardFn(beam.DoFn):
    """Per card: buffer orders, evaluate them in event-time order when the watermark allows.

    The card's state is one cell (``_Card`` as a plain tuple): one read and one
    write per element or timer, which matters because the SDK's state cache
    measures every value it loads or stores.
    """

    CARD = ReadModifyWriteStateSpec('card', FastPrimitivesCoder())
    EVALUATE = TimerSpec('evaluate', TimeDomain.WATERMARK)
    EXPIRE = TimerSpec('expire', TimeDomain.WATERMARK)

    def __init__(self, thresholds: FraudThresholds, lateness_ms: int) -> None:
        self._thresholds = thresholds
        self._lateness_ms = lateness_ms
        self._lookback_ms = thresholds.lookback_ms
        self._idle_ms = thresholds.idle_timeout_ms

    def setup(self) -> None:
        self._orders = Metrics.counter('CheckFraud', 'orders')
        self._too_late = Metrics.counter('CheckFraud', 'orders_too_late')
        self._expired = Metrics.counter('CheckFraud', 'cards_expired')
        self._repeated = Metrics.counter('CheckFraud', 'orders_repeated')
        self._alerts = {rule: Metrics.counter('CheckFraud', f'alerts_{rule}') for rule in RULES}

    def process(self, element: Tuple[str, _EventRow],
                card_state=beam.DoFn.StateParam(CARD),
                evaluate=beam.DoFn.TimerParam(EVALUATE),
                expire=beam.DoFn.TimerParam(EXPIRE)) -> Iterable[Alert]:
        card_id, row = element
        self._orders.inc()
        event_ms = row[0]
        card = _read(card_state)
        if card.frontier_ms is not None and event_ms <= card.frontier_ms:
            self._too_late.inc()
            events = _events(card.history)
            alerts = self._evaluate_too_late(card_id, events, CardEvent._make(row))
            card_state.write(tuple(card._replace(history=_rows(events))))
            yield from alerts
            return
        card.pending.append(tuple(row))
        last_seen = card.last_seen_ms
        if last_seen is None or event_ms > last_seen:
            last_seen = event_ms
            expire.set(_timestamp(last_seen + self._idle_ms + self._lateness_ms))
        scheduled = card.scheduled_ms
        due_ms = event_ms + self._lateness_ms
        if scheduled is None or due_ms < scheduled:
            scheduled = due_ms
            evaluate.set(_timestamp(due_ms))
        card_state.write(tuple(card._replace(last_seen_ms=last_seen, scheduled_ms=scheduled)))

    @on_timer(EVALUATE)
    def on_evaluate(self, card_id=beam.DoFn.KeyParam, fired_at=beam.DoFn.TimestampParam,
                    card_state=beam.DoFn.StateParam(CARD),
                    evaluate=beam.DoFn.TimerParam(EVALUATE)) -> Iterable[TimestampedValue]:
        stored = card_state.read()
        if stored is None:
            return  # the card expired; nothing is left to evaluate
        card = _Card._make(stored)
        cutoff_ms = fired_at.micros // 1000 - self._lateness_ms
        due, rest = [], []
        for row in card.pending:
            (due if row[0] <= cutoff_ms else rest).append(row)
        history = card.history
        if due:
            due.sort(key=_row_order)
            events = _events(history)
            for row in due:
                for alert in self._append_and_check(card_id, events, CardEvent._make(row)):
                    yield TimestampedValue(alert, fired_at)
            history = _rows(events)
        scheduled = None
        if rest:
            scheduled = min(row[0] for row in rest) + self._lateness_ms
            evaluate.set(_timestamp(scheduled))
        frontier = cutoff_ms if card.frontier_ms is None else max(card.frontier_ms, cutoff_ms)
        card_state.write((frontier, card.last_seen_ms, scheduled, rest, history))

    @on_timer(EXPIRE)
    def on_expire(self, card_id=beam.DoFn.KeyParam, fired_at=beam.DoFn.TimestampParam,
                  card_state=beam.DoFn.StateParam(CARD),
                  evaluate=beam.DoFn.TimerParam(EVALUATE)) -> Iterable[TimestampedValue]:
        # Every pending order is due by now (lateness < idle timeout); a runner
        # may still fire this timer first when both are due in one bundle.
        card = _read(card_state)
        if card.pending:
            events = _events(card.history)
            for row in sorted(card.pending, key=_row_order):
                for alert in self._append_and_check(card_id, events, CardEvent._make(row)):
                    yield TimestampedValue(alert, fired_at)
        card_state.clear()
        evaluate.clear()
        self._expired.inc()

    def _append_and_check(self, card_id: str, events: List[CardEvent],
                          event: CardEvent) -> List[Alert]:
        """Evaluates ``event``, not earlier than any event in ``events``, and keeps it there."""
        if events:
            if _row_order(events[-1]) == _row_order(event):
                self._repeated.inc()
                return []  # the same order again (a redelivery): it counts once
            if event.event_time_ms - events[-1].event_time_ms >= self._idle_ms:
                events.clear()  # the card's history ended in between
        events.append(event)
        alerts = self._alerts_of(card_id, findings_at(events, len(events) - 1, self._thresholds))
        self._forget_old(events)
        return alerts

    def _evaluate_too_late(self, card_id: str, events: List[CardEvent],
                           event: CardEvent) -> List[Alert]:
        """Evaluates ``event``, earlier than evaluated ones, in its place in ``events``."""
        keys = [_row_order(e) for e in events]
        at = bisect.bisect_right(keys, _row_order(event))
        if at and keys[at - 1] == _row_order(event):
            self._repeated.inc()
            return []  # the same order again (a redelivery): it counts once
        events.insert(at, event)
        alerts = self._alerts_of(card_id, findings_at(events, at, self._thresholds))
        self._forget_old(events)
        return alerts

    def _alerts_of(self, card_id: str, findings: List[Finding]) -> List[Alert]:
        return _alerts_of(card_id, findings, self._alerts)

    def _forget_old(self, events: List[CardEvent]) -> None:
        """Drops events the rules can no longer look back at from the next order."""
        oldest_needed = events[-1].event_time_ms - self._lookback_ms
        keep_from = 0
        last = len(events) - 1
        while keep_from < last and events[keep_from].event_time_ms < oldest_needed:
            keep_from += 1
        if keep_from:
            del events[:keep_from]


class _CheckHistoryFn(beam.DoFn):
    """A card's whole (bounded) history in; its alerts out, as ``_CheckCardFn`` raises them.

    Each alert is stamped with its evaluation time, ``event_time + allowed lateness``, as the
    stateful DoFn stamps on-time alerts.
    """

    def __init__(self, thresholds: FraudThresholds, lateness_ms: int) -> None:
        self._thresholds = thresholds
        self._lateness_ms = lateness_ms

    def setup(self) -> None:
        self._orders = Metrics.counter('CheckFraud', 'orders')
        self._expired = Metrics.counter('CheckFraud', 'cards_expired')
        self._repeated = Metrics.counter('CheckFraud', 'orders_repeated')
        self._alerts = {rule: Metrics.counter('CheckFraud', f'alerts_{rule}') for rule in RULES}

    def process(self, element: Tuple[str, Iterable[_EventRow]]) -> Iterable[TimestampedValue]:
        card_id, rows = element
        events = in_event_order(CardEvent._make(row) for row in rows)
        history = without_repeats(events)
        self._orders.inc(len(events))
        if len(history) < len(events):
            self._repeated.inc(len(events) - len(history))
        for i in range(len(history)):
            for alert in _alerts_of(card_id, findings_at(history, i, self._thresholds),
                                    self._alerts):
                yield TimestampedValue(alert, _timestamp(alert.event_time + self._lateness_ms))
        self._expired.inc()  # the input ended, and with it the card's history


def _read(card_state) -> _Card:
    stored = card_state.read()
    return _Card(None, None, None, [], []) if stored is None else _Card._make(stored)


def _alerts_of(card_id: str, findings: List[Finding], counters) -> List[Alert]:
    """The card's alerts of `findings`, detected now; counts each in `counters[rule]`."""
    if not findings:
        return []
    detected_at = int(time.time() * 1000)
    alerts = []
    for finding in findings:
        counters[finding.rule].inc()
        alerts.append(Alert(finding.alert_id, finding.rule, card_id, list(finding.order_ids),
                            finding.event_time_ms, detected_at, finding.details))
    return alerts


def _events(rows: Iterable[_EventRow]) -> List[CardEvent]:
    return [CardEvent._make(row) for row in rows]


def _rows(events: Iterable[CardEvent]) -> List[_EventRow]:
    return [tuple(event) for event in events]


def _row_order(row) -> Tuple[int, str]:
    return row[0], row[1]
