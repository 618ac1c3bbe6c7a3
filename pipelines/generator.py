"""Generates order traffic for the `orders` topic and checks that it can be read back.

A fixed `--seed` gives the same orders. Half the records are JSON and half wire-format Avro
with `--format mixed` (the default), v1 and v2 events mixed; each record's key is its card id.

  python -m pipelines.generator --bootstrap 127.0.0.1:9092 --count 2000 --verify
"""
import argparse
import collections
import datetime
import random
import sys
import time
from typing import Callable, Dict, Iterator, List, Mapping, Tuple

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.kafka_topics import end_offsets, ensure_topics
from connectors.order_codec import decode_order, encode_order_avro, encode_order_json

CURRENCIES = ('EUR', 'USD', 'GBP', 'CHF', 'JPY', 'SEK')
CITIES = (  # (lat, lon) of places cards are used in
    (52.52, 13.40), (48.86, 2.35), (51.51, -0.13), (40.71, -74.01), (35.68, 139.69),
    (59.33, 18.07), (47.38, 8.54), (41.39, 2.17))
FORMATS = ('json', 'avro', 'mixed')
START_MS = 1_795_000_000_000  # 2026-11-18T09:46:40Z; event times count up from here


def generate_orders(count: int, seed: int = 7, start_ms: int = START_MS,
                    cards: int = 200) -> Iterator[Dict]:
    """Yields `count` valid orders (v2 dicts; `version` 1 ones carry no tax), a second apart.

    Args:
      count: how many orders.
      seed: the same seed gives the same orders.
      start_ms: event time of the first order, epoch millis.
      cards: how many distinct cards (and so Kafka keys) the orders spread over.
    """
    rng = random.Random(seed)
    for n in range(count):
        event_ms = start_ms + n * 1000 + rng.randrange(1000)
        lat, lon = rng.choice(CITIES)
        version = rng.choice((1, 2))
        order = {
            'order_id': f'ord-{seed}-{n:08d}',
            'customer_id': f'cust-{rng.randrange(500):04d}',
            'product_id': f'prod-{rng.randrange(50):03d}',
            'quantity': rng.randint(1, 5),
            'price': round(rng.uniform(1.0, 300.0), 2),
            'currency': rng.choice(CURRENCIES),
            'card_id': f'card-{rng.randrange(cards):05d}',
            'lat': lat + round(rng.uniform(-0.05, 0.05), 5),
            'lon': lon + round(rng.uniform(-0.05, 0.05), 5),
            'timestamp': _timestamp_field(event_ms, rng),
            'tax': round(rng.uniform(0.0, 20.0), 2) if version == 2 else 0.0,
            'version': version,
        }
        yield order


def _timestamp_field(event_ms: int, rng: random.Random):
    if rng.random() < 0.5:
        return event_ms
    moment = datetime.datetime.fromtimestamp(event_ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec='milliseconds')


def encoder_for(fmt: str) -> Callable[[int, Mapping], bytes]:
    """Returns `encode(n, order) -> bytes` for a format: json, avro, or mixed (alternating)."""
    if fmt not in FORMATS:
        raise ValueError(f'unknown format {fmt!r}; expected one of {", ".join(FORMATS)}')

    def encode(n: int, order: Mapping) -> bytes:
        as_json = fmt == 'json' or (fmt == 'mixed' and n % 2 == 0)
        if as_json:
            return encode_order_json(order)
        return encode_order_avro(order, version=order['version'])

    return encode


def produce_orders(bootstrap: str, topic: str, orders: List[Mapping], fmt: str = 'mixed',
                   progress: Callable[[int], None] = lambda done: None) -> int:
    """Sends the orders keyed by card id with acks=all; returns how many Kafka acknowledged.

    Raises:
      kafka.errors.KafkaError: a record was not acknowledged.
    """
    encode = encoder_for(fmt)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', linger_ms=20,
                             client_id='goldstream-generator')
    try:
        futures = []
        for n, order in enumerate(orders):
            futures.append(producer.send(topic, key=order['card_id'].encode(),
                                         value=encode(n, order)))
            if n % 1000 == 999 and n + 1 < len(orders):
                progress(n + 1)
        producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises if the broker refused the record
        progress(len(orders))
        return len(futures)
    finally:
        producer.close()


def read_range(bootstrap: str, topic: str, start: Mapping[int, int],
               end: Mapping[int, int], timeout_s: float = 60.0) -> List[Tuple[bytes, bytes]]:
    """Reads every record in `[start, end)` of each partition with a plain consumer.

    Returns:
      (key, value) pairs, in partition then offset order.

    Raises:
      TimeoutError: the range was not read completely before the deadline.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             client_id='goldstream-reader')
    try:
        wanted = {TopicPartition(topic, p): (start.get(p, 0), end[p]) for p in end
                  if end[p] > start.get(p, 0)}
        consumer.assign(list(wanted))
        for tp, (first, _) in wanted.items():
            consumer.seek(tp, first)
        records: Dict[TopicPartition, list] = collections.defaultdict(list)
        deadline = time.monotonic() + timeout_s
        remaining = set(wanted)
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f'read stopped short on {sorted(str(tp) for tp in remaining)}')
            for tp, batch in consumer.poll(timeout_ms=500).items():
                last = wanted[tp][1]
                records[tp].extend((r.key, r.value) for r in batch if r.offset < last)
                if consumer.position(tp) >= last:
                    remaining.discard(tp)
                    consumer.pause(tp)
        return [kv for tp in sorted(records) for kv in records[tp]]
    finally:
        consumer.close()


def order_fingerprint(order: Mapping) -> Tuple:
    """A hashable form of an order, for comparing multisets of orders."""
    return tuple(sorted(order.items()))


def _progress_bar(total: int) -> Callable[[int], None]:
    def show(done: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f'\r  producing [{"#" * filled}{"." * (width - filled)}] '
                         f'{done}/{total}')
        if done >= total:
            sys.stderr.write('\n')
        sys.stderr.flush()
    return show


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--bootstrap', default='127.0.0.1:9092', help='Kafka host:port')
    parser.add_argument('--topic', default='orders', help='topic to write (default: orders)')
    parser.add_argument('--partitions', type=int, default=3,
                        help='partitions when the topic has to be created (default: 3)')
    parser.add_argument('--count', type=int, default=1000, help='orders to produce')
    parser.add_argument('--format', choices=FORMATS, default='mixed',
                        help='json, avro, or mixed (alternating; default)')
    parser.add_argument('--seed', type=int, default=7, help='same seed, same orders')
    parser.add_argument('--verify', action='store_true',
                        help='read the new records back, decode them and compare')
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error('--count must be 0 or more')
    if args.partitions < 1:
        parser.error('--partitions must be 1 or more')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    ensure_topics(args.bootstrap, {args.topic: args.partitions})
    before = end_offsets(args.bootstrap, args.topic)
    orders = list(generate_orders(args.count, seed=args.seed))
    produce_orders(args.bootstrap, args.topic, orders, args.format,
                   progress=_progress_bar(len(orders)))
    after = end_offsets(args.bootstrap, args.topic)
    print(f'produced {len(orders)} orders ({args.format}) to {args.topic!r} '
          f'on {args.bootstrap}; end offsets now {dict(sorted(after.items()))}')
    if not args.verify:
        return 0
    records = read_range(args.bootstrap, args.topic, before, after)
    decoded = collections.Counter(order_fingerprint(decode_order(v)) for _, v in records)
    expected = collections.Counter(order_fingerprint(o) for o in orders)
    if decoded != expected:
        print(f'MISMATCH: read {len(records)} records; {sum((expected - decoded).values())} '
              f'produced orders missing, {sum((decoded - expected).values())} unexpected',
              file=sys.stderr)
        return 1
    print(f'read back and decoded {len(records)} records: identical to what was produced')
    return 0


if __name__ == '__main__':
    sys.exit(main())
