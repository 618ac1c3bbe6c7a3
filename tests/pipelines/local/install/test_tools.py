"""The set-up steps' shared parts: Java's version, running a tool, the cache's lock."""

import subprocess
import sys

import pytest

from pipelines.local.install import tools


@pytest.mark.parametrize(
    'output, major',
    [
        ('openjdk version "17.0.9" 2023-10-17\nOpenJDK Runtime Environment', 17),
        ('openjdk version "25" 2025-09-16', 25),
        ('java version "1.8.0_392"', 8),
        ('no version here', None),
    ],
)
def test_java_major_reads_java_version_output(output, major):
    assert tools.java_major(output) == major


def test_a_missing_command_says_what_to_install(monkeypatch):
    monkeypatch.setenv('PATH', '/nonexistent')
    with pytest.raises(tools.SetupFailed) as failed:
        tools.require_command('mvn', 'Apache Maven 3.8+')
    assert str(failed.value) == "'mvn' was not found on PATH."
    assert failed.value.hints == ('Install Apache Maven 3.8+ and run this again.',)


def test_an_old_java_is_refused_with_what_to_do(tmp_path, monkeypatch):
    java = tmp_path / 'java'
    java.write_text('#!/bin/sh\necho \'java version "1.8.0_392"\' >&2\n')
    java.chmod(0o755)
    monkeypatch.setenv('PATH', str(tmp_path))
    with pytest.raises(
        tools.SetupFailed, match=r'^Java 8 found at .*need 17 or newer\.$'
    ) as failed:
        tools.require_java()
    assert 'Install a JDK 17+' in failed.value.hints[0]


def test_run_tool_returns_captured_output_and_raises_with_hints_on_failure():
    said = tools.run_tool([sys.executable, '-c', 'print("hello")'], 'echo', [], capture=True)
    assert said == 'hello\n'
    with pytest.raises(tools.SetupFailed) as failed:
        tools.run_tool([sys.executable, '-c', 'raise SystemExit(3)'], 'the tool', ['Do this.'])
    assert str(failed.value) == 'the tool failed (exit code 3).'
    assert failed.value.report().endswith(
        'error: the tool failed (exit code 3).\n       Do this.\n'
    )


def test_run_tool_names_a_program_that_does_not_exist():
    with pytest.raises(tools.SetupFailed, match='no-such-program was not found'):
        tools.run_tool(['no-such-program'], 'the tool', ['Install it.'])


def test_the_cache_lock_is_one_set_up_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setenv('GOLDSTREAM_CACHE', str(tmp_path))
    other = [
        sys.executable,
        '-c',
        'from pipelines.local.install.tools import cache_lock\n'
        'with cache_lock(wait_s=0.5):\n'
        '    print("got it")\n',
    ]
    with tools.cache_lock():
        held = subprocess.run(other, capture_output=True, text=True, check=False)
    assert held.returncode != 0
    assert 'is still held after 0 s' in held.stderr or 'is still held after 1 s' in held.stderr
    free = subprocess.run(other, capture_output=True, text=True, check=False)
    assert free.stdout == 'got it\n', free.stderr


def test_a_finished_folder_has_its_stamp(tmp_path):
    folder = tools.fresh_folder(tmp_path / 'a' / 'b')
    assert not tools.is_finished(folder)
    tools.mark_finished(folder)
    assert tools.is_finished(folder)
    (folder / 'half-built').write_text('x')
    tools.fresh_folder(folder)
    assert list(folder.iterdir()) == []


def test_a_quiet_tool_shows_its_output_only_when_it_fails(capfd):
    script = 'import sys; print("\\x1b[1mresolving\\x1b[m"); sys.exit(1)'
    with pytest.raises(tools.SetupFailed) as failed:
        tools.run_tool([sys.executable, '-c', script], 'maven', ['Read it.'], quiet=True)
    assert failed.value.log_tail == 'resolving\n'
    assert failed.value.report() == (
        'resolving\nerror: maven failed (exit code 1).\n       Read it.\n'
    )
    tools.run_tool([sys.executable, '-c', 'print("fine")'], 'maven', [], quiet=True)
    assert capfd.readouterr().out == ''
