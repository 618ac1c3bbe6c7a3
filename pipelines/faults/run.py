"""Fault injection on a live job: `kill -9` mid-stream, restart, broker restarts; then count.

docs/delivery.md promises that nothing is lost: every order read ends up archived or
dead-lettered and every alert it triggers reaches the alerts topic, even when the pipeline and
its runner are killed with `kill -9` or the broker restarts, and that a restart with the same
consumer group picks up where durable work ended. This harness checks that from outside the
job, on a `LiveRun` (pipelines/local/live_run.py: topics of its own, the job in a session of its
own):

    run = FaultRun.start(bootstrap, folder, ['--runner=DirectRunner'])
    production = run.produce_in_background(TrafficConfig(...), rate=300)
    production.wait_until_sent(0.4 * production.total, timeout_s=60)
    run.wait_until_archived(production.plan, timeout_s=60)
    run.kill()                       # SIGKILL to the job and its runner; none survives
    recovery_s = run.restart()       # same group, topics and archive folder
    production.wait(timeout_s=120)
    run.settle(timeout_s=90)
    print(run.tally().summary())     # produced, archived, dead-lettered, lost, duplicated...
    run.stop()

`tally()` returns a typed `fault_tally.DeliveryTally` (`as_dict()`, `summary()`);
`pipelines.faults.cycles.run_kill_cycles` repeats the above N times and returns a
`FaultReport` (`table()`, `as_dict()`) for the tests (tests/integration/test_streaming_faults.py)
and the benchmark (bench/faults.py). It measures whatever the pipeline does: it asserts
nothing.
"""

import dataclasses
import pathlib
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from kafka import KafkaConsumer, TopicPartition

from connectors.kafka_topics import committed_offsets, end_offsets
from pipelines.faults.tally import DeliveryTally, ProducedRecord, archived_ids_gone, tally
from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import PlannedRecord, TrafficPlan, plan_traffic
from pipelines.generator.producer import ProduceReport, produce_plan
from pipelines.local.harness import read_archive
from pipelines.local.live_run import OUTPUTS, LiveRun
from pipelines.local.process_tree import kill_job
from pipelines.streaming.pipeline import ORDERS_DATASET

BrokerControl = Callable[[str], None]
"""Stops ('stop') or starts ('start') the broker the job uses, returning once it is done."""
RECOVERY_DEADLINE_S = 300.0
READ_DEADLINE_S = 60.0
POLL_S = 0.25


class Production:
    """A plan being produced at a rate by a thread of its own."""

    def __init__(self, bootstrap: str, topic: str, plan: TrafficPlan, rate: float) -> None:
        self.plan = plan
        self.total = len(plan.records)
        self.sent = 0
        self.report: Optional[ProduceReport] = None
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(
            target=self._produce,
            args=(bootstrap, topic, rate),
            name='fault-run-producer',
            daemon=True,
        )
        self._thread.start()

    def _produce(self, bootstrap: str, topic: str, rate: float) -> None:
        def progress(sent: int) -> None:
            self.sent = sent

        try:
            self.report = produce_plan(bootstrap, topic, self.plan, rate=rate, progress=progress)
        except BaseException as error:  # pylint: disable=broad-except  # re-raised by wait()
            self._error = error

    def wait_until_sent(self, count: float, timeout_s: float) -> None:
        """Returns once `count` records are sent (reported every 256 records).

        Raises:
            RuntimeError: Not within `timeout_s`, or production failed.
        """
        deadline = time.monotonic() + timeout_s
        while self.sent < count:
            if not self._thread.is_alive():
                self.wait(0)  # raises production's error
                raise RuntimeError(f'production ended at {self.sent} of {count:.0f}')
            if time.monotonic() > deadline:
                raise RuntimeError(f'{self.sent} of {count:.0f} records sent in {timeout_s} s')
            time.sleep(POLL_S)

    def wait(self, timeout_s: float) -> ProduceReport:
        """Waits for the whole plan to be sent and acknowledged; returns the report.

        Raises:
            RuntimeError: Not within `timeout_s` (or production failed: from its error).
        """
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError(f'producing {self.total} records took over {timeout_s} s')
        if self._error is not None:
            raise RuntimeError(f'producing failed: {self._error}') from self._error
        assert self.report is not None  # set by the thread unless it failed
        return self.report


class FaultRun:
    """A live job that can be killed and restarted on the same group, topics and archive."""

    def __init__(
        self, live: LiveRun, pipeline_args: Sequence[str], broker: Optional[BrokerControl] = None
    ) -> None:
        self.live = live
        self.pipeline_args = list(pipeline_args)
        self.broker = broker
        self.plans: List[TrafficPlan] = []
        self.restarts = 0
        self.archived_at_kills: List[List[str]] = []

    @classmethod
    def start(
        cls,
        bootstrap: str,
        folder: pathlib.Path,
        pipeline_args: Sequence[str] = (),
        broker: Optional[BrokerControl] = None,
        **live_args,
    ) -> 'FaultRun':
        """Starts the job as `LiveRun.start` does (which waits until it reads)."""
        return cls(
            LiveRun.start(bootstrap, folder, pipeline_args, **live_args), pipeline_args, broker
        )

    @property
    def bootstrap(self) -> str:
        return self.live.bootstrap

    def plan(self, config: TrafficConfig) -> TrafficPlan:
        """Plans `config` with event time starting now and keeps it for `tally`.

        Raises:
            ValueError: An earlier plan of this run has the same seed (order ids and gen ids
                would repeat) or card prefix (the cards' histories would mix).
        """
        for earlier in self.plans:
            if (
                config.seed == earlier.config.seed
                or config.card_prefix == earlier.config.card_prefix
            ):
                raise ValueError(
                    'each plan of a run needs a seed and a card_prefix of its '
                    f'own; {config.seed}/{config.card_prefix} repeats one'
                )
        plan = plan_traffic(dataclasses.replace(config, start_ms=int(time.time() * 1000)))
        self.plans.append(plan)
        return plan

    def produce_in_background(self, config: TrafficConfig, rate: float) -> Production:
        """Starts producing a plan of `config` at `rate`/s; returns at once."""
        return Production(self.bootstrap, self.live.topic('orders'), self.plan(config), rate)

    def produce(self, config: TrafficConfig, rate: float) -> ProduceReport:
        """Produces a plan of `config` at `rate`/s and returns when it is acknowledged."""
        return produce_plan(self.bootstrap, self.live.topic('orders'), self.plan(config), rate=rate)

    def wait_until_archived(self, plan: TrafficPlan, timeout_s: float) -> bool:
        """Polls until the archive holds an order of `plan`: the job is mid-stream, with
        durable output of the plan behind it and more to come. Returns False on timeout."""
        order_ids = {r.order_id for r in plan.records if r.order_id is not None}
        return self.live.poll(
            lambda: not order_ids.isdisjoint(self.archived_order_ids()), timeout_s, None
        )

    def kill(self) -> Tuple[int, ...]:
        """SIGKILL to the job's every process (its runner too); returns when none is alive.

        Returns:
            The pids killed.
        """
        killed = kill_job(self.live.process.pid)
        self.live.process.wait(30)
        self.archived_at_kills.append(self.archived_order_ids())
        return killed

    def restart(self, timeout_s: float = RECOVERY_DEADLINE_S) -> float:
        """Starts the job again (same group, topics and archive folder) and waits for its
        first new output record or committed offset.

        Returns:
            The recovery time: seconds from the launch to that first sign of progress.

        Raises:
            RuntimeError: The job is still running, ended, or made no progress in time.
        """
        if self.live.running():
            raise RuntimeError('kill the job before restarting it')
        before = self._progress_marks()
        self.restarts += 1
        self.live = LiveRun.launch(
            self.bootstrap,
            self.live.folder,
            self.live.prefix,
            self.pipeline_args,
            f'pipeline-restart-{self.restarts}.log',
        )
        launched = time.monotonic()
        self.live.poll(
            lambda: self._moved_on(before),
            timeout_s,
            'the restarted job produced nothing and committed nothing',
        )
        return time.monotonic() - launched

    def restart_broker(self) -> None:
        """Stops and starts the broker under the running job.

        Raises:
            RuntimeError: The run was started without a `broker` control.
        """
        if self.broker is None:
            raise RuntimeError('this run has no broker control (FaultRun.start(broker=...))')
        self.broker('stop')
        self.broker('start')

    def _progress_marks(self) -> Tuple[Dict[str, int], Dict[int, int]]:
        ends = {
            name: sum(end_offsets(self.bootstrap, self.live.topic(name)).values())
            for name in OUTPUTS
        }
        return ends, committed_offsets(self.bootstrap, self.live.group, self.live.topic('orders'))

    def _moved_on(self, before: Tuple[Dict[str, int], Dict[int, int]]) -> bool:
        ends, committed = self._progress_marks()
        return any(ends[name] > before[0][name] for name in OUTPUTS) or any(
            offset > before[1].get(p, 0) for p, offset in committed.items()
        )

    def settle(self, timeout_s: float, quiet_s: float = 15.0, stall_s: float = 45.0) -> bool:
        """Waits until everything is accounted for, or the outputs stop changing: for
        `quiet_s` once the job has committed every partition to the end of the orders topic
        (nothing more is coming), or for `stall_s` when it has not; at most `timeout_s`.

        Returns:
            True if everything was accounted for or the group caught up and the outputs
            stayed quiet; False if the group never caught up (the tally may be incomplete).
        """
        deadline = time.monotonic() + timeout_s
        target = end_offsets(self.bootstrap, self.live.topic('orders'))
        last, quiet_since = None, time.monotonic()
        while time.monotonic() < deadline:
            committed = committed_offsets(
                self.bootstrap, self.live.group, self.live.topic('orders')
            )
            caught_up = all(committed.get(p, 0) >= end for p, end in target.items())
            counts = self.tally()
            if counts.complete:
                return True
            marks = (
                counts.archived,
                counts.dead_lettered,
                counts.alert_records,
                counts.duplicated,
                caught_up,
            )
            if marks != last:
                last, quiet_since = marks, time.monotonic()
            quiet_for = time.monotonic() - quiet_since
            if quiet_for >= (quiet_s if caught_up else stall_s):
                return caught_up
            if not self.live.running():
                raise RuntimeError(f'the job ended:\n{self.live.log_tail()}')
            time.sleep(POLL_S * 4)
        return False

    def produced_records(self) -> List[ProducedRecord]:
        """Every record of the orders topic, with the plan's order id where it has one."""
        planned: Dict[Optional[str], PlannedRecord] = {
            r.gen_id: r for plan in self.plans for r in plan.records
        }
        records = []
        for topic, partition, offset, gen_id in read_headers(
            self.bootstrap, self.live.topic('orders')
        ):
            record = planned.get(gen_id)
            records.append(
                ProducedRecord(
                    topic,
                    partition,
                    offset,
                    gen_id,
                    record.order_id if record is not None else None,
                )
            )
        return records

    def archived_order_ids(self) -> List[str]:
        """The order id of every order in the archive's files, repeats included."""
        return read_order_ids(self.live.folder / 'archive')

    def tally(self, plan: Optional[TrafficPlan] = None) -> DeliveryTally:
        """Counts what became of the records of `plan` (default: every record of the orders
        topic, LiveRun's start-up probe included) and of its alerts (default: all plans';
        with a plan, only the alert records on its orders count)."""
        produced = self.produced_records()
        alerts = [a.value for a in self.live.read('alerts')]
        if plan is not None:
            gen_ids = {r.gen_id for r in plan.records}
            produced = [r for r in produced if r.gen_id in gen_ids]
            order_ids = {r.order_id for r in plan.records}
            alerts = [a for a in alerts if not order_ids.isdisjoint(a['order_ids'])]
        dead_letters = [
            (d.value['topic'], d.value['partition'], d.value['offset'])
            for d in self.live.read('dlq')
        ]
        expected = [
            a for p in ([plan] if plan is not None else self.plans) for a in p.ground_truth.alerts
        ]
        return tally(produced, self.archived_order_ids(), dead_letters, alerts, expected)

    def archive_gone(self) -> int:
        """Orders the archive held at some kill that it no longer holds."""
        now = self.archived_order_ids()
        return sum(archived_ids_gone(before, now) for before in self.archived_at_kills)

    def stop(self) -> None:
        """Stops the job (Ctrl-C, then SIGKILL to its session if need be)."""
        self.live.stop()


def read_headers(bootstrap: str, topic: str) -> List[Tuple[str, int, int, Optional[str]]]:
    """(topic, partition, offset, gen_id header or None) of every record of `topic` now.

    Raises:
        TimeoutError: The topic was not read to its end within READ_DEADLINE_S.
    """
    ends = {p: o for p, o in end_offsets(bootstrap, topic).items() if o > 0}
    if not ends:
        return []
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id='goldstream-fault-run'
    )
    records = []
    try:
        partitions = [TopicPartition(topic, p) for p in ends]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + READ_DEADLINE_S
        while any(consumer.position(tp) < ends[tp.partition] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f'reading {topic} took over {READ_DEADLINE_S:.0f} s')
            for batch in consumer.poll(timeout_ms=200).values():
                for message in batch:
                    if message.offset < ends[message.partition]:
                        gen_id = dict(message.headers).get('gen_id')
                        records.append(
                            (
                                topic,
                                message.partition,
                                message.offset,
                                gen_id.decode('ascii') if gen_id else None,
                            )
                        )
    finally:
        consumer.close()
    return records


def read_order_ids(archive: pathlib.Path) -> List[str]:
    """The `order_id` of every record in the archive's orders files, repeats included."""
    return [record['order_id'] for record in read_archive(archive, ORDERS_DATASET)]
