"""Read+decode throughput of ReadFromKafka against a plain kafka-python loop.

On one topic of N orders (default 200,000; half JSON, half Avro) over 3 partitions on the
local broker: (a) a single-process kafka-python loop that reads and decodes every record;
(b) ReadFromKafka (bounded) -> decode -> count on Prism and on the DirectRunner; (c) the same
on Flink [local]. Median of 3 runs each, records/s and the ratio to (a). Pipeline times
include job start-up, which is also measured alone on an empty topic.

  ./run_local.sh broker start && .venv/bin/python -m bench.kafka_io
"""

import statistics
import sys
import time
import uuid

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from kafka import KafkaConsumer, TopicPartition

from bench.results_table import context, publish
from connectors.kafka_config import default_brokers
from connectors.kafka_read import ReadFromKafka
from connectors.kafka_topics import end_offsets, ensure_topics
from connectors.order_codec import OrderDecoder
from pipelines.command_line import CommandParser, run_command
from pipelines.generator.cli import generate_orders, produce_orders
from pipelines.runner_setup import with_local_runners

RUNNERS = ('PrismRunner', 'DirectRunner', 'FlinkRunner')


def plain_loop(bootstrap: str, topic: str) -> int:
    """Reads every record of `topic` from the start and decodes it; returns the count."""
    decoder = OrderDecoder()
    ends = end_offsets(bootstrap, topic)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=2000
    )
    partitions = [TopicPartition(topic, p) for p in ends]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    remaining, decoded = sum(ends.values()), 0
    while remaining:
        for batch in consumer.poll(timeout_ms=500).values():
            for record in batch:
                decoder.decode(record.value)
                decoded += 1
            remaining -= len(batch)
    consumer.close()
    return decoded


class _DecodeValue(beam.DoFn):
    def setup(self):
        self._decoder = OrderDecoder()

    def process(self, record):
        yield self._decoder.decode(record.value)


def pipeline_read(runner: str, bootstrap: str, topic: str) -> None:
    args = [f'--runner={runner}']
    if runner == 'FlinkRunner':
        args += ['--flink_master=[local]', '--parallelism=2']
    options = with_local_runners(PipelineOptions(args))
    with beam.Pipeline(options=options) as pipeline:
        _ = (
            pipeline
            | 'ReadOrders'
            >> ReadFromKafka(bootstrap, [topic], start_from='earliest', stop_at='end')
            | 'Decode' >> beam.ParDo(_DecodeValue())
            | 'Count' >> beam.combiners.Count.Globally()
        )


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def main(argv=None) -> None:
    parser = CommandParser('python -m bench.kafka_io', __doc__)
    parser.add_argument('--brokers', default=default_brokers(), help='Kafka host:port')
    parser.add_argument('--orders', type=int, default=200_000)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--runners', default=','.join(RUNNERS))
    args = parser.parse_args(argv)

    topic, empty = f'bench.kafka_io.{uuid.uuid4().hex[:8]}', f'bench.empty.{uuid.uuid4().hex[:8]}'
    ensure_topics(args.brokers, {topic: 3, empty: 3})
    print(f'producing {args.orders} orders to {topic}', file=sys.stderr)
    produce_orders(args.brokers, topic, list(generate_orders(args.orders, seed=99)))

    rows = []
    print('(a) plain kafka-python loop', file=sys.stderr)
    plain = [timed(plain_loop, args.brokers, topic) for _ in range(args.repeats)]
    baseline = args.orders / statistics.median(plain)
    rows.append(
        [
            '(a) kafka-python loop, 1 process',
            round(statistics.median(plain), 2),
            '-',
            round(baseline),
            1.0,
        ]
    )
    for runner in args.runners.split(','):
        print(f'{runner}: start-up on an empty topic, then {args.repeats} runs', file=sys.stderr)
        startup = timed(pipeline_read, runner, args.brokers, empty)
        seconds = [timed(pipeline_read, runner, args.brokers, topic) for _ in range(args.repeats)]
        median = statistics.median(seconds)
        rate = args.orders / median
        rows.append(
            [
                f'ReadFromKafka on {runner}',
                round(median, 2),
                round(startup, 2),
                round(rate),
                round(rate / baseline, 2),
            ]
        )
    path = publish(
        'kafka_io',
        'Kafka read + decode throughput',
        ['case', 'median s', 'start-up s (empty topic)', 'records/s', 'ratio to (a)'],
        rows,
        context(orders=args.orders, partitions=3, repeats=args.repeats),
    )
    print(f'written to {path}', file=sys.stderr)


if __name__ == '__main__':
    sys.exit(run_command(main))
