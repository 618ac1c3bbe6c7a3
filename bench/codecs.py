"""Decode throughput of the order codecs against their raw baselines.

Generates valid orders with a fixed seed, encodes them as JSON and as Avro in
the wire format, and times decoding each set with goldstream's decoder and
with the bare library call it builds on (``json.loads``,
``fastavro.schemaless_reader`` on the bodies, without the 5 header bytes).
Version 1 Avro, resolved to version 2, is timed the same way. Prints a table and writes it
to ``bench/results/codecs.md`` and ``codecs.json``.

Run: ``python -m bench.codecs [--records N] [--repeats R]``.
"""

import datetime
import gc
import io
import json
import pathlib
import platform
import random
import statistics
import sys
import time
from typing import Any, Callable, NamedTuple

import fastavro

from connectors.avro_wire import HEADER_SIZE
from connectors.order_codec import OrderDecoder, encode_order_avro, encode_order_json
from pipelines.command_line import CommandParser, run_command
from schemas import load_schema

RESULTS_DIR = pathlib.Path(__file__).parent / 'results'
CURRENCIES = ('EUR', 'USD', 'GBP', 'JPY', 'CHF', 'SEK', 'PLN', 'CAD')
_EPOCH_2024_MS = 1_704_067_200_000
_YEAR_MS = 365 * 24 * 3600 * 1000


class Case(NamedTuple):
    """One timed decode loop; ``baseline`` names the case it is compared with."""

    name: str
    payloads: list[bytes]
    decode: Callable[[Any], Any]
    baseline: str | None


class CaseResult(NamedTuple):
    """Throughput of one case, in records per second."""

    case: str
    baseline: str | None
    median_records_per_s: float
    min_records_per_s: float
    max_records_per_s: float
    ratio_to_baseline: float | None


def generate_orders(count: int, seed: int) -> list[dict[str, Any]]:
    """Returns ``count`` valid version 2 orders, the same for the same seed."""
    rng = random.Random(seed)
    orders = []
    for _ in range(count):
        millis = _EPOCH_2024_MS + rng.randrange(_YEAR_MS)
        if rng.random() < 0.5:
            moment = datetime.datetime.fromtimestamp(millis / 1000, datetime.timezone.utc)
            timestamp: str | int = moment.isoformat(timespec='milliseconds')
        else:
            timestamp = millis
        orders.append(
            {
                'order_id': f'ord-{rng.getrandbits(64):016x}',
                'customer_id': f'cus-{rng.randrange(100_000):06d}',
                'product_id': f'prd-{rng.randrange(5_000):05d}',
                'quantity': rng.randint(1, 20),
                'price': round(rng.uniform(0.5, 900.0), 2),
                'currency': rng.choice(CURRENCIES),
                'card_id': f'card-{rng.getrandbits(48):012x}',
                'lat': round(rng.uniform(-90.0, 90.0), 6),
                'lon': round(rng.uniform(-180.0, 180.0), 6),
                'timestamp': timestamp,
                'tax': round(rng.uniform(0.0, 50.0), 2),
                'version': 2,
            }
        )
    return orders


def build_cases(orders: list[dict[str, Any]]) -> list[Case]:
    """Encodes the orders and returns the decode loops to time."""
    decoder = OrderDecoder()
    v1_schema = fastavro.parse_schema(load_schema('order.v1.avsc'))
    v2_schema = fastavro.parse_schema(load_schema('order.v2.avsc'))
    json_payloads = [encode_order_json(order) for order in orders]
    avro_payloads = [encode_order_avro(order, version=2) for order in orders]
    avro_bodies = [payload[HEADER_SIZE:] for payload in avro_payloads]
    v1_orders = [{**order, 'tax': 0.0} for order in orders]
    v1_payloads = [encode_order_avro(order, version=1) for order in v1_orders]
    v1_bodies = [payload[HEADER_SIZE:] for payload in v1_payloads]

    def raw_avro(body: bytes) -> Any:
        return fastavro.schemaless_reader(io.BytesIO(body), v2_schema)

    def raw_avro_v1_as_v2(body: bytes) -> Any:
        return fastavro.schemaless_reader(io.BytesIO(body), v1_schema, v2_schema)

    return [
        Case('json.loads (raw)', json_payloads, json.loads, None),
        Case('goldstream JSON decode', json_payloads, decoder.decode, 'json.loads (raw)'),
        Case('fastavro.schemaless_reader (raw)', avro_bodies, raw_avro, None),
        Case(
            'goldstream Avro decode',
            avro_payloads,
            decoder.decode,
            'fastavro.schemaless_reader (raw)',
        ),
        Case('fastavro.schemaless_reader v1 as v2 (raw)', v1_bodies, raw_avro_v1_as_v2, None),
        Case(
            'goldstream Avro decode v1 as v2',
            v1_payloads,
            decoder.decode,
            'fastavro.schemaless_reader v1 as v2 (raw)',
        ),
    ]


def time_case(case: Case, repeats: int) -> list[float]:
    """Decodes every payload ``repeats`` times; returns records/s per run."""
    decode, payloads = case.decode, case.payloads
    rates = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            for payload in payloads:
                decode(payload)
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        rates.append(len(payloads) / elapsed)
    return rates


def run(records: int, repeats: int, seed: int) -> list[CaseResult]:
    """Times every case and compares each with its baseline."""
    print(f'generating {records} orders (seed {seed})', file=sys.stderr)
    cases = build_cases(generate_orders(records, seed))
    medians: dict[str, float] = {}
    results = []
    for case in cases:
        print(f'timing {case.name}: {repeats} x {records} records', file=sys.stderr)
        rates = time_case(case, repeats)
        median = statistics.median(rates)
        medians[case.name] = median
        ratio = median / medians[case.baseline] if case.baseline else None
        results.append(CaseResult(case.name, case.baseline, median, min(rates), max(rates), ratio))
    return results


def render_markdown(results: list[CaseResult], context: dict[str, Any]) -> str:
    """Returns the results as a Markdown document with its context."""
    lines = [
        '# Order codec decode throughput',
        '',
        f'{context["date"]}, Python {context["python"]}, fastavro {context["fastavro"]}, '
        f'{context["records"]} records, median of {context["repeats"]} runs.',
        "Ratio: the case's median over its raw baseline's median.",
        '',
        '| case | median records/s | ratio to raw | min records/s | max records/s |',
        '|---|---:|---:|---:|---:|',
    ]
    for result in results:
        ratio = result.ratio_to_baseline
        shown_ratio = f'{ratio:.2f}' if ratio is not None else 'baseline'
        lines.append(
            f'| {result.case} | {result.median_records_per_s:,.0f} | {shown_ratio} | '
            f'{result.min_records_per_s:,.0f} | {result.max_records_per_s:,.0f} |'
        )
    return '\n'.join(lines) + '\n'


def write_results(results: list[CaseResult], context: dict[str, Any], folder: pathlib.Path) -> None:
    """Writes ``codecs.md`` and ``codecs.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'codecs.md').write_text(render_markdown(results, context), encoding='utf-8')
    document = {**context, 'results': [result._asdict() for result in results]}
    (folder / 'codecs.json').write_text(json.dumps(document, indent=2) + '\n', encoding='utf-8')


def main(argv: list[str] | None = None) -> None:
    """Parses the flags, runs the benchmark, prints and writes the table."""
    parser = CommandParser('python -m bench.codecs', __doc__)
    parser.add_argument(
        '--records', type=int, default=50_000, help='orders per case (default 50000)'
    )
    parser.add_argument('--repeats', type=int, default=5, help='timed runs per case (default 5)')
    parser.add_argument('--seed', type=int, default=20240501, help='random seed of the orders')
    parser.add_argument(
        '--output_dir',
        type=pathlib.Path,
        default=RESULTS_DIR,
        help='where codecs.md and codecs.json go (default bench/results)',
    )
    args = parser.parse_args(argv)
    if args.records < 1 or args.repeats < 1:
        parser.error('--records and --repeats must be at least 1')
    results = run(args.records, args.repeats, args.seed)
    context = {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'python': platform.python_version(),
        'fastavro': fastavro.__version__,
        'records': args.records,
        'repeats': args.repeats,
        'seed': args.seed,
    }
    write_results(results, context, args.output_dir)
    print(render_markdown(results, context))


if __name__ == '__main__':
    sys.exit(run_command(main))
