"""What every goldstream command shares on its command line (docs/errors.md).

- One spelling: options are spelt with underscores, Beam's style (`--window_size_s`,
  `--plan_only`), in every command; the dashed spelling of a known option is refused with
  the underscore form named, and so is any other option the command does not know.
- Every default is shown in `--help`.
- A failure is one `error:` line and an exit code: 2 when the command line has to change
  (an unknown option, a bad value or date, a file or topic named that does not exist,
  security settings the broker refuses), 1 when the environment has to (no Kafka broker
  answers, the schema registry does not answer). Ctrl-C ends with 130 and no traceback.
  `--verbose` shows the traceback and the libraries' warnings.
- The libraries' harmless warnings (Beam's "apitools not found", kafka-python's connection
  retries) are held back unless `--verbose`.

This module imports neither Beam nor kafka-python, so a `__main__` can quiet the warnings
before the modules that print them at import are loaded.
"""

import argparse
import difflib
import logging
import sys
import traceback
from typing import Callable, Iterable, List, NoReturn, Optional, Sequence, Tuple, Type

VERBOSE = '--verbose'
USAGE = 2
ENVIRONMENT = 1
INTERRUPTED = 130
HARMLESS_MESSAGES = (
    'apitools not found, and bigquery client libraries are not available',
    'Discarding unparseable args',  # Beam on an option it does not know: we say it better
    'This output type hint will be ignored',  # Beam on a transform's type hints: internal
    'This input type hint will be ignored',
)
"""Log messages (by their start) that say nothing a goldstream user can act on."""
NOISY_LOGGERS = ('kafka', 'apache_beam.utils.subprocess_server', 'PrismRunner')
"""Loggers held to ERROR unless `--verbose`: kafka-python logs every failed connection
attempt and every consumer without a group (the command's own check says once what is
wrong); Beam logs each start and stop of the Prism or Flink job server at WARNING, and
Prism its endpoint and each finished job at INFO."""


class UsageError(ValueError):
    """The command line is wrong; the message is one line saying what to change (exit 2)."""


class EnvironmentNotReady(RuntimeError):
    """Something the command needs is not there (a broker, a registry); the message is one
    line saying what to start (exit 1)."""


def underscored(option: str) -> str:
    """`--plan-only` → `--plan_only`: the one spelling of an option."""
    return option[:2] + option[2:].replace('-', '_') if option.startswith('--') else option


def unknown_option_message(name: str, known: Iterable[str]) -> str:
    """The one line for an option no parser of the command declares."""
    known = sorted(option for option in known if option.startswith('--'))
    return f'unknown option {name}{_did_you_mean(name, known)}; see --help for the options'


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    spelled = underscored(name)
    if spelled != name and spelled in known:
        return f' (options are spelled with underscores: {spelled})'
    close = difflib.get_close_matches(spelled, known, n=1, cutoff=0.75)
    return f' (did you mean {close[0]}?)' if close else ''


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's layout and adds "(default: X)" to every option's help that
    does not already show its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ''
        if (
            'default' in text
            or action.default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f'{text} (default: %(default)s)'.lstrip()


class CommandParser(argparse.ArgumentParser):
    """An argparse parser with the shared rules: no abbreviations, an `unknown option`
    line with a hint for a dashed or misspelled option, errors as one line and exit code 2,
    defaults in `--help`, and `--verbose` listed."""

    def __init__(self, prog: str, description: Optional[str] = None, **kwargs) -> None:
        kwargs.setdefault('usage', '%(prog)s [options]  (--help lists them)')
        super().__init__(
            prog=prog,
            description=description,
            formatter_class=HelpFormatter,
            allow_abbrev=False,
            **kwargs,
        )
        self.add_argument(
            VERBOSE, action='store_true', help="show tracebacks and the libraries' warnings"
        )

    def format_help(self) -> str:
        for action in self._actions:  # an option without help would hide its default
            if (
                action.help is None
                and action.option_strings
                and action.default not in (None, False, argparse.SUPPRESS)
            ):
                action.help = '(default: %(default)s)'
        return super().format_help()

    def parse_args(self, args=None, namespace=None):
        parsed, extra = self.parse_known_args(args, namespace)
        options = [arg for arg in extra if arg.startswith('-')]
        if options:
            self.fail(
                unknown_option_message(options[0].split('=', 1)[0], self._option_string_actions)
            )
        if extra:
            self.fail(f'unexpected argument {extra[0]!r}; see --help')
        return parsed

    def error(self, message: str) -> NoReturn:
        """argparse's own complaints (a bad value, a missing argument), as one line."""
        self.fail(f'{message}; see {self.prog} --help')

    def fail(self, message: str) -> NoReturn:
        """Prints `error: message` and exits with 2."""
        self.exit(USAGE, f'error: {message}\n')


class _HoldBackHarmless(logging.Filter):
    """Drops the harmless messages, and what the noisy loggers say below ERROR (on the
    handler: a library may set its logger's level again after `quiet_harmless_warnings`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR and any(
            record.name == name or record.name.startswith(name + '.') for name in NOISY_LOGGERS
        ):
            return False
        return not str(record.msg).startswith(HARMLESS_MESSAGES)


def quiet_harmless_warnings(argv: Optional[Sequence[str]] = None) -> bool:
    """Sets up logging for a command: WARNING and up on stderr, the harmless messages and
    the noisy loggers held back, unless `--verbose` is in `argv` (sys.argv by default).

    Call it before importing Beam: Beam logs "apitools not found" when first imported.

    Returns:
        Whether `--verbose` was asked for.
    """
    verbose = VERBOSE in (sys.argv[1:] if argv is None else argv)
    root = logging.getLogger()
    if not root.handlers:
        stderr_handler = logging.StreamHandler(sys.stderr)
        stderr_handler.setFormatter(logging.Formatter('%(levelname)s %(name)s: %(message)s'))
        root.addHandler(stderr_handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    for handler in root.handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, _HoldBackHarmless)]
        if not verbose:
            handler.addFilter(_HoldBackHarmless())
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.ERROR)
    return verbose


def run_command(
    body: Callable[[List[str]], Optional[int]],
    argv: Optional[Sequence[str]] = None,
    usage_errors: Tuple[Type[BaseException], ...] = (),
    environment_errors: Tuple[Type[BaseException], ...] = (),
) -> int:
    """Runs a command's `body` with `argv` less `--verbose`; returns its exit code.

    `UsageError`, `ValueError` and `usage_errors` end with their one line and 2;
    `EnvironmentNotReady`, `ConnectionError` and `environment_errors` with their line and 1
    (the more specific class wins: list a subclass in one tuple and its base in the other
    and the subclass decides). Ctrl-C ends with 130. With `--verbose` the traceback is
    printed before the line.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = quiet_harmless_warnings(args)
    args = [arg for arg in args if arg != VERBOSE]
    usage: Tuple[Type[BaseException], ...] = (UsageError, ValueError, *usage_errors)
    environment: Tuple[Type[BaseException], ...] = (
        EnvironmentNotReady,
        ConnectionError,
        TimeoutError,
        *environment_errors,
    )
    try:
        code = body(args)
    except KeyboardInterrupt:
        if verbose:
            traceback.print_exc()
        return INTERRUPTED
    except (*usage, *environment) as error:  # pylint: disable=catching-non-exception
        if verbose:
            traceback.print_exc()
        print(f'error: {error}', file=sys.stderr)
        return _exit_code_of(error, usage, environment)
    return 0 if code is None else int(code)


def _exit_code_of(
    error: BaseException,
    usage: Tuple[Type[BaseException], ...],
    environment: Tuple[Type[BaseException], ...],
) -> int:
    """The code of the most specific class in either tuple that `error` is an instance of."""
    for klass in type(error).__mro__:
        if klass in environment:
            return ENVIRONMENT
        if klass in usage:
            return USAGE
    return USAGE if isinstance(error, usage) else ENVIRONMENT
