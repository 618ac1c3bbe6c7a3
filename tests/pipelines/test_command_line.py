"""The rules every command shares: underscores, unknown options refused, one error line with
its exit code, defaults in --help, quiet libraries unless --verbose."""

import logging
import subprocess
import sys

import pytest

from pipelines.command_line import (
    CommandParser,
    EnvironmentNotReady,
    UsageError,
    quiet_harmless_warnings,
    run_command,
)
from pipelines.local.cache import REPO_ROOT


def parser() -> CommandParser:
    result = CommandParser('python -m example', 'An example.')
    result.add_argument('--plan_only', action='store_true', help='plan, do not send')
    result.add_argument('--count', type=int, default=10, help='records')
    result.add_argument('--topic', default='orders', help='topic (default: orders)')
    return result


@pytest.mark.parametrize(
    'argv, message',
    [
        (
            ['--plan-only'],
            'error: unknown option --plan-only '
            '(options are spelled with underscores: --plan_only); see --help for the options',
        ),
        (['--cuont=3'], 'error: unknown option --cuont (did you mean --count?); see --help'),
        (['--nothing_like_it', 'x'], 'error: unknown option --nothing_like_it; see --help'),
        (['--cou', '3'], 'error: unknown option --cou'),  # no abbreviations
        (
            ['--count', 'many'],
            "error: argument --count: invalid int value: 'many'; see python -m example --help",
        ),
        (['stray'], "error: unexpected argument 'stray'; see --help"),
    ],
)
def test_a_wrong_command_line_is_one_error_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        parser().parse_args(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count('\n') == 1


def test_help_shows_every_default_once_and_the_verbose_option(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(['--help'])
    out = ' '.join(capsys.readouterr().out.split())
    assert 'usage: python -m example [options]' in out
    assert 'records (default: 10)' in out
    assert 'topic (default: orders)' in out and 'orders) (default' not in out
    assert 'plan, do not send --count' in out  # a flag's False is no default worth showing
    assert '--verbose show tracebacks' in out


@pytest.mark.parametrize(
    'error, code',
    [
        (UsageError('bad --date'), 2),
        (ValueError('bad --date'), 2),
        (EnvironmentNotReady('no broker'), 1),
        (ConnectionError('no broker'), 1),
    ],
)
def test_a_user_facing_error_is_its_line_and_code_without_a_traceback(error, code, capsys):
    def body(argv):
        raise error

    assert run_command(body, []) == code
    assert capsys.readouterr().err == f'error: {error}\n'


def test_the_more_specific_class_decides_the_code(capsys):
    class Refused(ConnectionError):
        pass

    class Unreachable(Refused):
        pass

    def body(error):
        def raise_it(argv):
            raise error

        return raise_it

    kinds = {'usage_errors': (Refused,), 'environment_errors': (Unreachable,)}
    assert run_command(body(Refused('wrong password')), [], **kinds) == 2
    assert run_command(body(Unreachable('nothing listens')), [], **kinds) == 1
    capsys.readouterr()


def test_verbose_shows_the_traceback_and_is_not_passed_on(capsys):
    seen = []

    def body(argv):
        seen.extend(argv)
        raise UsageError('bad --date')

    assert run_command(body, ['--verbose', '--date=x']) == 2
    assert seen == ['--date=x']
    err = capsys.readouterr().err
    assert 'Traceback (most recent call last)' in err and err.endswith('error: bad --date\n')


def test_ctrl_c_is_exit_code_130_and_no_traceback(capsys):
    def body(argv):
        raise KeyboardInterrupt

    assert run_command(body, []) == 130
    assert capsys.readouterr().err == ''


def test_other_errors_are_not_hidden():
    def body(argv):
        raise KeyError('a bug')

    with pytest.raises(KeyError):
        run_command(body, [])


def test_the_body_code_is_the_exit_code():
    assert run_command(lambda argv: None, []) == 0
    assert run_command(lambda argv: 1, []) == 1


@pytest.fixture
def root_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    kafka_level = logging.getLogger('kafka').level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger('kafka').setLevel(kafka_level)


def test_harmless_warnings_are_held_back_unless_verbose(root_logging):
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    root_logging.handlers[:] = [Keep()]
    quiet_harmless_warnings([])
    logging.warning('apitools not found, and bigquery client libraries are not available')
    logging.getLogger('kafka.conn').warning('connect attempt to 127.0.0.1:1 failed')
    logging.getLogger('goldstream').warning('a warning worth reading')
    assert records == ['a warning worth reading']
    quiet_harmless_warnings(['--verbose'])
    logging.warning('apitools not found, and bigquery client libraries are not available')
    logging.getLogger('kafka.conn').warning('connect attempt to 127.0.0.1:1 failed')
    assert len(records) == 3


def test_the_module_imports_neither_beam_nor_kafka_so_warnings_can_be_quieted_first():
    loaded = subprocess.run(
        [
            sys.executable,
            '-c',
            'import sys, pipelines.command_line; '
            'print(sorted(m for m in sys.modules if m.split(".")[0] in ("apache_beam", "kafka")))',
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == '[]'


@pytest.mark.parametrize(
    'command',
    ['pipelines.streaming', 'pipelines.daily_report', 'pipelines.demo', 'pipelines.dataflow_job'],
)
def test_the_commands_print_no_warning_at_start(command):
    done = subprocess.run(
        [sys.executable, '-m', command, '--help'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0
    assert done.stderr == ''
    assert done.stdout.startswith(f'usage: python -m {command} ')
