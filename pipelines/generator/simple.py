"""Simple order traffic: valid orders only, for tests and benchmarks of the Kafka IO.

``generate_orders`` yields valid orders a second apart, v1 and v2 mixed;
``encoder_for`` encodes them as JSON, Avro or alternating; ``produce_orders``
sends them keyed by card id. The realistic traffic with fraud scenarios,
late and malformed records and a ground truth is ``traffic_plan``'s.
"""

import datetime
import random
from typing import Callable, Dict, Iterator, List, Mapping, Tuple

from kafka import KafkaProducer

from connectors.order_codec import encode_order_avro, encode_order_json

CURRENCIES = ('EUR', 'USD', 'GBP', 'CHF', 'JPY', 'SEK')
CITIES = (  # (lat, lon) of places cards are used in
    (52.52, 13.40),
    (48.86, 2.35),
    (51.51, -0.13),
    (40.71, -74.01),
    (35.68, 139.69),
    (59.33, 18.07),
    (47.38, 8.54),
    (41.39, 2.17),
)
FORMATS = ('json', 'avro', 'mixed')
START_MS = 1_795_000_000_000  # 2026-11-18T09:46:40Z; event times count up from here


def generate_orders(
    count: int, seed: int = 7, start_ms: int = START_MS, cards: int = 200
) -> Iterator[Dict]:
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


def produce_orders(
    bootstrap: str,
    topic: str,
    orders: List[Mapping],
    fmt: str = 'mixed',
    progress: Callable[[int], None] = lambda done: None,
) -> int:
    """Sends the orders keyed by card id with acks=all; returns how many Kafka acknowledged.

    Raises:
      kafka.errors.KafkaError: a record was not acknowledged.
    """
    encode = encoder_for(fmt)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks='all', linger_ms=20, client_id='goldstream-generator'
    )
    try:
        futures = []
        for n, order in enumerate(orders):
            futures.append(
                producer.send(topic, key=order['card_id'].encode(), value=encode(n, order))
            )
            if n % 1000 == 999 and n + 1 < len(orders):
                progress(n + 1)
        producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises if the broker refused the record
        progress(len(orders))
        return len(futures)
    finally:
        producer.close()


def order_fingerprint(order: Mapping) -> Tuple:
    """A hashable form of an order, for comparing multisets of orders."""
    return tuple(sorted(order.items()))
