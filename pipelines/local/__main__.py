"""`python -m pipelines.local setup [step ...]`: the tools a local run needs, into the cache;
`python -m pipelines.local broker|flink|dashboard|airflow start|stop|status`: the local
background processes.

run_local.sh hands its `setup` and `broker|flink|dashboard|airflow start|stop|status` over to
it once the project's venv exists. `start` first sets up what the process runs from (the
Kafka jars, Flink's distribution, Airflow's venv), which is quick when it is there. `status`
exits 0 when up, 3 when down; a failure prints its log's tail (if any) and an `error:` line
that says what to do, and exits 1.
"""

import argparse
import sys
from typing import Any, Optional, Sequence

from pipelines.local import airflow, broker, flink, live_page
from pipelines.local.install import steps
from pipelines.local.process import ProcessFailed

ACTIONS = ('start', 'stop', 'status')


def parse_arguments(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='python -m pipelines.local', description=__doc__, allow_abbrev=False
    )
    commands = parser.add_subparsers(dest='command', required=True)
    install = commands.add_parser(
        'setup', allow_abbrev=False, help='download and build the tools (all by default)'
    )
    install.add_argument(
        'steps', nargs='*', metavar='step', help=f'some of: {", ".join(steps.STEPS)}'
    )
    kafka = commands.add_parser(
        'broker', allow_abbrev=False, help='the local one-node KRaft broker'
    )
    kafka.add_argument('action', choices=ACTIONS)
    kafka.add_argument(
        '--secure',
        action='store_true',
        help='the secured broker (SASL_SSL, SCRAM-SHA-512, client certificates)',
    )
    session = commands.add_parser(
        'flink', allow_abbrev=False, help='the local Flink session cluster'
    )
    session.add_argument('action', choices=ACTIONS)
    page = commands.add_parser(
        'dashboard', allow_abbrev=False, help='the live page, in the background'
    )
    page.add_argument('action', choices=ACTIONS)
    page.add_argument(
        '--group',
        help='the consumer group it watches (default '
        '$GOLDSTREAM_DASHBOARD_GROUP, else goldstream-demo)',
    )
    scheduler = commands.add_parser(
        'airflow', allow_abbrev=False, help="Airflow with the daily report's DAG"
    )
    scheduler.add_argument('action', choices=ACTIONS)
    args = parser.parse_args(argv)
    unknown = [name for name in getattr(args, 'steps', ()) if name not in steps.STEPS]
    if unknown:
        install.error(f'no set-up step {unknown[0]!r}; the steps are {", ".join(steps.STEPS)}')
    return args


MODULES = {'broker': broker, 'flink': flink, 'dashboard': live_page, 'airflow': airflow}


def target_of(args: argparse.Namespace) -> Any:
    """The settings of the process the command acts on, from the environment."""
    if args.command == 'broker':
        return broker.Broker.from_environment(secure=args.secure)
    if args.command == 'flink':
        return flink.FlinkCluster.from_environment()
    if args.command == 'dashboard':
        return live_page.LivePage.from_environment(args.group)
    return airflow.Airflow.from_environment()


SET_UP_BEFORE_START = {'broker': 'kafka', 'flink': 'flink_dist', 'airflow': 'airflow'}
"""The set-up step a process runs from."""


def run(args: argparse.Namespace) -> int:
    """Runs one command (each module has start, stop and status); returns the exit code."""
    if args.command == 'setup':
        steps.set_up_and_say(args.steps)
        return 0
    if args.action == 'start' and args.command in SET_UP_BEFORE_START:
        steps.set_up([SET_UP_BEFORE_START[args.command]])
    exit_code = getattr(MODULES[args.command], args.action)(target_of(args))
    return exit_code or 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        return run(parse_arguments(argv))
    except ProcessFailed as failure:
        sys.stdout.flush()
        sys.stderr.write(failure.report())
        return 1


if __name__ == '__main__':
    sys.exit(main())
