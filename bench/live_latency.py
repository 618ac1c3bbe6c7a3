"""Live latency of the streaming pipeline: produce-to-alert and produce-to-first-EARLY-pane.

For each runner and rate: the pipeline runs unbounded in a process of its own (as
`python -m pipelines.streaming` does for a user), the generator produces `--seconds` of
traffic at the rate with event time = wall clock (every fraud scenario, scenario orders
arriving up to 3 s out of order), and the output topics are read back. Latency is the alert
record's Kafka timestamp less the send time of the last-sent of its orders. Each cell is the
median over `--repeats` runs of that run's percentile; "alerts" counts the ground-truth
alerts delivered, summed over the runs. The machine's load is shown per row.

  ./run_local.sh broker start && .venv/bin/python -m bench.live_latency
"""

import os
import pathlib
import statistics
import sys
import tempfile
import time
from typing import List

from bench.results_table import context, publish
from connectors.kafka_config import default_brokers
from pipelines.command_line import CommandParser, run_command
from pipelines.generator.config import TrafficConfig
from pipelines.local.live_run import LiveRun, alert_latencies_ms

RUNNERS = {
    'DirectRunner': ['--runner=DirectRunner'],  # the default: Prism, patched (infra/prism)
    'Flink[local]': ['--runner=FlinkRunner', '--flink_master=[local]'],
}
EARLY_FIRING_S = 30


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values, q: float):
    """The q-quantile (nearest rank) of values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def one_run(
    bootstrap: str, folder: pathlib.Path, runner_args, rate: int, seconds: int, drain_s: float
) -> dict:
    run = LiveRun.start(bootstrap, folder, [*runner_args, f'--early_firing_s={EARLY_FIRING_S}'])
    try:
        config = TrafficConfig(
            count=rate * seconds,
            seed=rate + seconds,
            events_per_second=rate,
            fraud_scenarios=max(5, seconds // 6),
            late_orders=0,
            too_late_orders=0,
        )
        load_before = os.getloadavg()[0]
        plan, report = run.produce(config, rate)
        expected = {alert.alert_id for alert in plan.ground_truth.alerts}
        alerts = run.wait_for_alerts(expected, timeout_s=drain_s)
        latencies = alert_latencies_ms(alerts, plan, report)
        first_sent = min(report.produced_at_ms)
        early = [r.timestamp_ms for r in run.read('metrics') if r.value['pane'] == 'EARLY']
        return {
            'expected': len(expected),
            'delivered': len(latencies),
            'p50': percentile(latencies, 0.5),
            'p95': percentile(latencies, 0.95),
            'p99': percentile(latencies, 0.99),
            'max': max(latencies, default=None),
            'first_early_ms': (min(early) - first_sent) if early else None,
            'load': round((load_before + os.getloadavg()[0]) / 2, 1),
        }
    finally:
        run.stop()


def median_of(runs, key):
    values = [r[key] for r in runs if r[key] is not None]
    return round(statistics.median(values)) if values else '-'


def main(argv=None) -> None:
    parser = CommandParser('python -m bench.live_latency', __doc__)
    parser.add_argument('--brokers', default=default_brokers(), help='Kafka host:port')
    parser.add_argument('--rates', default='200,1000,2000')
    parser.add_argument(
        '--runners', default=','.join(RUNNERS), help=f'comma-separated, of: {", ".join(RUNNERS)}'
    )
    parser.add_argument('--seconds', type=int, default=60, help='seconds of traffic per run')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--drain_s',
        type=float,
        default=60.0,
        help='how long to wait for missing alerts after the traffic',
    )
    parser.add_argument('--name', default='live_latency', help='results file name')
    args = parser.parse_args(argv)
    folder = pathlib.Path(tempfile.mkdtemp(prefix='goldstream-live-'))
    rows: List[list] = []
    for runner in args.runners.split(','):
        for rate in map(int, args.rates.split(',')):
            runs = []
            for repeat in range(args.repeats):
                log(f'{runner} at {rate}/s, run {repeat + 1} of {args.repeats}')
                started = time.monotonic()
                try:
                    runs.append(
                        one_run(
                            args.brokers,
                            folder / f'{len(rows)}-{repeat}',
                            RUNNERS[runner],
                            rate,
                            args.seconds,
                            args.drain_s,
                        )
                    )
                except RuntimeError as error:
                    log(f'  failed: {str(error)[:2000]}')
                    continue
                log(f'  {runs[-1]} ({time.monotonic() - started:.0f} s)')
            if not runs:
                rows.append([runner, rate, 'failed', '', '', '', '', '', ''])
                continue
            rows.append(
                [
                    runner,
                    rate,
                    f'{sum(r["delivered"] for r in runs)} of {sum(r["expected"] for r in runs)}',
                    median_of(runs, 'p50'),
                    median_of(runs, 'p95'),
                    median_of(runs, 'p99'),
                    median_of(runs, 'max'),
                    median_of(runs, 'first_early_ms'),
                    ' / '.join(str(r['load']) for r in runs),
                ]
            )
    path = publish(
        args.name,
        'Live latency: produce to alert, produce to first EARLY pane',
        [
            'runner',
            'orders/s',
            'alerts delivered',
            'p50 ms',
            'p95 ms',
            'p99 ms',
            'max ms',
            'first EARLY pane ms',
            'load (1 min) per run',
        ],
        rows,
        context(seconds=args.seconds, repeats=args.repeats, early_firing_s=EARLY_FIRING_S),
    )
    log(f'written to {path}')


if __name__ == '__main__':
    sys.exit(run_command(main))
