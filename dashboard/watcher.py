"""The dashboard's one background thread: reads Kafka, keeps the figures, hands out snapshots.

Each turn it polls the output topics (waiting at most `POLL_TIMEOUT_MS`), and every
`refresh_s` it reads the orders topic's end offsets and the group's offsets and members. A
failed read marks the broker unreachable (the page says so and keeps the last figures) and is
retried every `refresh_s`; when the broker answers again the figures move on. Web handlers
never touch Kafka: they take `snapshot()`, a JSON-ready dict, when `version` has moved.
"""

import logging
import threading
import time
from typing import Any, Callable, Dict, Optional

from dashboard.group_progress import NOT_RUNNING, UNREACHABLE, GroupProgress, OffsetReading, Verdict
from dashboard.kafka_access import BrokerUnreachable, KafkaAccess, TopicNotFound
from dashboard.output_tail import OutputTail
from dashboard.output_view import OutputView
from dashboard.settings import DashboardSettings

_LOG = logging.getLogger(__name__)
DESCRIBE_EVERY_S = 5.0
"""How often the group's members and state are asked for (they change rarely)."""


class Watcher:
    """Reads Kafka in a daemon thread (see the module docstring).

    Args:
      settings: What to watch and how.
      access: The metadata reader; one is made from `settings` by default.
      clock: Monotonic seconds (a parameter for tests).
    """

    def __init__(
        self,
        settings: DashboardSettings,
        access: Optional[KafkaAccess] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.access = access or KafkaAccess(settings.brokers, settings.security)
        self.view = OutputView()
        self.progress = GroupProgress(settings.group, settings.lag_warning, settings.stall_s)
        self._tail = OutputTail(
            self.access, settings.output_topics(), self.view, settings.lookback_s
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._unreachable: Optional[str] = None
        self._topic_missing: Optional[str] = None
        self._next_refresh = 0.0
        self._described_at = 0.0
        self.version = 0
        """Bumped whenever the figures change."""

    def start(self) -> 'Watcher':
        self._thread = threading.Thread(target=self._run, name='dashboard-watcher', daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._tail.close()
        self.access.close()

    def snapshot(self) -> Dict[str, Any]:
        """What the page shows, JSON-ready."""
        with self._lock:
            verdict = self._verdict()
            orders_in_rate, orders_out_rate = self.progress.rates()
            latest = self.progress.latest
            return {
                'version': self.version,
                'generated_at': int(time.time() * 1000),
                'status': {'code': verdict.code, 'message': verdict.message},
                'brokers': self.settings.brokers,
                'topics': self.settings.topics(),
                'group': {
                    'id': self.settings.group,
                    'lag_warning': self.settings.lag_warning,
                    'partitions': self.progress.partitions(),
                    'lag': self.progress.total_lag() if latest else None,
                    'members': latest.members if latest else None,
                    'state': latest.group_state if latest else None,
                    'orders_in_per_s': round(orders_in_rate, 1),
                    'orders_out_per_s': round(orders_out_rate, 1),
                },
                **self.view.snapshot(),
            }

    def counters(self) -> Dict[str, Any]:
        """The figures Prometheus scrapes (see `dashboard.prometheus_metrics`)."""
        with self._lock:
            return {
                'verdict': self._verdict().code,
                'partitions': self.progress.partitions(),
                'orders_in': self.progress.orders_in,
                'orders_out': self.progress.orders_out,
                'alerts_by_rule': dict(self.view.alerts_by_rule),
                'dead_letters_by_reason': dict(self.view.dead_letters_by_reason),
                'metric_rows': self.view.metric_rows,
                'kafka_requests': self.access.requests,
                'tail_request_rate': self._tail.request_rate(),
                'undecodable': self._tail.undecodable,
            }

    def _verdict(self) -> Verdict:
        if self._unreachable:
            return Verdict(UNREACHABLE, self._unreachable)
        if self._topic_missing:
            return Verdict(NOT_RUNNING, self._topic_missing)
        return self.progress.verdict()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._turn()
            except BrokerUnreachable as error:
                self._set_unreachable(str(error))
                self._stop.wait(self.settings.refresh_s)
            except Exception:  # noqa: BLE001  the page must outlive any one bad turn
                _LOG.exception('dashboard watcher turn failed; retrying')
                self._set_unreachable('The dashboard could not read Kafka (see its log); retrying.')
                self._stop.wait(self.settings.refresh_s)

    def _turn(self) -> None:
        now = self._clock()
        changed = False
        if now >= self._next_refresh:
            self._next_refresh = now + self.settings.refresh_s
            self._tail.refresh_assignment()
            reading = self._read_group(now)
            with self._lock:
                if reading is not None:
                    self.progress.add(reading)
                self._unreachable = None
            changed = True
        decoded = self._tail.poll()  # waits; outside the lock, so snapshots never wait on it
        if decoded:
            with self._lock:
                self._tail.apply(decoded)
        if changed or decoded:
            self._bump()

    def _read_group(self, now: float) -> Optional[OffsetReading]:
        orders = self.settings.orders_topic
        try:
            end = self.access.end_offsets([orders])
        except TopicNotFound:
            with self._lock:
                self._topic_missing = (
                    f'Topic {orders!r} does not exist on {self.settings.brokers}: nothing has '
                    f'produced orders there yet, or --orders_topic is wrong.'
                )
            return None
        committed = self.access.group_offsets(self.settings.group, [orders])
        previous = self.progress.latest
        if previous is None or now - self._described_at >= DESCRIBE_EVERY_S:
            members, state = self.access.group_members(self.settings.group)
            self._described_at = now
        else:
            members, state = previous.members, previous.group_state
        with self._lock:
            self._topic_missing = None
        return OffsetReading(now, end, committed, members, state)

    def _set_unreachable(self, message: str) -> None:
        with self._lock:
            changed = self._unreachable != message
            self._unreachable = message
        if changed:
            self._bump()

    def _bump(self) -> None:
        with self._lock:
            self.version += 1
