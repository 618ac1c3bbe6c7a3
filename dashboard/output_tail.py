"""Reads the streaming job's output topics as they grow, into an `OutputView`.

One group-less consumer is assigned every partition of the alerts, metrics and dead-letter
topics, starting at the first record written `lookback_s` ago (so a freshly opened dashboard
shows the last hour, not the whole history), and polled by the watcher. A topic that does not
exist yet is looked for again on each `refresh_assignment`; a record that does not decode as
its topic's kind is counted and skipped (the topic browser shows it).
"""

import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from dashboard.kafka_access import BrokerUnreachable, KafkaAccess, unreachable_message
from dashboard.output_view import OutputView
from dashboard.record_kinds import ALERT, DEAD_LETTER, METRIC, decode_kind

POLL_TIMEOUT_MS = 200
"""Longest a poll waits for records: the page's delay when records trickle in."""
FETCH_MAX_WAIT_MS = 200
"""Longest the broker holds a fetch with nothing to return (one fetch per this, idle)."""
TOPIC_RECHECK_S = 30.0
"""Once every output topic is assigned, how often to look for new partitions."""


class OutputTail:
    """Feeds an `OutputView` from the output topics (see the module docstring).

    Args:
      access: Where the brokers are and how to connect.
      topics: kind (ALERT, METRIC, DEAD_LETTER) -> topic name.
      view: What the records go into.
      lookback_s: How far back to start reading, seconds.
      clock_ms: Wall clock, epoch ms (a parameter for tests).
    """

    def __init__(
        self,
        access: KafkaAccess,
        topics: Dict[str, str],
        view: OutputView,
        lookback_s: float = 3600.0,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        unknown = set(topics) - {ALERT, METRIC, DEAD_LETTER}
        if unknown:
            raise ValueError(f'output kinds must be alert, metric, dead_letter; got {unknown}')
        self._access, self._view, self._clock_ms = access, view, clock_ms
        self._kind_of_topic = {topic: kind for kind, topic in topics.items()}
        self._lookback_ms = int(lookback_s * 1000)
        self._consumer: Optional[KafkaConsumer] = None
        self._checked_at: Optional[float] = None  # monotonic s of the last complete check
        self.undecodable = 0
        """Records skipped because they did not decode as their topic's kind."""

    def refresh_assignment(self) -> None:
        """See `_refresh_assignment`; Kafka errors become BrokerUnreachable."""
        try:
            self._refresh_assignment()
        except (KafkaError, OSError) as error:
            raise BrokerUnreachable(unreachable_message(self._access.bootstrap, error)) from None

    def _refresh_assignment(self) -> None:
        """Assigns the partitions of the output topics that exist and are not yet assigned
        (new ones from `lookback_s` ago). Once every topic is there, this looks again only
        every `TOPIC_RECHECK_S`. Raises BrokerUnreachable."""
        now = time.monotonic()
        if self._checked_at is not None and now - self._checked_at < TOPIC_RECHECK_S:
            return
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                **self._access.client_config(
                    enable_auto_commit=False, fetch_max_wait_ms=FETCH_MAX_WAIT_MS
                )
            )
        existing = self._access.topics()
        wanted = {
            TopicPartition(topic, p)
            for topic in self._kind_of_topic
            for p in existing.get(topic, ())
        }
        assigned = set(self._consumer.assignment())
        new = wanted - assigned
        if set(self._kind_of_topic) <= set(existing):
            self._checked_at = now
        if not new:
            return
        self._consumer.assign(sorted(wanted | assigned))
        since = self._clock_ms() - self._lookback_ms
        starts = self._consumer.offsets_for_times({tp: since for tp in new})
        ends = self._consumer.end_offsets(list(new))
        for tp in new:
            found = starts.get(tp)
            self._consumer.seek(tp, found.offset if found is not None else ends[tp])

    def poll(self) -> List[Tuple[str, Dict[str, Any], int]]:
        """Reads what is there, waiting up to `POLL_TIMEOUT_MS`: (kind, fields, record
        timestamp ms) of each record that decodes as its topic's kind, for `apply`."""
        if self._consumer is None or not self._consumer.assignment():
            return []
        try:
            batches = self._consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
        except (KafkaError, OSError) as error:
            raise BrokerUnreachable(unreachable_message(self._access.bootstrap, error)) from None
        decoded = []
        for tp, records in batches.items():
            kind = self._kind_of_topic[tp.topic]
            for record in records:
                fields = decode_kind(record.value, kind)
                if fields is None:
                    self.undecodable += 1
                else:
                    decoded.append((kind, fields, record.timestamp))
        return decoded

    def apply(self, decoded: List[Tuple[str, Dict[str, Any], int]]) -> None:
        """Folds what `poll` returned into the view."""
        read_at = self._clock_ms()
        for kind, fields, timestamp in decoded:
            if kind == ALERT:
                self._view.add_alert(fields, timestamp, read_at)
            elif kind == METRIC:
                self._view.add_metric(fields)
            else:
                self._view.add_dead_letter(fields)

    def request_rate(self) -> float:
        """Requests per second the tail consumer sends (fetches, metadata, offsets), as
        kafka-python's own metrics measure it (over its last 30 s or so)."""
        if self._consumer is None:
            return 0.0
        rate = self._consumer.metrics().get('consumer-metrics', {}).get('request-rate')
        return float(rate or 0.0)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
