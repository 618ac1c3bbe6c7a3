"""A generated traffic run on its own topics, and reading the streaming pipeline's outputs."""
import json
import pathlib
from typing import Any, Dict, List, NamedTuple

import fastavro

from connectors.kafka_topics import end_offsets, ensure_topics
from pipelines.generator.config import TrafficConfig
from pipelines.generator.ground_truth import GroundTruth
from pipelines.generator.plan import TrafficPlan, plan_traffic
from pipelines.generator.producer import read_range
from pipelines.generator.reference_data import write_reference_data


class StreamingRun(NamedTuple):
    """Topics, folders and the traffic plan of one streaming pipeline run."""
    bootstrap: str
    prefix: str
    reference: pathlib.Path
    archive: pathlib.Path
    plan: TrafficPlan

    @property
    def truth(self) -> GroundTruth:
        return self.plan.ground_truth

    def args(self, *extra: str) -> List[str]:
        return [f'--brokers={self.bootstrap}', f'--orders_topic={self.prefix}.orders',
                f'--alerts_topic={self.prefix}.alerts',
                f'--metrics_topic={self.prefix}.metrics',
                f'--dead_letter_topic={self.prefix}.dlq',
                f'--consumer_group={self.prefix}.group', f'--reference_data={self.reference}',
                f'--archive_path={self.archive}', *extra]


def prepare_run(bootstrap: str, prefix: str, folder: pathlib.Path,
                config: TrafficConfig) -> StreamingRun:
    """Plans the traffic, writes the reference data and creates the topics (empty)."""
    plan = plan_traffic(config)
    reference = folder / 'reference'
    write_reference_data(reference, seed=config.seed, customers=config.customers,
                         products=config.products)
    ensure_topics(bootstrap, {f'{prefix}.{name}': 3
                              for name in ('orders', 'alerts', 'metrics', 'dlq')})
    return StreamingRun(bootstrap, prefix, reference, folder / 'archive', plan)


def read_json_topic(run: StreamingRun, name: str) -> List[Dict]:
    topic = f'{run.prefix}.{name}'
    return [json.loads(value) for _, value in
            read_range(run.bootstrap, topic, {}, end_offsets(run.bootstrap, topic))]


def read_archive(run: StreamingRun, dataset: str) -> List[Dict]:
    return read_avro_files(run.archive, dataset)


def read_avro_files(archive: pathlib.Path, dataset: str) -> List[Dict]:
    """Every record of the archive's closed files of `dataset` (e.g. 'orders')."""
    records: List[Any] = []  # fastavro's records: dicts here
    for path in sorted(archive.rglob(f'{dataset}-*.avro')):
        with open(path, 'rb') as handle:
            records.extend(fastavro.reader(handle))
    return records


def alert_keys(alerts) -> set:
    return {(a['rule'], a['card_id'], tuple(a['order_ids'])) for a in alerts}


def expected_alert_keys(truth: GroundTruth) -> set:
    return {(a.rule, a.card_id, tuple(a.order_ids)) for a in truth.alerts}
