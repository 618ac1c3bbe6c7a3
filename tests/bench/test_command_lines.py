"""Every benchmark's command line follows the shared rules (pipelines/command_line.py): a
dashed or unknown option is one error line and exit code 2, and --help shows the defaults."""

import importlib
import subprocess
import sys

import pytest

BENCHMARKS = [
    'codecs',
    'end_to_end',
    'faults',
    'kafka_io',
    'live_latency',
    'runners',
    'soak',
    'transforms',
]


def parse(name, argv):
    module = importlib.import_module(f'bench.{name}')
    return (module.parse_args if hasattr(module, 'parse_args') else module.main)(argv)


@pytest.mark.parametrize('name', BENCHMARKS)
def test_an_unknown_option_is_one_error_line_and_exit_code_2(name, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(name, ['--no_such_option=1'])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        'error: unknown option --no_such_option; see --help for the options\n'
    )


@pytest.mark.parametrize(
    'name, dashed, underscored',
    [
        ('faults', '--kill-at', '--kill_at'),
        ('soak', '--sample-s', '--sample_s'),
        ('runners', '--flink-session', '--flink_session'),
        ('codecs', '--output-dir', '--output_dir'),
        ('live_latency', '--drain-s', '--drain_s'),
    ],
)
def test_the_dashed_spelling_names_the_underscore_one(name, dashed, underscored, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(name, [dashed])
    assert stopped.value.code == 2
    assert (
        f'unknown option {dashed} (options are spelled with underscores: {underscored})'
        in capsys.readouterr().err
    )


@pytest.mark.parametrize('name', BENCHMARKS)
def test_help_names_the_command_and_shows_the_defaults(name, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(name, ['--help'])
    assert stopped.value.code == 0
    out = ' '.join(capsys.readouterr().out.split())
    assert out.startswith(f'usage: python -m bench.{name} [options]')
    assert '(default: ' in out and '--verbose' in out


@pytest.mark.parametrize('name', ['transforms', 'live_latency'])  # each imports Beam at once
def test_run_as_a_command_it_prints_no_import_time_warning(name):
    """Every benchmark goes through bench/__init__.py first; two stand for the eight (each
    run is a fresh interpreter importing Beam: about 2 s)."""
    ran = subprocess.run(
        [sys.executable, '-m', f'bench.{name}', '--no_such_option=1'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 2
    assert ran.stderr == 'error: unknown option --no_such_option; see --help for the options\n'


def test_verbose_brings_the_warnings_back():
    ran = subprocess.run(
        [sys.executable, '-m', 'bench.soak', '--verbose', '--no_such_option=1'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert 'apitools not found' in ran.stderr
