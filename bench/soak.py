"""Soak: the streaming pipeline unbounded for `--minutes` at `--rate` orders/s.

Traffic is produced live in 10-second chunks (each its own plan, with fraud). Every
`--sample_s` the table gets a row: consumer lag (orders produced less the offsets the job
committed), the resident memory of the job's processes (the launcher with its SDK harness,
and the runner it started: Prism or Flink's JVM), the produce-to-alert latency of the
alerts that arrived since the previous row (median and max), and the alerts delivered so
far of those expected. At the end: every expected alert delivered?

The job commits an offset once its order is archived (docs/delivery.md), so the consumer lag
includes up to `--archive_flush_s` of traffic by design; the alert latency is the read path's
own delay.

  ./run_local.sh broker start && .venv/bin/python -m bench.soak --minutes=30 --rate=1000
"""

import os
import pathlib
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional, Set

from kafka import KafkaConsumer, TopicPartition

from bench.live_latency import RUNNERS
from bench.results_table import context, publish
from connectors.kafka_config import default_brokers
from connectors.kafka_topics import end_offsets
from pipelines.command_line import CommandParser, run_command
from pipelines.generator.config import TrafficConfig
from pipelines.local.live_run import LiveRun
from pipelines.local.process_tree import job_rss_bytes

CHUNK_S = 10


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Feeder(threading.Thread):
    """Produces chunk after chunk at the rate; remembers the alerts they must raise."""

    def __init__(self, run: LiveRun, rate: int, seconds: float) -> None:
        super().__init__(daemon=True, name='soak-traffic')
        self.live, self.rate, self.seconds = run, rate, seconds
        self.expected: Set[str] = set()
        self.due_ms: Dict[str, int] = {}  # alert id -> send time of its last order
        self.produced = 0
        self.error: Optional[Exception] = None

    def run_chunks(self) -> None:
        deadline = time.monotonic() + self.seconds
        chunk = 0
        while time.monotonic() < deadline:
            config = TrafficConfig(
                count=self.rate * CHUNK_S,
                seed=5000 + chunk,
                events_per_second=self.rate,
                fraud_scenarios=1,
                late_orders=0,
                too_late_orders=0,
                card_prefix=f'card{chunk}',
            )
            plan, report = self.live.produce(config, self.rate)
            self.expected |= {alert.alert_id for alert in plan.ground_truth.alerts}
            sent_at = report.by_order_id(plan.records)
            self.due_ms.update(
                {
                    alert.alert_id: max(sent_at[o] for o in alert.order_ids)
                    for alert in plan.ground_truth.alerts
                }
            )
            self.produced += report.sent
            chunk += 1

    def run(self) -> None:  # threading.Thread's entry point
        try:
            self.run_chunks()
        except Exception as error:  # pylint: disable=broad-except  # reported in the table
            self.error = error


def latencies_since(records, due_ms: Dict[str, int], since_ms: int) -> List[int]:
    """Produce-to-alert latency (ms) of the expected alerts first written after `since_ms`."""
    first: Dict[str, int] = {}
    for record in records:
        alert_id = record.value['alert_id']
        first[alert_id] = min(first.get(alert_id, record.timestamp_ms), record.timestamp_ms)
    return sorted(at - due_ms[a] for a, at in first.items() if a in due_ms and at > since_ms)


def committed(run: LiveRun, consumer: KafkaConsumer) -> int:
    topic = run.topic('orders')
    return sum(
        consumer.committed(TopicPartition(topic, p)) or 0 for p in end_offsets(run.bootstrap, topic)
    )


def main(argv=None) -> None:
    parser = CommandParser('python -m bench.soak', __doc__)
    parser.add_argument('--brokers', default=default_brokers(), help='Kafka host:port')
    parser.add_argument('--runner', default='DirectRunner', choices=sorted(RUNNERS))
    parser.add_argument('--rate', type=int, default=1000)
    parser.add_argument('--minutes', type=float, default=30)
    parser.add_argument('--sample_s', type=float, default=60)
    parser.add_argument(
        '--archive_flush_s',
        type=float,
        default=None,
        help="the job's --archive_flush_s (its default when not given)",
    )
    parser.add_argument('--name', default='soak')
    args = parser.parse_args(argv)
    folder = pathlib.Path(tempfile.mkdtemp(prefix='goldstream-soak-'))
    job_args = list(RUNNERS[args.runner])
    if args.archive_flush_s is not None:
        job_args.append(f'--archive_flush_s={args.archive_flush_s:g}')
    run = LiveRun.start(args.brokers, folder, job_args)
    consumer = KafkaConsumer(
        bootstrap_servers=args.brokers, group_id=run.topic('group'), enable_auto_commit=False
    )
    feeder = Feeder(run, args.rate, args.minutes * 60)
    rows: List[list] = []
    started = time.monotonic()
    since_ms = int(time.time() * 1000)
    feeder.start()
    try:
        while feeder.is_alive():
            time.sleep(args.sample_s)  # a benchmark's sampling interval, not a wait for a result
            produced = sum(end_offsets(args.brokers, run.topic('orders')).values())
            lag = max(0, produced - committed(run, consumer))
            alerts = run.read('alerts')
            delivered = len(feeder.expected & {r.value['alert_id'] for r in alerts})
            fresh = latencies_since(alerts, feeder.due_ms, since_ms)
            since_ms = max([since_ms] + [r.timestamp_ms for r in alerts])
            rows.append(
                [
                    round((time.monotonic() - started) / 60, 1),
                    produced,
                    lag,
                    round(job_rss_bytes(run.process.pid) / 1e6),
                    f'{fresh[len(fresh) // 2]:,}' if fresh else '-',
                    f'{fresh[-1]:,}' if fresh else '-',
                    f'{delivered} of {len(feeder.expected)}',
                    round(os.getloadavg()[0], 1),
                ]
            )
            log(' | '.join(map(str, rows[-1])))
            if not run.running():
                log('the job ended:\n' + run.log_tail())
                break
        delivered_ids = set(run.wait_for_alerts(feeder.expected, timeout_s=120))
        final = f'{len(feeder.expected & delivered_ids)} of {len(feeder.expected)}'
    finally:
        running = run.running()
        run.stop()
        consumer.close()
    path = publish(
        args.name,
        f'Soak: {args.runner} at {args.rate:,} orders/s',
        [
            'minute',
            'orders produced',
            'consumer lag',
            'job RSS MB',
            'alert latency p50 ms',
            'alert latency max ms',
            'alerts delivered',
            'load (1 min)',
        ],
        rows,
        context(
            runner=args.runner,
            rate=args.rate,
            minutes=args.minutes,
            archive_flush_s=args.archive_flush_s or 'default',
            alerts_delivered_at_end=final,
            job_running_at_end=running,
            feeder_error=repr(feeder.error) if feeder.error else None,
        ),
    )
    log(f'written to {path}')


if __name__ == '__main__':
    sys.exit(run_command(main))
