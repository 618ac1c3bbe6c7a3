"""`--help` for pipeline modules: Beam's PipelineOptions parses it silently, so print the
options of the given classes (with their help strings and defaults) and exit."""
import argparse
import difflib
import logging
import sys
from typing import Callable, List, Optional, Sequence, Tuple, Type

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from connectors.kafka_access_check import KafkaAccessError
from connectors.schema_registry import SchemaRegistryUnavailableError


def exit_with_help_if_asked(argv: Optional[Sequence[str]], description: str,
                            *option_classes: Type[PipelineOptions]) -> None:
    """Prints the options of `option_classes` and exits 0 when argv asks for help."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not {'-h', '--help'} & set(args):
        return
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Any Beam pipeline option is accepted too (e.g. --runner, --flink_master).')
    classes: Tuple[Type[PipelineOptions], ...] = (StandardOptions, *option_classes)
    for options_class in classes:
        # Beam's own parser subclass is not needed to list the options.
        options_class._add_argparse_args(parser)  # type: ignore[arg-type]  # pylint: disable=protected-access
    parser.print_help()
    sys.exit(0)


def reject_unknown_options(argv: Optional[Sequence[str]]) -> None:
    """Raises ValueError for the first option that no pipeline option class declares.

    Beam's own parsing drops such an option with a log line and goes on (a misspelled
    `--window-size-s=60` ran with the default window), so every pipeline command checks
    first, with the parser Beam builds of every option class imported (this project's and
    Beam's, the runners' included).

    Raises:
        ValueError: Naming the option and, when one is close, the spelling meant.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    parsers: List[argparse.ArgumentParser] = []
    beam_logger = logging.getLogger('apache_beam.options.pipeline_options')
    level = beam_logger.level
    beam_logger.setLevel(logging.ERROR)  # "Discarding unparseable args": we say it better
    try:
        PipelineOptions(args).get_all_options(add_extra_args_fn=parsers.append)
    finally:
        beam_logger.setLevel(level)
    parser = parsers[0]
    _, unknown = parser.parse_known_args(args)
    for arg in unknown:
        if arg.startswith('-'):
            name = arg.split('=', 1)[0]
            known = sorted(option for option in parser._option_string_actions  # pylint: disable=protected-access
                           if option.startswith('--'))
            raise ValueError(f'unknown option {name}{_did_you_mean(name, known)}; '
                             'see --help for the options')


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    underscored = name[:2] + name[2:].replace('-', '_')
    if underscored != name and underscored in known:
        return f' (options are spelled with underscores: {underscored})'
    close = difflib.get_close_matches(underscored, known, n=1, cutoff=0.75)
    return f' (did you mean {close[0]}?)' if close else ''


def exit_code_of_run(run: Callable[[Optional[Sequence[str]]], object],
                     argv: Optional[Sequence[str]] = None) -> int:
    """A pipeline command's exit code: 0 when `run(argv)` returns; a wrong option, a Kafka
    that refuses the security settings (a wrong password, CA or port) or a schema registry
    that does not answer is one `error:` line on stderr and 2, not a traceback."""
    try:
        run(argv)
    except (ValueError, KafkaAccessError, SchemaRegistryUnavailableError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    return 0
