"""End-to-end benchmark of the streaming pipeline on the real broker with Prism.

(a) Sustained throughput: orders/s through the whole pipeline (bounded mode) over N generated
    records (default 200,000), median of `--repeats` runs, job start-up included.
(b) Produce-to-alert latency at 500 and 2,000 records/s: the pipeline runs unbounded while the
    generator produces at that rate with event time = wall clock; latency = the alert's
    `detected_at` less the `produced_at_ms` of its last-produced triggering order.
(c) The same job as a plain single-process kafka-python loop (decode, validate, fraud rules,
    5-minute counts), for the throughput ratio.

  ./run_local.sh broker start && .venv/bin/python -m bench.end_to_end
"""
import argparse
import collections
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import apache_beam as beam
from kafka import KafkaConsumer, TopicPartition

from bench.results_table import context, publish
from connectors.kafka_topics import end_offsets, ensure_topics
from connectors.order_codec import OrderDecoder
from pipelines import streaming
from pipelines.reference_data import write_reference_data
from pipelines.traffic_config import TrafficConfig
from pipelines.traffic_plan import plan_traffic
from pipelines.traffic_producer import produce_plan, read_range
from transforms.fraud_rules import CardEvent, FraudThresholds, findings_at
from transforms.validation_rules import validate_order


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Topics:
    def __init__(self, bootstrap: str, folder: pathlib.Path):
        self.bootstrap = bootstrap
        self.prefix = f'bench.e2e.{uuid.uuid4().hex[:8]}'
        self.folder = folder
        ensure_topics(bootstrap, {self.name(n): 3 for n in ('orders', 'alerts', 'metrics', 'dlq')})

    def name(self, kind: str) -> str:
        return f'{self.prefix}.{kind}'

    def args(self, *extra: str) -> list:
        return [f'--brokers={self.bootstrap}', f'--orders_topic={self.name("orders")}',
                f'--alerts_topic={self.name("alerts")}', f'--metrics_topic={self.name("metrics")}',
                f'--dead_letter_topic={self.name("dlq")}',
                f'--reference_data={self.folder / "reference"}',
                f'--archive_path={self.folder / "archive" / uuid.uuid4().hex[:6]}', *extra]


def throughput_run(topics: Topics) -> float:
    options = streaming.pipeline_options(topics.args(
        '--runner=PrismRunner', '--bounded', '--start_from=earliest',
        f'--consumer_group={topics.prefix}.{uuid.uuid4().hex[:6]}'))
    started = time.perf_counter()
    with beam.Pipeline(options=options) as pipeline:
        streaming.build(pipeline, options)
    return time.perf_counter() - started


def plain_loop(topics: Topics) -> float:
    """The job in one process: decode, validate, fraud rules per card, 5-minute counts."""
    started = time.perf_counter()
    decoder, thresholds = OrderDecoder(), FraudThresholds().validated()
    ends = end_offsets(topics.bootstrap, topics.name('orders'))
    consumer = KafkaConsumer(bootstrap_servers=topics.bootstrap, enable_auto_commit=False,
                             max_poll_records=2000)
    consumer.assign([TopicPartition(topics.name('orders'), p) for p in ends])
    consumer.seek_to_beginning()
    histories = collections.defaultdict(list)
    counts = collections.Counter()
    alerts = dead = 0
    now_ms = int(time.time() * 1000)
    remaining = sum(ends.values())
    while remaining:
        for batch in consumer.poll(timeout_ms=500).values():
            remaining -= len(batch)
            for record in batch:
                try:
                    order = validate_order(decoder.decode(record.value), now_ms)
                except ValueError:
                    dead += 1
                    continue
                history = histories[order.card_id]
                history.append(CardEvent.from_order(order))
                history.sort(key=lambda e: (e.event_time_ms, e.order_id))
                alerts += len(findings_at(history, len(history) - 1, thresholds))
                del history[:-40]  # what the rules look back at, and then some
                window = order.event_time_ms - order.event_time_ms % 300_000
                counts[(window, order.product_id)] += 1
    consumer.close()
    return time.perf_counter() - started


def latency_run(bootstrap: str, folder: pathlib.Path, rate: int, seconds: int) -> list:
    """Alert latencies (ms) with the pipeline unbounded and traffic produced at `rate`/s."""
    topics = Topics(bootstrap, folder)
    options = streaming.pipeline_options(topics.args(
        '--runner=PrismRunner', '--start_from=earliest', '--max_out_of_orderness_s=1',
        '--idle_partition_timeout_s=2', f'--consumer_group={topics.prefix}.latency'))
    pipeline = beam.Pipeline(options=options)
    streaming.build(pipeline, options)
    job = pipeline.run()
    try:
        _wait_until_live(topics)
        count = rate * seconds
        config = TrafficConfig(count=count, seed=rate, events_per_second=rate,
                               fraud_scenarios=max(10, seconds), late_orders=0,
                               too_late_orders=0, start_ms=int(time.time() * 1000) + 4000)
        plan = plan_traffic(config)
        while time.time() * 1000 < config.start_ms:
            time.sleep(0.01)  # pacing the start to event time; a benchmark, not a test
        report = produce_plan(bootstrap, topics.name('orders'), plan, rate=rate)
        produced_at = report.by_order_id(plan.records)
        expected = len(plan.ground_truth.alerts)
        alerts = _poll_alerts(topics, expected, timeout_s=seconds + 90)
    finally:
        job.cancel()
    return ([a['detected_at'] - max(produced_at[o] for o in a['order_ids']) for a in alerts],
            expected)


def _wait_until_live(topics: Topics, timeout_s: float = 120) -> None:
    from kafka import KafkaProducer
    producer = KafkaProducer(bootstrap_servers=topics.bootstrap)
    producer.send(topics.name('orders'), value=b'').get(timeout=30)  # becomes a dead letter
    producer.close()
    deadline = time.monotonic() + timeout_s
    while sum(end_offsets(topics.bootstrap, topics.name('dlq')).values()) == 0:
        if time.monotonic() > deadline:
            raise TimeoutError('the pipeline did not start reading')
        time.sleep(0.2)


def _poll_alerts(topics: Topics, expected: int, timeout_s: float) -> list:
    deadline = time.monotonic() + timeout_s
    while True:
        ends = end_offsets(topics.bootstrap, topics.name('alerts'))
        records = read_range(topics.bootstrap, topics.name('alerts'), {}, ends)
        alerts = {json.loads(v)['alert_id']: json.loads(v) for _, v in records}
        if len(alerts) >= expected or time.monotonic() > deadline:
            return list(alerts.values())
        time.sleep(0.5)


def latency_in_fresh_process(bootstrap: str, folder: pathlib.Path, rate: int, seconds: int):
    """`latency_run` in a process of its own: a cancelled unbounded job leaves Prism and the
    SDK harness of its process busy winding down, which stalled the next run's start."""
    done = subprocess.run(
        [sys.executable, '-m', 'bench.end_to_end', f'--bootstrap={bootstrap}',
         f'--latency-only={rate}', f'--latency-seconds={seconds}', f'--folder={folder}'],
        stdout=subprocess.PIPE, text=True, timeout=seconds + 600, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return None, f'failed (exit {done.returncode}; see stderr above)'
    result = json.loads(lines[-1])
    return result['latencies'], result['expected']


def percentile(values, q: float):
    """The q-quantile (nearest rank) of values; '-' when there are none."""
    if not values:
        return '-'
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--bootstrap', default='127.0.0.1:9092')
    parser.add_argument('--orders', type=int, default=200_000)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--latency-seconds', type=int, default=30,
                        help='seconds of traffic per latency run')
    parser.add_argument('--latency-only', type=int, default=None, metavar='RATE',
                        help='(internal) one latency run at RATE records/s; prints JSON')
    parser.add_argument('--folder', default=None, help='(internal) the working folder')
    args = parser.parse_args(argv)
    if args.latency_only is not None:
        latencies, expected = latency_run(args.bootstrap, pathlib.Path(args.folder),
                                          args.latency_only, args.latency_seconds)
        print(json.dumps({'latencies': latencies, 'expected': expected}), flush=True)
        sys.stderr.flush()
        os._exit(0)  # the cancelled job's harness threads would otherwise hold the exit
    folder = pathlib.Path(tempfile.mkdtemp(prefix='goldstream-e2e-'))
    write_reference_data(folder / 'reference', seed=7)

    topics = Topics(args.bootstrap, folder)
    log(f'planning and producing {args.orders:,} records to {topics.name("orders")}')
    produce_plan(args.bootstrap, topics.name('orders'),
                 plan_traffic(TrafficConfig(count=args.orders, seed=3, events_per_second=500)))
    rows = []
    log('(c) plain kafka-python loop')
    plain = statistics.median(plain_loop(topics) for _ in range(args.repeats))
    log('(a) streaming pipeline, bounded, on Prism')
    runs = [throughput_run(topics) for _ in range(args.repeats)]
    pipeline_s = statistics.median(runs)
    rows.append(['(a) pipeline on Prism, bounded', f'{pipeline_s:.1f} s',
                 round(args.orders / pipeline_s), round(plain / pipeline_s, 2), '', '', ''])
    rows.append(['(c) plain kafka-python loop', f'{plain:.1f} s', round(args.orders / plain),
                 1.0, '', '', ''])
    for rate in (500, 2000):
        log(f'(b) latency at {rate} records/s')
        latencies, expected = latency_in_fresh_process(args.bootstrap, folder, rate,
                                                       args.latency_seconds)
        if latencies is None:
            rows.append([f'(b) unbounded on Prism at {rate}/s', expected, '', '', '', '', ''])
            continue
        rows.append([f'(b) unbounded on Prism at {rate}/s',
                     f'{len(latencies)} of {expected} alerts', '', '',
                     percentile(latencies, 0.5), percentile(latencies, 0.95),
                     percentile(latencies, 0.99)])
    path = publish('end_to_end', 'Streaming pipeline end to end (Prism, real broker)',
                   ['case', 'median time / sample', 'orders/s', 'ratio to (c)',
                    'p50 ms', 'p95 ms', 'p99 ms'], rows,
                   context(orders=args.orders, repeats=args.repeats,
                           latency_seconds=args.latency_seconds,
                           max_out_of_orderness_s=1.0))
    log(f'written to {path}')


if __name__ == '__main__':
    main()
