"""A live run: the streaming pipeline in a process of its own, fed traffic at a rate.

What a user does with goldstream, made repeatable for the tests, the benchmarks and the demo:
fresh topics, the reference data, `python -m pipelines.streaming` unbounded in a subprocess,
the generator producing with event time = wall clock, and the output topics read back with
their Kafka timestamps, so that "produce to alert" is measured from outside the pipeline.

    run = LiveRun.start(bootstrap, folder, ['--runner=DirectRunner'])
    plan, report = run.produce(TrafficConfig(...), rate=1000)
    alerts = run.wait_for_alerts(expected_ids, timeout_s=60)
    run.stop()

`GOLDSTREAM_LIVE_LAUNCHER` replaces `<python> -m pipelines.streaming` as the command that
starts the job (e.g. a script that sets up logging first, to see a job server's own log).
"""

import dataclasses
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import uuid
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.kafka_topics import committed_offsets, end_offsets
from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import TrafficPlan, plan_traffic
from pipelines.generator.producer import ProduceReport, produce_plan
from pipelines.generator.reference_data import write_reference_data
from pipelines.local.harness import Topics, create_topics

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUTS = ('alerts', 'metrics', 'dlq')
STOP_DEADLINE_S = 60


class OutputRecord(NamedTuple):
    """A record of an output topic: its JSON value and Kafka (create) timestamp."""

    value: dict
    timestamp_ms: int
    partition: int
    offset: int


class LiveRun:
    """One unbounded streaming job on topics of its own (`<prefix>.orders`, `.alerts`...)."""

    def __init__(
        self,
        bootstrap: str,
        folder: pathlib.Path,
        prefix: str,
        process: subprocess.Popen,
        log_path: pathlib.Path,
    ) -> None:
        self.bootstrap = bootstrap
        self.folder = folder
        self.prefix = prefix
        self.process = process
        self.log_path = log_path
        self.started_at = time.monotonic()

    @classmethod
    def start(
        cls,
        bootstrap: str,
        folder: pathlib.Path,
        pipeline_args: Sequence[str] = (),
        partitions: int = 3,
        seed: int = 7,
        customers: int = 500,
        products: int = 50,
        prefix: Optional[str] = None,
        live_timeout_s: float = 300.0,
    ) -> 'LiveRun':
        """Creates the topics and reference data, starts the job, waits until it reads.

        Raises:
            RuntimeError: The job ended, or read nothing within `live_timeout_s`; the
                message has the tail of its log.
        """
        prefix = prefix or f'live.{uuid.uuid4().hex[:8]}'
        folder.mkdir(parents=True, exist_ok=True)
        write_reference_data(
            folder / 'reference', seed=seed, customers=customers, products=products
        )
        create_topics(bootstrap, Topics.with_prefix(prefix), partitions)
        run = cls.launch(bootstrap, folder, prefix, pipeline_args)
        try:
            run._wait_until_reading(live_timeout_s)
        except BaseException:
            run.stop()
            raise
        return run

    @classmethod
    def launch(
        cls,
        bootstrap: str,
        folder: pathlib.Path,
        prefix: str,
        pipeline_args: Sequence[str] = (),
        log_name: str = 'pipeline.log',
    ) -> 'LiveRun':
        """Starts the job on the topics, reference data and archive of `prefix` and `folder`,
        which must exist (`start` makes them), in a session of its own; does not wait.

        A job launched again with the same `prefix` and `folder` is the same job restarted:
        same consumer group, topics and archive folder (pipelines/faults/run.py).
        """
        args = [
            *os.environ.get(
                'GOLDSTREAM_LIVE_LAUNCHER', f'{sys.executable} -m pipelines.streaming'
            ).split(),
            f'--brokers={bootstrap}',
            *Topics.with_prefix(prefix).pipeline_args(),
            f'--consumer_group={prefix}.group',
            f'--reference_data={folder / "reference"}',
            f'--archive_path={folder / "archive"}',
            *pipeline_args,
        ]
        log_path = folder / log_name
        with open(log_path, 'wb') as log:
            process = subprocess.Popen(
                args, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return cls(bootstrap, folder, prefix, process, log_path)

    def topic(self, name: str) -> str:
        return f'{self.prefix}.{name}'

    @property
    def group(self) -> str:
        """The job's consumer group."""
        return f'{self.prefix}.group'

    def _wait_until_reading(self, timeout_s: float) -> None:
        """Sends one empty record (a dead letter, EMPTY) and waits until it is on the DLQ."""
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks='all')
        try:
            producer.send(self.topic('orders'), key=b'live-probe', value=b'').get(timeout=30)
        finally:
            producer.close()
        self.poll(
            lambda: sum(end_offsets(self.bootstrap, self.topic('dlq')).values()) > 0,
            timeout_s,
            'the pipeline read nothing',
        )

    def produce(
        self, config: TrafficConfig, rate: float, progress: Optional[Callable[[int], None]] = None
    ) -> Tuple[TrafficPlan, ProduceReport]:
        """Plans `config` with its event time starting now, and produces it at `rate`/s."""
        config = dataclasses.replace(config, start_ms=int(time.time() * 1000))
        plan = plan_traffic(config)
        report = produce_plan(
            self.bootstrap, self.topic('orders'), plan, rate=rate, progress=progress
        )
        return plan, report

    def progress(self) -> str:
        """Where the job's consumer group stands on the orders topic, per partition:
        ``p0 committed/end (lag)``; what to look at when outputs do not arrive."""
        ends = end_offsets(self.bootstrap, self.topic('orders'))
        committed = committed_offsets(self.bootstrap, self.group, self.topic('orders'))
        return ', '.join(
            f'p{p} {committed.get(p, "-")}/{end} (lag {end - committed.get(p, 0)})'
            for p, end in sorted(ends.items())
        )

    def wait_until_caught_up(self, timeout_s: float) -> None:
        """Waits until the group has committed every partition up to where the orders topic
        ended when called (the job finalizes what it read; later records may keep coming).

        Raises:
            RuntimeError: Not within `timeout_s`; the message has the progress per
                partition and the log's tail.
        """
        target = end_offsets(self.bootstrap, self.topic('orders'))

        def caught_up() -> bool:
            committed = committed_offsets(self.bootstrap, self.group, self.topic('orders'))
            return all(committed.get(p, 0) >= end for p, end in target.items() if end > 0)

        if not self.poll(caught_up, timeout_s, None):
            raise RuntimeError(
                f'the job did not catch up within {timeout_s:.0f} s with the '
                f'orders topic (target {target}; now {self.progress()}):\n'
                f'{self.log_tail()}'
            )

    def read(self, name: str) -> List[OutputRecord]:
        """Every record on an output topic so far, JSON-decoded."""
        topic = self.topic(name)
        ends = {p: o for p, o in end_offsets(self.bootstrap, topic).items() if o > 0}
        if not ends:
            return []
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        records = []
        try:
            partitions = [TopicPartition(topic, p) for p in ends]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            remaining = dict(ends)
            deadline = time.monotonic() + 60
            while any(
                consumer.position(TopicPartition(topic, p)) < end for p, end in remaining.items()
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError(f'reading {topic} took over 60 s')
                for batch in consumer.poll(timeout_ms=200).values():
                    for message in batch:
                        if message.offset < ends[message.partition]:
                            records.append(
                                OutputRecord(
                                    json.loads(message.value),
                                    message.timestamp,
                                    message.partition,
                                    message.offset,
                                )
                            )
        finally:
            consumer.close()
        return records

    def wait_for_alerts(
        self, expected_ids: Iterable[str], timeout_s: float
    ) -> Dict[str, OutputRecord]:
        """Polls `fraud.alerts` until every expected alert id is there (or the deadline);
        returns the first record of each alert id seen."""
        expected = set(expected_ids)
        seen: Dict[str, OutputRecord] = {}

        def all_there() -> bool:
            for record in self.read('alerts'):
                seen.setdefault(record.value['alert_id'], record)
            return expected <= set(seen)

        self.poll(all_there, timeout_s, None)
        return seen

    def poll(
        self,
        condition: Callable[[], bool],
        timeout_s: float,
        failure: Optional[str],
        interval_s: float = 0.25,
    ) -> bool:
        """Calls `condition` until it holds or `timeout_s` passes. On timeout: raises
        RuntimeError(`failure` and the log's tail) when `failure` is given, else returns
        False. Raises at once if the job's process ended."""
        deadline = time.monotonic() + timeout_s
        while True:
            if condition():
                return True
            if self.process.poll() is not None:
                raise RuntimeError(
                    f'the pipeline exited with {self.process.returncode}:\n{self.log_tail()}'
                )
            if time.monotonic() > deadline:
                if failure is None:
                    return False
                raise RuntimeError(f'{failure} within {timeout_s:.0f} s:\n{self.log_tail()}')
            time.sleep(interval_s)

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors='replace')
        except OSError:
            return '(no log)'
        return '\n'.join(text.splitlines()[-lines:])

    def stop(self, deadline_s: float = STOP_DEADLINE_S) -> Optional[int]:
        """Ctrl-C to the job (SIGINT), as a user stops it; kills its process group if it has
        not ended within `deadline_s`. Returns its exit code (None if it had to be killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(deadline_s)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(30)
            return None
        # The runner's helpers (Prism, a job server) are in the job's process group.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.process.returncode


def alert_latencies_ms(
    alerts: Dict[str, OutputRecord], plan: TrafficPlan, report: ProduceReport
) -> List[int]:
    """Produce-to-alert latency of each expected alert found: the alert record's Kafka
    timestamp less the send time of the last-sent of its orders."""
    produced_at = report.by_order_id(plan.records)
    latencies = []
    for alert in plan.ground_truth.alerts:
        record = alerts.get(alert.alert_id)
        if record is not None:
            latencies.append(record.timestamp_ms - max(produced_at[o] for o in alert.order_ids))
    return latencies
