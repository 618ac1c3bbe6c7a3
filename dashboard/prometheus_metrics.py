"""The dashboard's figures for Prometheus, through the official client library.

A collector reads the watcher's counters at each scrape (no second bookkeeping):

| metric | type | labels |
|---|---|---|
| `goldstream_consumer_lag_records` | gauge | group, topic, partition |
| `goldstream_consumer_committed_offset` | gauge | group, topic, partition |
| `goldstream_topic_end_offset` | gauge | topic, partition |
| `goldstream_orders_in_total` | counter | topic: records appended to the orders topic |
| `goldstream_orders_out_total` | counter | group, topic: records the group's offsets passed |
| `goldstream_fraud_alerts_total` | counter | rule: distinct alerts read |
| `goldstream_dead_letters_total` | counter | stage, reason |
| `goldstream_metric_rows_total` | counter | |
| `goldstream_pipeline_up` | gauge | 1 when the verdict is ok or lagging, 0 otherwise |
| `goldstream_dashboard_broker_up` | gauge | 0 while the broker is unreachable |
| `goldstream_dashboard_offset_requests_total` | counter | metadata, offset and group requests |
| `goldstream_dashboard_tail_requests_per_second` | gauge | the output-topic consumer's requests/s |

Counters count from the dashboard's start (the output topics from `--lookback_s` back), so
`rate()` of them gives orders/s in and out, alerts/s and dead letters/s.
"""

from typing import Any, Callable, Dict, Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from dashboard.group_progress import LAGGING, OK, UNREACHABLE


class DashboardCollector(Collector):
    """Turns `Watcher.counters()` into metric families at each scrape.

    Args:
      counters: Returns the watcher's counters (see `Watcher.counters`).
      group: The watched consumer group.
      orders_topic: The orders topic.
    """

    def __init__(
        self, counters: Callable[[], Dict[str, Any]], group: str, orders_topic: str
    ) -> None:
        self._counters, self._group, self._orders_topic = counters, group, orders_topic

    def collect(self) -> Iterable[Metric]:
        figures = self._counters()
        lag = GaugeMetricFamily(
            'goldstream_consumer_lag_records',
            'Records of the topic the consumer group has not committed.',
            labels=['group', 'topic', 'partition'],
        )
        committed = GaugeMetricFamily(
            'goldstream_consumer_committed_offset',
            "The consumer group's committed offset.",
            labels=['group', 'topic', 'partition'],
        )
        end = GaugeMetricFamily(
            'goldstream_topic_end_offset',
            'The offset the next record of the partition will get.',
            labels=['topic', 'partition'],
        )
        for row in figures['partitions']:
            partition = str(row['partition'])
            end.add_metric([row['topic'], partition], row['end_offset'])
            lag.add_metric([self._group, row['topic'], partition], row['lag'])
            if row['committed'] is not None:
                committed.add_metric([self._group, row['topic'], partition], row['committed'])
        yield from (lag, committed, end)
        yield _counter(
            'goldstream_orders_in',
            'Records appended to the orders topic.',
            {(self._orders_topic,): figures['orders_in']},
            ['topic'],
        )
        yield _counter(
            'goldstream_orders_out',
            "Records the consumer group's committed offsets moved over.",
            {(self._group, self._orders_topic): figures['orders_out']},
            ['group', 'topic'],
        )
        yield _counter(
            'goldstream_fraud_alerts',
            'Distinct fraud alerts read, per rule.',
            {(rule,): n for rule, n in figures['alerts_by_rule'].items()},
            ['rule'],
        )
        yield _counter(
            'goldstream_dead_letters',
            'Dead letters read, per stage and reason.',
            {tuple(key.split('/', 1)): n for key, n in figures['dead_letters_by_reason'].items()},
            ['stage', 'reason'],
        )
        yield _counter(
            'goldstream_metric_rows',
            'Window metric rows (panes) read.',
            {(): figures['metric_rows']},
            [],
        )
        yield _gauge(
            'goldstream_pipeline_up',
            '1 when the pipeline moves its offsets (ok or lagging), else 0.',
            1 if figures['verdict'] in (OK, LAGGING) else 0,
        )
        yield _gauge(
            'goldstream_dashboard_broker_up',
            '1 when the dashboard reaches the Kafka broker, else 0.',
            0 if figures['verdict'] == UNREACHABLE else 1,
        )
        yield _counter(
            'goldstream_dashboard_offset_requests',
            'Metadata, offset and group requests the dashboard sent to Kafka.',
            {(): figures['kafka_requests']},
            [],
        )
        yield _gauge(
            'goldstream_dashboard_tail_requests_per_second',
            "Requests per second of the dashboard's output-topic consumer "
            "(kafka-python's own measure).",
            figures['tail_request_rate'],
        )


def _counter(
    name: str, documentation: str, values: Dict[tuple, float], labels: list
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for label_values, value in sorted(values.items()):
        family.add_metric(list(label_values), value)
    return family


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def registry_for(collector: Collector) -> CollectorRegistry:
    """A registry of its own holding `collector` (not the process-wide default one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry's metrics in Prometheus' text format."""
    return generate_latest(registry)
