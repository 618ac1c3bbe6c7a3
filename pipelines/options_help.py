"""`--help` for pipeline modules: Beam's PipelineOptions parses it silently, so print the
options of the given classes (with their help strings and defaults) and exit."""
import argparse
import sys
from typing import Callable, Optional, Sequence, Type

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
    for options_class in (StandardOptions, *option_classes):
        options_class._add_argparse_args(parser)  # pylint: disable=protected-access
    parser.print_help()
    sys.exit(0)


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
