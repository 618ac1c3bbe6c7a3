"""The command line of the Beam pipeline commands, under the rules every goldstream command
shares (pipelines/command_line.py): `--help` (Beam's PipelineOptions parses it silently, so
print the options of the given classes, with their help strings and defaults, and exit), an
error for an unknown option, and one `error:` line with an exit code."""

import argparse
import logging
import sys
from typing import Callable, List, Optional, Sequence, Tuple, Type

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from connectors.kafka_access_check import KafkaAccessError, KafkaUnreachable
from connectors.schema_registry import SchemaRegistryUnavailableError
from pipelines.command_line import (
    VERBOSE,
    HelpFormatter,
    UsageError,
    run_command,
    unknown_option_message,
)


def exit_with_help_if_asked(
    argv: Optional[Sequence[str]],
    description: str,
    *option_classes: Type[PipelineOptions],
    prog: Optional[str] = None,
) -> None:
    """Prints the options of `option_classes` and exits 0 when argv asks for help; `prog`
    is the command (`python -m pipelines.streaming`), for the usage line."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not {'-h', '--help'} & set(args):
        return
    parser = argparse.ArgumentParser(
        prog=prog,
        usage='%(prog)s [options]  (--help lists them)',
        description=description,
        formatter_class=HelpFormatter,
        epilog='Any Beam pipeline option is accepted too (e.g. --runner, --flink_master).',
    )
    classes: Tuple[Type[PipelineOptions], ...] = (StandardOptions, *option_classes)
    for options_class in classes:
        # Beam's own parser subclass is not needed to list the options.
        options_class._add_argparse_args(parser)  # type: ignore[arg-type]  # pylint: disable=protected-access
    parser.add_argument(
        VERBOSE, action='store_true', help="show tracebacks and the libraries' warnings"
    )
    parser.print_help()
    sys.exit(0)


def reject_unknown_options(argv: Optional[Sequence[str]]) -> None:
    """Raises UsageError for the first option that no pipeline option class declares, or
    the first value that its option refuses (`--window_size_s=abc`).

    Beam's own parsing drops such an option with a log line and goes on (a misspelled
    `--window-size-s=60` ran with the default window), so every pipeline command checks
    first, with the parser Beam builds of every option class imported (this project's and
    Beam's, the runners' included).

    Raises:
        UsageError: Naming the option and, when one is close, the spelling meant; or the
            option and what is wrong with its value.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    parsers: List[argparse.ArgumentParser] = []
    beam_logger = logging.getLogger('apache_beam.options.pipeline_options')
    level = beam_logger.level
    beam_logger.setLevel(logging.ERROR)  # "Discarding unparseable args": we say it better

    def keep(parser: argparse.ArgumentParser) -> None:
        parser.exit_on_error = False  # a bad value raises, not Beam's 170-line usage and exit
        parsers.append(parser)

    try:
        PipelineOptions(args).get_all_options(add_extra_args_fn=keep)
        _, unknown = parsers[0].parse_known_args(args)
    except argparse.ArgumentError as error:
        raise UsageError(f'{error}; see --help for the options') from None
    finally:
        beam_logger.setLevel(level)
    parser = parsers[0]
    for arg in unknown:
        if arg.startswith('-'):
            known = parser._option_string_actions  # pylint: disable=protected-access
            raise UsageError(unknown_option_message(arg.split('=', 1)[0], known))


PIPELINE_USAGE_ERRORS = (KafkaAccessError,)
"""Besides ValueError: security settings the broker refuses (a wrong password, CA or port)."""
PIPELINE_ENVIRONMENT_ERRORS = (KafkaUnreachable, SchemaRegistryUnavailableError)
"""No broker, no schema registry: start them (KafkaUnreachable is a KafkaAccessError, but
nothing listening is not a wrong setting)."""


def exit_code_of_run(
    run: Callable[[Optional[Sequence[str]]], object], argv: Optional[Sequence[str]] = None
) -> int:
    """A pipeline command's exit code (pipelines/command_line.py): 0 when `run(argv)`
    returns; a wrong option or value, or a Kafka that refuses the security settings, is one
    `error:` line and 2; no broker or schema registry answering is one line and 1."""

    def body(args: List[str]) -> int:
        run(args)  # returns the pipeline results: done is 0
        return 0

    return run_command(
        body,
        argv,
        usage_errors=PIPELINE_USAGE_ERRORS,
        environment_errors=PIPELINE_ENVIRONMENT_ERRORS,
    )
