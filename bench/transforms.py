"""Throughput of the goldstream transforms on Beam's in-process engine and on Prism.

For each transform, a batch pipeline generates ``--orders`` orders inside the
pipeline (``shard_orders``: a day of traffic with a little fraud, from fixed
seeds, spread over ``--shards`` generator elements: never a large
``beam.Create``), applies the transform and counts its output. Each (transform, runner) is run
``--repeats`` times, each
time in a fresh process that first runs a tiny warm-up pipeline (so Prism's
start is not timed), and the median wall time of ``run()`` to completion is
reported as elements per second. Three "generate" pipelines, which only make
the input of a kind (raw records, decoded events, orders), are timed the same
way; "net" throughput divides by the time left after subtracting the median of
the matching one. Peak memory is the maximum resident set size of the Python
process (which, for Prism, also hosts the SDK worker: LOOPBACK) and of the
Prism process, over the repeats.

Runners: ``direct`` is Beam's in-process ``FnApiRunner``, the engine the
DirectRunner falls back to for batch pipelines when it does not use Prism
(the DirectRunner itself would hand these pipelines to Prism); ``prism`` is
the locally built Prism binary (``pipelines.local.cache.prism_binary()``).

The note compares ``CheckFraud`` with a plain-Python loop applying the same
rules (``fraud_rules.evaluate_history`` per card) to the same orders, and
checks that both raise the same number of alerts.

Run: ``python -m bench.transforms [--orders N] [--repeats R] [--runners direct,prism]``.
Writes ``bench/results/transforms.md`` and ``transforms.json``.
"""

import argparse
import collections
import datetime
import json
import os
import pathlib
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.transforms.window import GlobalWindows, TimestampedValue

from connectors.order_codec import encode_order_avro, encode_order_json
from pipelines.command_line import CommandParser, run_command
from pipelines.local.cache import prism_binary
from transforms.decode import DecodeEvents
from transforms.enrich import EnrichOrders
from transforms.fraud import CheckFraud
from transforms.fraud_rules import CardEvent, evaluate_history
from transforms.order_ingest import IngestOrders
from transforms.records import VALID, DecodedEvent, Order, RecordOrigin
from transforms.validate import ValidateOrders, order_timestamp
from transforms.validation_rules import validate_order
from transforms.windowed_counts import CountPerWindow

RESULTS_DIR = pathlib.Path(__file__).parent / 'results'
RUNNERS = {'direct': 'FnApiRunner', 'prism': 'PrismRunner'}
SEED = 11
START_MS = 1_795_000_000_000
"""Event time of the first generated order: 2026-11-18T11:06:40Z."""
BENCH_NOW_S = START_MS / 1000 + 30 * 86_400
"""The wall clock ValidateOrders sees: 30 days after the generated orders begin."""


def bench_clock() -> float:
    """A fixed clock, so validation does not depend on when the benchmark runs."""
    return BENCH_NOW_S


# Inputs, generated inside the pipeline -------------------------------------------------------

CITIES = (
    (52.52, 13.405),
    (48.857, 2.352),
    (51.507, -0.128),
    (40.713, -74.006),
    (35.676, 139.650),
    (59.329, 18.069),
    (47.377, 8.541),
    (41.385, 2.173),
)
CURRENCIES = ('EUR', 'USD', 'GBP', 'CHF', 'SEK')
CARDS_PER_SHARD = 1500
DAY_MS = 86_400_000


def shard_orders(shard: int, orders: int, shards: int) -> Iterator[Dict[str, Any]]:
    """The order dicts of one generator shard; all shards together make ``orders``.

    A day of traffic: each card shops near its home city, with a little fraud mixed
    in on purpose (every 1,000th order a small order followed 20 s later by a large
    one; every 700th a purchase on another continent; every 5,000th a burst of 20
    orders in 40 s), so CheckFraud has alerts to raise without flagging most orders.
    Valid for ValidateOrders at ``BENCH_NOW_S``; half the timestamps ISO 8601, half
    epoch millis; versions 1 and 2 mixed.
    """
    rng = random.Random(SEED * 1000 + shard)
    count = orders // shards + (1 if shard < orders % shards else 0)
    homes = [rng.randrange(len(CITIES)) for _ in range(CARDS_PER_SHARD)]
    step_ms = max(1, DAY_MS // max(count, 1))
    n = 0
    while n < count:
        card = rng.randrange(CARDS_PER_SHARD)
        at_ms = START_MS + n * step_ms
        city = CITIES[homes[card]]
        if n % 5000 == 4999:
            scenario = [(at_ms + k * 2000, 20.0, city) for k in range(20)]
        elif n % 1000 == 999:
            scenario = [(at_ms, 0.5, city), (at_ms + 20_000, 750.0, city)]
        elif n % 700 == 699:
            scenario = [(at_ms, 40.0, CITIES[(homes[card] + 4) % len(CITIES)])]
        else:
            scenario = [(at_ms, round(rng.uniform(5.0, 120.0), 2), city)]
        for event_ms, price, (lat, lon) in scenario[: count - n]:
            version = 1 + n % 2
            yield {
                'order_id': f'ord-{shard}-{n:07d}',
                'customer_id': f'cust-{rng.randrange(500):04d}',
                'product_id': f'prod-{rng.randrange(50):03d}',
                'quantity': 1,
                'price': price,
                'currency': rng.choice(CURRENCIES),
                'card_id': f'card-{shard}-{card:04d}',
                'lat': round(lat + rng.uniform(-0.05, 0.05), 5),
                'lon': round(lon + rng.uniform(-0.05, 0.05), 5),
                'timestamp': event_ms if n % 4 < 2 else _iso(event_ms),
                'tax': round(price * 0.1, 2) if version == 2 else 0.0,
                'version': version,
            }
            n += 1


def _iso(event_ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(event_ms / 1000, tz=datetime.timezone.utc)
    return moment.isoformat(timespec='milliseconds')


def raw_records(shard: int, orders: int, shards: int) -> Iterator[bytes]:
    for n, fields in enumerate(shard_orders(shard, orders, shards)):
        if n % 2:
            yield encode_order_avro(fields, version=fields['version'])
        else:
            yield encode_order_json(fields)


def decoded_events(shard: int, orders: int, shards: int) -> Iterator[DecodedEvent]:
    for fields in shard_orders(shard, orders, shards):
        yield DecodedEvent(fields, RecordOrigin(b'', None, None, None, None))


def timestamped_orders(shard: int, orders: int, shards: int) -> Iterator[TimestampedValue]:
    now_ms = int(BENCH_NOW_S * 1000)
    for fields in shard_orders(shard, orders, shards):
        order = validate_order(fields, now_ms)
        yield TimestampedValue(order, order_timestamp(order))


INPUTS: Dict[str, Callable] = {
    'raw': raw_records,
    'decoded': decoded_events,
    'orders': timestamped_orders,
}
INPUT_TYPES = {'raw': bytes, 'decoded': DecodedEvent, 'orders': Order}


class Case(NamedTuple):
    """One timed pipeline: an input kind and what to apply to it (None: nothing)."""

    name: str
    input: str
    apply: Optional[Callable[[beam.PCollection, str], beam.PCollection]]


CASES = [
    Case('generate raw records', 'raw', None),
    Case('generate decoded events', 'decoded', None),
    Case('generate orders', 'orders', None),
    Case('DecodeEvents', 'raw', lambda pcoll, _: (pcoll | DecodeEvents())[VALID]),
    Case(
        'ValidateOrders',
        'decoded',
        lambda pcoll, _: (pcoll | ValidateOrders(clock=bench_clock))[VALID],
    ),
    Case(
        'IngestOrders (decode + validate)',
        'raw',
        lambda pcoll, _: (pcoll | IngestOrders(clock=bench_clock))[VALID],
    ),
    Case('EnrichOrders', 'orders', lambda pcoll, ref: pcoll | EnrichOrders(ref)),
    Case('CheckFraud (grouped: bounded input)', 'orders', lambda pcoll, _: pcoll | CheckFraud()),
    Case(
        'CheckFraud (per-card state: unbounded input)',
        'orders',
        lambda pcoll, _: pcoll | CheckFraud(per_card_state=True),
    ),
    Case('CountPerWindow', 'orders', lambda pcoll, _: pcoll | CountPerWindow()),
]
CASES_BY_NAME = {case.name: case for case in CASES}


def write_reference(folder: str) -> None:
    """Customers and products the generator uses, less a few, so some orders are unknown."""
    path = pathlib.Path(folder)
    with open(path / 'customers.csv', 'w', encoding='utf-8') as out:
        out.write('customer_id,name,segment,home_country,signup_date\n')
        for n in range(480):
            out.write(f'cust-{n:04d},Customer {n},retail,DE,2024-01-01\n')
    with open(path / 'products.jsonl', 'w', encoding='utf-8') as out:
        for n in range(48):
            out.write(
                json.dumps(
                    {
                        'product_id': f'prod-{n:03d}',
                        'name': f'Product {n}',
                        'category': f'cat-{n % 5}',
                        'list_price': 10.0 + n,
                        'stock': 100,
                    }
                )
                + '\n'
            )


def build(
    p: beam.Pipeline, case: Case, orders: int, shards: int, reference: str, count_file: str
) -> None:
    """Generates the input of ``case``, applies it and writes the output count to a file."""
    elements = (
        p
        | 'Shards' >> beam.Create(list(range(shards)))
        | 'Generate'
        >> beam.FlatMap(INPUTS[case.input], orders, shards).with_output_types(
            INPUT_TYPES[case.input]
        )
    )
    output = elements if case.apply is None else case.apply(elements, reference)
    _ = (
        output
        | 'GlobalWindow' >> beam.WindowInto(GlobalWindows())
        | 'CountOutput' >> beam.combiners.Count.Globally()
        | 'WriteCount' >> beam.Map(_write_count, count_file)
    )


def _write_count(count: int, path: str) -> None:
    pathlib.Path(path).write_text(str(count), encoding='utf-8')


def _options(runner: str) -> PipelineOptions:
    return PipelineOptions([f'--runner={RUNNERS[runner]}', f'--prism_location={prism_binary()}'])


def measure_once(case_name: str, runner: str, orders: int, shards: int) -> Dict[str, Any]:
    """Runs one case once, in this process, and returns its time, output and memory."""
    with beam.Pipeline(options=_options(runner)) as warm_up:
        _ = warm_up | 'WarmUp' >> beam.Create([1, 2, 3]) | 'Twice' >> beam.Map(lambda x: 2 * x)
    case = CASES_BY_NAME[case_name]
    with tempfile.TemporaryDirectory() as folder:
        write_reference(folder)
        count_file = str(pathlib.Path(folder) / 'count')
        p = beam.Pipeline(options=_options(runner))
        build(p, case, orders, shards, folder, count_file)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        p.run().wait_until_finish()
        seconds = time.perf_counter() - started
        load = max(load_before, os.getloadavg()[0])
        outputs = int(pathlib.Path(count_file).read_text(encoding='utf-8'))
    return {
        'seconds': seconds,
        'outputs': outputs,
        'python_peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'prism_peak_mb': _prism_peak_mb() if runner == 'prism' else None,
        'load_1m': load,
    }


def _prism_peak_mb() -> Optional[float]:
    """Peak resident memory (VmHWM) of the Prism process this process started, in MB."""
    me = str(os.getpid())
    for status in pathlib.Path('/proc').glob('[0-9]*/status'):
        try:
            fields = dict(
                line.split(':', 1) for line in status.read_text().splitlines() if ':' in line
            )
        except OSError:
            continue  # the process ended meanwhile
        if fields.get('PPid', '').strip() == me and fields.get('Name', '').strip() == 'prism':
            return int(fields['VmHWM'].split()[0]) / 1024
    return None


def measure(case: Case, runner: str, orders: int, shards: int, repeats: int) -> Dict[str, Any]:
    """Runs ``case`` ``repeats`` times, each in a fresh process; returns the summary."""
    runs = []
    for _ in range(repeats):
        completed = subprocess.run(
            [
                sys.executable,
                '-m',
                'bench.transforms',
                '--child',
                case.name,
                '--runner',
                runner,
                '--orders',
                str(orders),
                '--shards',
                str(shards),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f'{case.name} on {runner} failed:\n{completed.stderr[-4000:]}')
        runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    seconds = [run['seconds'] for run in runs]
    prism_peaks = [run['prism_peak_mb'] for run in runs if run['prism_peak_mb'] is not None]
    return {
        'case': case.name,
        'input': case.input,
        'runner': runner,
        'median_s': statistics.median(seconds),
        'min_s': min(seconds),
        'max_s': max(seconds),
        'outputs': runs[0]['outputs'],
        'python_peak_mb': max(run['python_peak_mb'] for run in runs),
        'prism_peak_mb': max(prism_peaks) if prism_peaks else None,
        'max_load_1m': max(run['load_1m'] for run in runs),
    }


# The plain-Python loop ------------------------------------------------------------------------


def plain_loop(orders: int, shards: int, repeats: int) -> Dict[str, Any]:
    """Times the fraud rules applied card by card in a loop to the same orders."""
    now_ms = int(BENCH_NOW_S * 1000)
    events = [
        CardEvent.from_order(validate_order(fields, now_ms))
        for shard in range(shards)
        for fields in shard_orders(shard, orders, shards)
    ]
    card_of = [
        fields['card_id']
        for shard in range(shards)
        for fields in shard_orders(shard, orders, shards)
    ]
    seconds, alerts = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        by_card = collections.defaultdict(list)
        for card, event in zip(card_of, events):
            by_card[card].append(event)
        alerts = sum(len(evaluate_history(card_events)) for card_events in by_card.values())
        seconds.append(time.perf_counter() - started)
    return {
        'median_s': statistics.median(seconds),
        'min_s': min(seconds),
        'max_s': max(seconds),
        'alerts': alerts,
    }


# Report ---------------------------------------------------------------------------------------


def summarise(results: List[Dict[str, Any]], loop: Dict[str, Any], args) -> Dict[str, Any]:
    baselines = {
        (r['runner'], r['input']): r['median_s']
        for r in results
        if r['case'].startswith('generate ')
    }
    for r in results:
        r['elements_per_s'] = args.orders / r['median_s']
        base = baselines.get((r['runner'], r['input']))
        net = None if r['case'].startswith('generate ') or base is None else r['median_s'] - base
        r['net_elements_per_s'] = args.orders / net if net and net > 0 else None
    loop['elements_per_s'] = args.orders / loop['median_s']
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'python': platform.python_version(),
        'apache_beam': beam.__version__,
        'cpus': _cpus(),
        'orders': args.orders,
        'shards': args.shards,
        'repeats': args.repeats,
        'results': results,
        'plain_loop': loop,
    }


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1


def markdown(summary: Dict[str, Any]) -> str:
    lines = [
        '# Transform throughput',
        '',
        f'{summary["date"]}, Python {summary["python"]}, apache-beam {summary["apache_beam"]}, '
        f'{summary["cpus"]} CPUs; {summary["orders"]:,} generated orders ({summary["shards"]} '
        f'generator shards), batch pipelines, median of {summary["repeats"]} runs, each in a '
        'fresh process after a warm-up pipeline.',
        '',
        "direct: Beam's in-process FnApiRunner (what the DirectRunner falls back to for batch "
        'when it does not hand the pipeline to Prism); prism: the local Prism 2.77.0 binary, '
        'SDK worker in the Python process (LOOPBACK). Elements/s: orders over the median '
        'time of the whole pipeline, generation included; net: over the time left after '
        'subtracting the "generate" pipeline of the same input. Peak memory: maximum '
        'resident set, MB. Load: the highest 1-minute load average of the machine seen '
        'around the runs (other work on a shared machine slows the runs down; it is '
        f'shown rather than hidden: {summary["cpus"]} CPUs means a load of '
        f'{summary["cpus"]} keeps them busy).',
        '',
        '| transform | runner | median s | elements/s | net elements/s | outputs '
        '| Python peak MB | Prism peak MB | load |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ]
    for r in summary['results']:
        net = f'{r["net_elements_per_s"]:,.0f}' if r['net_elements_per_s'] else 'n/a'
        prism = f'{r["prism_peak_mb"]:,.0f}' if r['prism_peak_mb'] is not None else '-'
        lines.append(
            f'| {r["case"]} | {r["runner"]} | {r["median_s"]:.2f} | {r["elements_per_s"]:,.0f} '
            f'| {net} | {r["outputs"]:,} | {r["python_peak_mb"]:,.0f} | {prism} '
            f'| {r["max_load_1m"]:.1f} |'
        )
    loop = summary['plain_loop']
    lines += ['', '## CheckFraud against a plain-Python loop', '']
    lines.append(
        f'The loop groups the same {summary["orders"]:,} orders by card and applies '
        f'`fraud_rules.evaluate_history` to each card (the very functions CheckFraud feeds): '
        f'{loop["median_s"]:.2f} s, {loop["elements_per_s"]:,.0f} orders/s, '
        f'{loop["alerts"]:,} alerts (median of {summary["repeats"]}; building the '
        'orders not timed).'
    )
    for r in summary['results']:
        if r['case'].startswith('CheckFraud'):
            same = 'the same number' if r['outputs'] == loop['alerts'] else 'A DIFFERENT NUMBER'
            ratio = (r['net_elements_per_s'] or r['elements_per_s']) / loop['elements_per_s']
            lines.append(
                f'- {r["case"]} on {r["runner"]}: {r["outputs"]:,} alerts ({same}); '
                f'{r["net_elements_per_s"] or 0:,.0f} net orders/s, '
                f"{ratio:.2f}x the loop's rate."
            )
    lines += [
        '',
        "Why the gap: the loop sorts each card's orders once and walks them. Grouped, "
        'CheckFraud does the same after a GroupByKey per card: the gap is the shuffle and '
        "Beam's per-element overhead. With per-card state (its way for unbounded input), per "
        "order, it reads and writes the card's state cell, sets an evaluation timer and an "
        'expiry timer, and later runs both timer callbacks (evaluation when the watermark '
        "passes the order, expiry an hour of event time after the card's last order): about "
        'three callbacks and two state writes per order for the many cards that buy rarely, '
        "each going through the SDK harness (and, on Prism, the runner) with the SDK's state "
        'cache weighing every value it stores. In exchange it evaluates each card in event-time '
        'order whatever the arrival order, keeps state bounded, runs unbounded, and spreads '
        'cards over workers; the loop needs the whole day in memory and sorted. The rules '
        'themselves are the same functions in both, which the equal alert counts confirm.',
    ]
    if summary.get('note'):
        lines += ['', summary['note']]
    lines.append('')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = CommandParser('python -m bench.transforms', __doc__)
    parser.add_argument('--orders', type=int, default=200_000, help='orders per pipeline')
    parser.add_argument('--shards', type=int, default=8, help='generator elements')
    parser.add_argument('--repeats', type=int, default=3, help='runs per case (median)')
    parser.add_argument(
        '--runners', default='direct,prism', help='comma-separated: direct (FnApiRunner), prism'
    )
    parser.add_argument('--cases', default='', help='comma-separated case names (default: all)')
    parser.add_argument('--note', default='', help='a paragraph appended to the table')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    parser.add_argument('--runner', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.orders < 1 or args.shards < 1 or args.repeats < 1:
        parser.error('--orders, --shards and --repeats must be at least 1')
    runners = [r for r in args.runners.split(',') if r]
    unknown = [r for r in runners if r not in RUNNERS]
    if unknown:
        parser.error(f'unknown runners {unknown}; expected some of {sorted(RUNNERS)}')
    args.runner_list = runners
    names = [c for c in args.cases.split(',') if c] or [case.name for case in CASES]
    missing = [n for n in names if n not in CASES_BY_NAME]
    if missing:
        parser.error(f'unknown cases {missing}')
    args.case_list = [CASES_BY_NAME[n] for n in names]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(measure_once(args.child, args.runner, args.orders, args.shards)))
        return 0
    results = []
    for runner in args.runner_list:
        for case in args.case_list:
            result = measure(case, runner, args.orders, args.shards, args.repeats)
            results.append(result)
            print(
                f'{case.name:34} {runner:7} {result["median_s"]:8.2f} s '
                f'{args.orders / result["median_s"]:>12,.0f} elements/s',
                file=sys.stderr,
            )
    loop = plain_loop(args.orders, args.shards, args.repeats)
    summary = summarise(results, loop, args)
    summary['note'] = args.note
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / 'transforms.json').write_text(
        json.dumps(summary, indent=2) + '\n', encoding='utf-8'
    )
    text = markdown(summary)
    (RESULTS_DIR / 'transforms.md').write_text(text, encoding='utf-8')
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(run_command(main))
