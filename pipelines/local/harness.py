"""Run and verify: generated traffic through the streaming pipeline, checked against its
ground truth. The one copy of this loop, used by the demo (pipelines/demo.py), the runner
benchmark (bench/runners.py) and the integration tests (tests/integration/); its topic names
and archive reader also serve bench/end_to_end.py, pipelines/local/live_run.py and
pipelines/faults/run.py:

    topics = Topics.fresh('bench.runners')             # or Topics.with_prefix / Topics(...)
    run = prepare_run(bootstrap, topics, folder, TrafficConfig(count=6_000, seed=7))
    run.produce()
    run_bounded(run.args('--runner=PrismRunner', '--bounded', '--start_from=earliest'))
    verdict = compare(run.truth, run.outputs())         # read_outputs(...) with a `since`
    assert verdict.ok, verdict.problems()

`prepare_run` plans the traffic from a config and seed, writes the reference data and creates
the topics; `read_outputs` reads the alerts, metrics and dead-letter topics and the Avro
archive back; `compare` returns a `Verdict` that lists what differs (missing and unexpected
alerts, metric rows, dead letters by reason, records in = archived + dead-lettered), not just
whether something does. A live run (the job in a process of its own) is
pipelines/local/live_run.py's.
"""

import collections
import dataclasses
import json
import pathlib
import time
import uuid
from typing import Any, Callable, Counter, Dict, List, Mapping, Optional, Sequence, Set, Tuple

import apache_beam as beam
import fastavro

from connectors.kafka_security import KafkaSecurity
from connectors.kafka_topics import end_offsets, ensure_topics
from pipelines.generator.config import TrafficConfig
from pipelines.generator.ground_truth import GroundTruth, dead_letter_reasons, on_time_panes
from pipelines.generator.plan import TrafficPlan, plan_traffic
from pipelines.generator.producer import ProduceReport, produce_plan, read_range
from pipelines.generator.reference_data import write_reference_data
from pipelines.streaming import pipeline as streaming

PARTITIONS = 3
AlertKey = Tuple[str, str, Tuple[str, ...]]
"""(rule, card id, order ids): what an alert is about, whatever its id."""


@dataclasses.dataclass(frozen=True)
class Topics:
    """The orders topic a run reads and the three topics it writes."""

    orders: str
    alerts: str
    metrics: str
    dlq: str

    @classmethod
    def with_prefix(cls, prefix: str, orders: Optional[str] = None) -> 'Topics':
        """`<prefix>.orders`, `<prefix>.alerts`, `<prefix>.metrics`, `<prefix>.dlq`; `orders`
        names another orders topic (runs that share one input)."""
        return cls(
            orders or f'{prefix}.orders', f'{prefix}.alerts', f'{prefix}.metrics', f'{prefix}.dlq'
        )

    @classmethod
    def fresh(cls, label: str) -> 'Topics':
        """Topics no earlier run used: `<label>.<8 random hex digits>.orders`..."""
        return cls.with_prefix(f'{label}.{uuid.uuid4().hex[:8]}')

    def outputs(self) -> Dict[str, str]:
        """'alerts', 'metrics' and 'dlq' -> topic name."""
        return {'alerts': self.alerts, 'metrics': self.metrics, 'dlq': self.dlq}

    def names(self) -> Tuple[str, ...]:
        return self.orders, self.alerts, self.metrics, self.dlq

    def pipeline_args(self) -> List[str]:
        """The streaming pipeline's options that name these topics."""
        return [
            f'--orders_topic={self.orders}',
            f'--alerts_topic={self.alerts}',
            f'--metrics_topic={self.metrics}',
            f'--dead_letter_topic={self.dlq}',
        ]


def create_topics(
    bootstrap: str,
    topics: Topics,
    partitions: int = PARTITIONS,
    security: Optional[KafkaSecurity] = None,
) -> None:
    """Creates the topics that do not exist yet (an existing one is left as it is)."""
    ensure_topics(bootstrap, {name: partitions for name in topics.names()}, security=security)


@dataclasses.dataclass(frozen=True)
class StreamingRun:
    """Topics, folders and the traffic plan of one streaming pipeline run."""

    bootstrap: str
    topics: Topics
    reference: pathlib.Path
    archive: pathlib.Path
    plan: TrafficPlan
    security: KafkaSecurity = dataclasses.field(default_factory=KafkaSecurity)

    @property
    def truth(self) -> GroundTruth:
        return self.plan.ground_truth

    @property
    def prefix(self) -> str:
        """The orders topic's name less `.orders` (a run's other names start with it)."""
        return self.topics.orders.rsplit('.', 1)[0]

    @property
    def group(self) -> str:
        """The consumer group `args` names unless told another."""
        return f'{self.prefix}.group'

    def args(self, *extra: str) -> List[str]:
        """The streaming pipeline's options for this run, then `extra` (which may name
        another `--consumer_group`: the last one counts)."""
        return [
            f'--brokers={self.bootstrap}',
            *self.topics.pipeline_args(),
            f'--consumer_group={self.group}',
            f'--reference_data={self.reference}',
            f'--archive_path={self.archive}',
            *self.security.to_arguments(),
            *extra,
        ]

    def produce(
        self, progress: Optional[Callable[[int], None]] = None, **produce_args
    ) -> ProduceReport:
        """Produces the whole plan to the orders topic (as fast as the broker takes it)."""
        return produce_plan(
            self.bootstrap,
            self.topics.orders,
            self.plan,
            progress=progress,
            security=self.security,
            **produce_args,
        )

    def read(self, kind: str) -> List[dict]:
        """The JSON values on the output topic `kind` ('alerts', 'metrics', 'dlq') so far."""
        return read_json_topic(self.bootstrap, self.topics.outputs()[kind], security=self.security)

    def outputs(self) -> 'Outputs':
        """The output topics from their start, and the archive."""
        return read_outputs(self.bootstrap, self.topics, self.archive, security=self.security)


def prepare_run(
    bootstrap: str,
    topics: Topics,
    folder: pathlib.Path,
    config: TrafficConfig,
    security: Optional[KafkaSecurity] = None,
    partitions: int = PARTITIONS,
) -> StreamingRun:
    """Plans the traffic, writes the reference data to `<folder>/reference` and creates the
    topics; the archive goes to `<folder>/archive`. Produces nothing."""
    security = security or KafkaSecurity()
    plan = plan_traffic(config)
    reference = folder / 'reference'
    write_reference_data(
        reference, seed=config.seed, customers=config.customers, products=config.products
    )
    create_topics(bootstrap, topics, partitions, security)
    return StreamingRun(bootstrap, topics, reference, folder / 'archive', plan, security)


def run_bounded(argv: Sequence[str], module=streaming) -> float:
    """Runs `module`'s pipeline (the streaming one unless told) with `argv` to the end;
    returns the wall seconds it took, start-up included."""
    started = time.perf_counter()
    options = module.pipeline_options(list(argv))
    with beam.Pipeline(options=options) as pipeline:
        module.build(pipeline, options)
    return time.perf_counter() - started


@dataclasses.dataclass(frozen=True)
class Outputs:
    """What a run wrote: its output topics (JSON values) and its archive."""

    alerts: List[dict]
    metrics: List[dict]
    dead_letters: List[dict]
    archived_orders: List[dict]
    archived_dead_letters: List[dict]


def read_json_topic(
    bootstrap: str,
    topic: str,
    since: Optional[Mapping[int, int]] = None,
    security: Optional[KafkaSecurity] = None,
) -> List[dict]:
    """The JSON values on `topic` from the offsets `since` (the start when None) to its end
    now, in partition then offset order."""
    ends = end_offsets(bootstrap, topic, security)
    return [
        json.loads(value)
        for _, value in read_range(bootstrap, topic, since or {}, ends, security=security)
    ]


def read_archive(archive: pathlib.Path, dataset: str, attempts: int = 3) -> List[dict]:
    """Every record of the archive's closed files of `dataset` (`streaming.ORDERS_DATASET`
    or `streaming.DEAD_LETTERS_DATASET`); a file appears whole (the sink writes under a
    temporary name and renames). The archive of a live job may change while it is listed:
    a file gone before it was opened makes the whole read start again.

    Raises:
        RuntimeError: Files kept vanishing over `attempts` reads.
    """
    for _attempt in range(attempts):
        try:
            records: List[Any] = []  # fastavro's records: dicts here
            for path in sorted(pathlib.Path(archive).rglob(f'{dataset}-*.avro')):
                with open(path, 'rb') as handle:
                    records.extend(fastavro.reader(handle))
            return records
        except FileNotFoundError:
            continue
    raise RuntimeError(f'the archive under {archive} kept changing while read')


def topic_ends(
    bootstrap: str, topics: Topics, security: Optional[KafkaSecurity] = None
) -> Dict[str, Dict[int, int]]:
    """'alerts', 'metrics', 'dlq' -> their end offsets now: a `since` for `read_outputs` that
    leaves out what earlier runs wrote to the same topics."""
    return {
        kind: end_offsets(bootstrap, topic, security) for kind, topic in topics.outputs().items()
    }


def read_outputs(
    bootstrap: str,
    topics: Topics,
    archive: pathlib.Path,
    since: Optional[Mapping[str, Mapping[int, int]]] = None,
    security: Optional[KafkaSecurity] = None,
) -> Outputs:
    """Reads the output topics (from `since`, see `topic_ends`; else from the start) and the
    archive of a run."""

    def topic(kind: str) -> List[dict]:
        return read_json_topic(bootstrap, topics.outputs()[kind], (since or {}).get(kind), security)

    return Outputs(
        topic('alerts'),
        topic('metrics'),
        topic('dlq'),
        read_archive(archive, streaming.ORDERS_DATASET),
        read_archive(archive, streaming.DEAD_LETTERS_DATASET),
    )


def alert_key(alert: Mapping) -> AlertKey:
    """The key of an alert JSON row."""
    return alert['rule'], alert['card_id'], tuple(alert['order_ids'])


def expected_alert_keys(truth: GroundTruth) -> Set[AlertKey]:
    """The keys of the ground truth's alerts."""
    return {(a.rule, a.card_id, tuple(a.order_ids)) for a in truth.alerts}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How a bounded run's outputs differ from the ground truth (`compare` makes it).

    Alerts are at least once: a repeated alert id is no difference (`alert_repeats` counts
    them). An alert is missing when its id or its (rule, card, order ids) is not among the
    outputs, unexpected when its id or key is not in the ground truth.
    """

    alerts_expected: int
    missing_alerts: Tuple[str, ...]
    unexpected_alerts: Tuple[str, ...]
    alert_repeats: int
    metric_rows_expected: int
    metric_rows_differing: int
    metric_rows_unexpected: int
    dead_letters_expected: Counter[str]
    dead_letters_found: Counter[str]
    records_in: int
    valid_orders: int
    archived_orders: int
    archived_dead_letters: int
    distinct_archived_orders: int

    @property
    def alerts_agree(self) -> bool:
        return not self.missing_alerts and not self.unexpected_alerts

    @property
    def metrics_agree(self) -> bool:
        return not self.metric_rows_differing and not self.metric_rows_unexpected

    @property
    def dead_letters_agree(self) -> bool:
        return self.dead_letters_found == self.dead_letters_expected

    @property
    def balanced(self) -> bool:
        """Records in = archived orders + archived dead letters."""
        return self.archived_orders + self.archived_dead_letters == self.records_in

    @property
    def archive_agrees(self) -> bool:
        """Balanced, and every valid order archived once."""
        return self.balanced and self.distinct_archived_orders == self.valid_orders

    @property
    def ok(self) -> bool:
        return (
            self.alerts_agree
            and self.metrics_agree
            and self.dead_letters_agree
            and self.archive_agrees
        )

    def problems(self) -> List[str]:
        """One line per disagreement (empty: none)."""
        problems = []
        if not self.alerts_agree:
            problems.append(
                f'alert ids {self.alerts_expected - len(self.missing_alerts)} of '
                f'{self.alerts_expected}, {len(self.unexpected_alerts)} unexpected'
                f'{_sample(" missing", self.missing_alerts)}'
                f'{_sample(" unexpected", self.unexpected_alerts)}'
            )
        if not self.dead_letters_agree:
            problems.append(
                f'dead letters {sum(self.dead_letters_found.values())} of '
                f'{sum(self.dead_letters_expected.values())} (or other reasons)'
            )
        if not self.metrics_agree:
            problems.append(
                f'metrics: {self.metric_rows_differing} of '
                f'{self.metric_rows_expected} window/product rows differ, '
                f'{self.metric_rows_unexpected} unexpected'
            )
        if not self.archive_agrees:
            problems.append(
                f'archive: {self.archived_orders + self.archived_dead_letters} '
                f'records of {self.records_in}, {self.distinct_archived_orders} '
                f'distinct orders of {self.valid_orders}'
            )
        return problems


def _sample(label: str, ids: Sequence[str], count: int = 3) -> str:
    return f';{label} {", ".join(ids[:count])}{"..." if len(ids) > count else ""}' if ids else ''


def compare(truth: GroundTruth, outputs: Outputs) -> Verdict:
    """What a bounded run's outputs (`read_outputs`) make of its ground truth. In a bounded
    run every valid order is on time, so its ON_TIME metric panes must equal
    `truth.window_totals()`."""
    expected_ids = {alert.alert_id for alert in truth.alerts}
    expected_keys = expected_alert_keys(truth)
    found_ids = {alert['alert_id'] for alert in outputs.alerts}
    found_keys = {alert_key(alert) for alert in outputs.alerts}
    missing = sorted(
        {
            a.alert_id
            for a in truth.alerts
            if a.alert_id not in found_ids
            or (a.rule, a.card_id, tuple(a.order_ids)) not in found_keys
        }
    )
    unexpected = sorted(
        {
            a['alert_id']
            for a in outputs.alerts
            if a['alert_id'] not in expected_ids or alert_key(a) not in expected_keys
        }
    )
    on_time = on_time_panes(outputs.metrics)
    expected_metrics = truth.window_totals()
    return Verdict(
        alerts_expected=len(expected_ids),
        missing_alerts=tuple(missing),
        unexpected_alerts=tuple(unexpected),
        alert_repeats=len(outputs.alerts) - len(found_ids),
        metric_rows_expected=len(expected_metrics),
        metric_rows_differing=sum(
            on_time.get(key) != value for key, value in expected_metrics.items()
        ),
        metric_rows_unexpected=len(set(on_time) - set(expected_metrics)),
        dead_letters_expected=collections.Counter(truth.dead_letters.by_reason),
        dead_letters_found=dead_letter_reasons(outputs.dead_letters),
        records_in=truth.orders.total,
        valid_orders=truth.orders.valid,
        archived_orders=len(outputs.archived_orders),
        archived_dead_letters=len(outputs.archived_dead_letters),
        distinct_archived_orders=len({o['order_id'] for o in outputs.archived_orders}),
    )
