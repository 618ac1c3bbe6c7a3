"""What the streaming job has written, folded into what the live page shows.

`OutputView` takes the decoded records of the output topics one by one (metrics, alerts, dead
letters, in any order, duplicates included) and keeps only what the page needs:

- per 5-minute window, the totals over products of each product's latest pane (panes
  accumulate, so the latest pane is the window's total so far); EARLY panes count as they come;
- the top products of the latest window;
- the latest alerts (each alert id once) and the alerts per rule;
- the dead letters per `stage/reason`.

Counts per rule and per reason are of distinct records seen since the view started (alert ids
are deterministic, so a replayed alert is counted once). Memory is bounded: old windows and
alerts are dropped. Not thread-safe: the watcher owns it and hands out snapshots.
"""

import collections
from typing import Any, Dict, List, Mapping, Tuple

MAX_WINDOWS = 24
"""Windows kept (2 hours of 5-minute windows)."""
MAX_ALERTS = 25
"""Latest alerts kept for the page."""
TOP_PRODUCTS = 10
_ALERT_IDS_KEPT = 100_000
"""Alert ids remembered for de-duplication; the oldest are forgotten past this."""


class OutputView:
    """The live page's figures from the output topics; see the module docstring."""

    def __init__(self) -> None:
        # (window_start, window_end) -> product -> latest metric row
        self._windows: Dict[Tuple[int, int], Dict[str, Mapping[str, Any]]] = {}
        self._alerts: collections.deque = collections.deque(maxlen=MAX_ALERTS)
        self._alert_ids: collections.OrderedDict = collections.OrderedDict()
        self.alerts_by_rule: collections.Counter = collections.Counter()
        self.dead_letters_by_reason: collections.Counter = collections.Counter()
        self.metric_rows = 0

    def add_metric(self, row: Mapping[str, Any]) -> None:
        """Takes one `order.metrics` row; a pane older than the one kept is ignored."""
        self.metric_rows += 1
        window = (int(row['window_start']), int(row['window_end']))
        products = self._windows.setdefault(window, {})
        kept = products.get(row['product_id'])
        if kept is None or int(row['pane_index']) >= int(kept['pane_index']):
            products[row['product_id']] = row
        while len(self._windows) > MAX_WINDOWS:
            del self._windows[min(self._windows)]

    def add_alert(self, alert: Mapping[str, Any], record_time_ms: int, seen_at_ms: int) -> None:
        """Takes one `fraud.alerts` record; an alert id already seen is ignored.

        Args:
          alert: The decoded alert.
          record_time_ms: The Kafka record's timestamp (when the pipeline wrote it).
          seen_at_ms: When the dashboard read it, epoch ms.
        """
        alert_id = alert['alert_id']
        if alert_id in self._alert_ids:
            return
        self._alert_ids[alert_id] = None
        if len(self._alert_ids) > _ALERT_IDS_KEPT:
            self._alert_ids.popitem(last=False)
        self.alerts_by_rule[alert['rule']] += 1
        self._alerts.append({**alert, 'record_time': record_time_ms, 'read_at': seen_at_ms})

    def add_dead_letter(self, dead_letter: Mapping[str, Any]) -> None:
        """Takes one `orders.dlq` record."""
        self.dead_letters_by_reason[f'{dead_letter["stage"]}/{dead_letter["reason"]}'] += 1

    def windows(self) -> List[Dict[str, Any]]:
        """Per window, oldest first: start, end, orders, units, revenue, and `pane`, the
        least final pane among its products (EARLY while any product's is EARLY)."""
        rows = []
        for (start, end), products in sorted(self._windows.items()):
            panes = {row['pane'] for row in products.values()}
            rows.append(
                {
                    'window_start': start,
                    'window_end': end,
                    'products': len(products),
                    'orders': sum(int(r['orders']) for r in products.values()),
                    'units': sum(int(r['units']) for r in products.values()),
                    'revenue': round(sum(float(r['revenue']) for r in products.values()), 2),
                    'pane': next((p for p in ('EARLY', 'LATE', 'ON_TIME') if p in panes), None),
                }
            )
        return rows

    def top_products(self) -> List[Dict[str, Any]]:
        """The products of the latest window by revenue, highest first (at most 10)."""
        if not self._windows:
            return []
        latest = self._windows[max(self._windows)]
        ranked = sorted(latest.values(), key=lambda r: (-float(r['revenue']), r['product_id']))
        return [
            {
                'product_id': r['product_id'],
                'orders': int(r['orders']),
                'units': int(r['units']),
                'revenue': round(float(r['revenue']), 2),
            }
            for r in ranked[:TOP_PRODUCTS]
        ]

    def latest_alerts(self) -> List[Dict[str, Any]]:
        """The latest alerts, newest read first."""
        return list(reversed(self._alerts))

    def snapshot(self) -> Dict[str, Any]:
        """Everything above as JSON-ready values."""
        return {
            'windows': self.windows(),
            'top_products': self.top_products(),
            'alerts': self.latest_alerts(),
            'alerts_by_rule': dict(self.alerts_by_rule),
            'dead_letters_by_reason': dict(self.dead_letters_by_reason),
            'metric_rows': self.metric_rows,
        }


def window_totals(metric_rows) -> Dict[int, Tuple[int, int, float]]:
    """window start -> (orders, units, revenue) over the latest pane of each product: what
    `OutputView.windows` shows for the same rows (for checks against a topic's content)."""
    view = OutputView()
    for row in metric_rows:
        view.add_metric(row)
    return {w['window_start']: (w['orders'], w['units'], w['revenue']) for w in view.windows()}
