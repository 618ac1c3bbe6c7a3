"""Chromium for the report page's browser test: used when there, else apt-get, else a line
saying what to do by hand."""

import pytest

from pipelines.local.install import chromium
from pipelines.local.install.tools import SetupFailed


def machine(tmp_path, *, environ=None, apt=True, root=False, sudo=False):
    return chromium.Machine(
        environ=environ if environ is not None else {'GOLDSTREAM_CACHE': str(tmp_path)},
        which=lambda name: f'/usr/bin/{name}' if apt else None,
        is_root=root,
        can_sudo=lambda: sudo,
    )


def test_the_binary_is_debians_unless_the_variable_names_another():
    assert chromium.binary({}) == chromium.DEFAULT_BINARY
    assert str(chromium.binary({'GOLDSTREAM_CHROMIUM': '/opt/c/chrome'})) == '/opt/c/chrome'


def test_a_binary_that_is_there_is_used_without_apt(tmp_path):
    binary = tmp_path / 'chrome'
    binary.write_text('#!/bin/sh\n')
    binary.chmod(0o755)
    chromium.set_up(machine(tmp_path, environ={'GOLDSTREAM_CHROMIUM': str(binary)}, apt=False))


def test_a_variable_naming_nothing_is_an_error_not_an_install(tmp_path):
    environ = {'GOLDSTREAM_CHROMIUM': str(tmp_path / 'missing')}
    with pytest.raises(SetupFailed, match='which is not an executable file') as failed:
        chromium.set_up(machine(tmp_path, environ=environ, root=True))
    assert 'unset it' in failed.value.hints[0]


def test_without_apt_get_it_says_to_install_chromium_by_hand(tmp_path, monkeypatch):
    monkeypatch.setattr(chromium, 'DEFAULT_BINARY', tmp_path / 'no-chromium')
    with pytest.raises(SetupFailed, match='there is no apt-get to install it') as failed:
        chromium.set_up(machine(tmp_path, apt=False))
    assert 'set GOLDSTREAM_CHROMIUM' in failed.value.hints[0]


def test_without_root_or_sudo_it_prints_the_command_to_run_as_root(tmp_path, monkeypatch):
    monkeypatch.setattr(chromium, 'DEFAULT_BINARY', tmp_path / 'no-chromium')
    with pytest.raises(SetupFailed, match='needs root, and sudo is not usable here') as failed:
        chromium.set_up(machine(tmp_path))
    assert failed.value.hints[0] == f'As root, run: {chromium.BY_HAND}'


def test_apt_runs_through_sudo_with_the_debs_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('GOLDSTREAM_CACHE', str(tmp_path))
    command = chromium.apt_command(machine(tmp_path, sudo=True))
    assert command[:4] == ['sudo', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get']
    assert f'Dir::Cache::archives={tmp_path / "apt" / "archives"}' in command
    assert chromium.apt_command(machine(tmp_path, root=True))[0] == 'env'


def test_stale_package_lists_are_refreshed_once(tmp_path, monkeypatch):
    installed = tmp_path / 'chromium'
    monkeypatch.setattr(chromium, 'DEFAULT_BINARY', installed)
    monkeypatch.setenv('GOLDSTREAM_CACHE', str(tmp_path))
    monkeypatch.setattr(chromium, 'has_candidate', lambda: True)
    ran = []

    def run_tool(command, what, hints, **_):
        ran.append('install' if 'install' in command else 'update')
        if ran == ['install']:
            raise SetupFailed('apt-get install chromium failed (exit code 100).', hints)
        if command[-1] == 'chromium':
            installed.write_text('')

    monkeypatch.setattr(chromium, 'run_tool', run_tool)
    chromium.set_up(machine(tmp_path, root=True))
    assert ran == ['install', 'update', 'install']
