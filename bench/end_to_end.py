"""Bounded throughput of the streaming pipeline on the real broker with Prism, beside a plain loop.

(a) Sustained throughput: orders/s through the whole pipeline (bounded mode) over N generated
    records (default 200,000), median of `--repeats` runs, job start-up included.
(c) The same job as a plain single-process kafka-python loop (decode, validate, fraud rules,
    5-minute counts), for the throughput ratio. Both read with kafka-python's C CRC-32C.

Live latency (produce to alert) is bench/live_latency.py's.

  ./run_local.sh broker start && .venv/bin/python -m bench.end_to_end
"""

import collections
import os
import pathlib
import statistics
import sys
import tempfile
import time
import uuid
from typing import Dict, List

from kafka import KafkaConsumer, TopicPartition

from bench.results_table import context, publish
from connectors.kafka_config import default_brokers
from connectors.kafka_topics import end_offsets
from connectors.order_codec import OrderDecoder
from pipelines.command_line import CommandParser, run_command
from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import plan_traffic
from pipelines.generator.producer import produce_plan
from pipelines.generator.reference_data import write_reference_data
from pipelines.local import harness
from transforms.fraud_rules import CardEvent, FraudThresholds, findings_at
from transforms.validation_rules import validate_order


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def throughput_run(bootstrap: str, topics: harness.Topics, folder: pathlib.Path) -> float:
    """One bounded run from the earliest offsets, on a consumer group and archive of its own."""
    return harness.run_bounded(
        [
            f'--brokers={bootstrap}',
            *topics.pipeline_args(),
            f'--reference_data={folder / "reference"}',
            f'--archive_path={folder / "archive" / uuid.uuid4().hex[:6]}',
            '--runner=PrismRunner',
            '--bounded',
            '--start_from=earliest',
            f'--consumer_group={topics.orders}.{uuid.uuid4().hex[:6]}',
        ]
    )


def plain_loop(bootstrap: str, topics: harness.Topics) -> float:
    """The job in one process: decode, validate, fraud rules per card, 5-minute counts."""
    started = time.perf_counter()
    decoder, thresholds = OrderDecoder(), FraudThresholds().validated()
    ends = end_offsets(bootstrap, topics.orders)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=2000
    )
    consumer.assign([TopicPartition(topics.orders, p) for p in ends])
    consumer.seek_to_beginning()
    histories: Dict[str, List[CardEvent]] = collections.defaultdict(list)
    counts: collections.Counter = collections.Counter()
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


def main(argv=None) -> None:
    parser = CommandParser('python -m bench.end_to_end', __doc__)
    parser.add_argument('--brokers', default=default_brokers(), help='Kafka host:port')
    parser.add_argument('--orders', type=int, default=200_000)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args(argv)
    folder = pathlib.Path(tempfile.mkdtemp(prefix='goldstream-e2e-'))
    write_reference_data(folder / 'reference', seed=7)

    topics = harness.Topics.fresh('bench.e2e')
    harness.create_topics(args.brokers, topics)
    log(f'planning and producing {args.orders:,} records to {topics.orders}')
    produce_plan(
        args.brokers,
        topics.orders,
        plan_traffic(TrafficConfig(count=args.orders, seed=3, events_per_second=500)),
    )
    rows = []
    log('(c) plain kafka-python loop')
    plain = statistics.median(plain_loop(args.brokers, topics) for _ in range(args.repeats))
    log('(a) streaming pipeline, bounded, on Prism')
    runs = [throughput_run(args.brokers, topics, folder) for _ in range(args.repeats)]
    pipeline_s = statistics.median(runs)
    rows.append(
        [
            '(a) pipeline on Prism, bounded',
            f'{pipeline_s:.1f} s',
            round(args.orders / pipeline_s),
            round(plain / pipeline_s, 2),
        ]
    )
    rows.append(['(c) plain kafka-python loop', f'{plain:.1f} s', round(args.orders / plain), 1.0])
    path = publish(
        'end_to_end',
        'Streaming pipeline end to end (Prism, real broker)',
        ['case', 'median time', 'orders/s', 'ratio to (c)'],
        rows,
        context(orders=args.orders, repeats=args.repeats, load_at_end=round(os.getloadavg()[0], 1)),
    )
    log(f'written to {path}')


if __name__ == '__main__':
    sys.exit(run_command(main))
