"""What CheckFraud keeps of one card, and how an arriving order is checked against it.

Pure functions, no Beam: ``check_arrival`` is what the streaming ``CheckFraud`` does for each
order as it arrives (docs/fraud.md, "When a rule is checked"):

* the order takes its place in the card's history by event time (time, then order id), even
  when later orders of the card came first;
* it is checked at once, as the last order of the history up to it; and every later order
  whose rules can see it (within the rules' look-back after it, and the next order, its
  neighbour for ``IMPOSSIBLE_TRAVEL``) is checked again, so a late order misses nothing;
* an alert already raised is never raised again while its orders are kept, nor retracted.

In event-time order this raises exactly the alerts of ``fraud_rules.evaluate_history``.
Shuffled, it raises those too (none missed) as long as each order arrives no further behind
its card's latest order than ``keep_ms`` less the rules' look-back, plus, at most, alerts on
orders that were neighbours when they were checked.

What a card keeps (``CardHistory``): its orders of the last ``keep_ms`` before its latest
order, and the one order before those (the previous order, for ``IMPOSSIBLE_TRAVEL``, of an
order that arrives late, however long ago it was), and the ids of the alerts raised on
them. The caller clears a card once its latest
order is ``idle_timeout_ms`` old (24 h by default): state is bounded by the cards active in a
day, not by the number of orders.
"""

import bisect
from typing import Dict, List, NamedTuple, Optional, Tuple, cast

from transforms.fraud_rules import CardEvent, Finding, FraudThresholds, findings_at

EventRow = Tuple[int, str, float, float, float]
"""A ``CardEvent`` as a plain tuple: (event time ms, order id, amount, lat, lon)."""


class CardHistory(NamedTuple):
    """One card's kept orders and raised alerts; plain containers, so any coder can store it.

    Attributes:
        events: ``EventRow`` s in event-time order (time, then order id).
        raised: Alert id -> event time (ms) of the alert's last order, for the alerts raised
            on orders still in ``events``.
    """

    events: List[EventRow]
    raised: Dict[str, int]

    @property
    def latest_ms(self) -> int:
        """The event time of the card's latest order."""
        return self.events[-1][0]


class Arrival(NamedTuple):
    """What ``check_arrival`` made of one order.

    Attributes:
        card: The card's history with the order in it (the same one when ``repeated``).
        findings: The alerts to raise now, each once.
        repeated: The order was already in the history (a redelivery): nothing was checked.
        too_late: The order came further behind the card's latest order than the history
            reaches: it was checked against what is kept, which may miss older neighbours.
    """

    card: CardHistory
    findings: List[Finding]
    repeated: bool
    too_late: bool


def check_arrival(
    card: Optional[CardHistory], row: EventRow, thresholds: FraudThresholds, keep_ms: int
) -> Arrival:
    """Places ``row`` in ``card`` (None: a card never seen) and checks what it changes.

    Args:
        card: The card's history so far, or None. Not modified.
        row: The arriving order.
        thresholds: Validated thresholds.
        keep_ms: How far behind the card's latest order its orders are kept; at least
            ``thresholds.lookback_ms``. Orders arriving up to ``keep_ms - lookback_ms``
            behind the latest one find every neighbour the rules look at.

    Returns:
        The new history, the findings to raise, and whether the order was a repeat or too
        late.
    """
    if card is None:
        card = CardHistory([], {})
    key = (row[0], row[1])
    events = card.events
    at = bisect.bisect_left(events, key)
    if at < len(events) and (events[at][0], events[at][1]) == key:
        return Arrival(card, [], True, False)
    too_late = bool(events) and row[0] < events[-1][0] - keep_ms
    history = [CardEvent._make(event) for event in events]
    history.insert(at, CardEvent._make(row))
    raised = dict(card.raised)
    findings = []
    for index in _indexes_to_check(history, at, thresholds.lookback_ms):
        for finding in findings_at(history, index, thresholds):
            if finding.alert_id not in raised:
                raised[finding.alert_id] = finding.event_time_ms
                findings.append(finding)
    kept = _kept(history, raised, keep_ms)
    return Arrival(kept, findings, False, too_late)


def expires_at_ms(card: CardHistory, thresholds: FraudThresholds) -> int:
    """The event time from which the card is cleared: its latest order plus the idle timeout."""
    return card.latest_ms + thresholds.idle_timeout_ms


def _indexes_to_check(history: List[CardEvent], at: int, lookback_ms: int) -> List[int]:
    """The new order, its next neighbour, and the later orders whose look-back reaches it."""
    indexes = [at]
    reach_ms = history[at].event_time_ms + lookback_ms
    for index in range(at + 1, len(history)):
        if index > at + 1 and history[index].event_time_ms > reach_ms:
            break
        indexes.append(index)
    return indexes


def _kept(history: List[CardEvent], raised: Dict[str, int], keep_ms: int) -> CardHistory:
    oldest_ms = history[-1].event_time_ms - keep_ms
    start = 0
    while history[start].event_time_ms < oldest_ms:
        start += 1
    start = max(0, start - 1)  # the order before the window: a late order's previous one
    events = cast(List[EventRow], [tuple(event) for event in history[start:]])
    kept_from_ms = events[0][0]
    return CardHistory(
        events, {alert: at_ms for alert, at_ms in raised.items() if at_ms >= kept_from_ms}
    )
