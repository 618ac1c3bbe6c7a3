"""Debian's chromium, which the test of report.html runs headless: used when it is there
(or `GOLDSTREAM_CHROMIUM` names another binary), else installed with apt-get, as root or
through sudo. The .debs go to the cache, not /var/cache/apt (which Debian images empty after
each install), so a re-install downloads nothing."""

import dataclasses
import os
import pathlib
import shutil
import subprocess
from typing import Callable, List, Mapping, Optional

from pipelines.local import cache
from pipelines.local.install.tools import SetupFailed, run_tool
from pipelines.local.process import say

DEFAULT_BINARY = pathlib.Path('/usr/bin/chromium')
BY_HAND = 'apt-get install -y --no-install-recommends chromium'
LOCK_TIMEOUT_S = 300  # another apt-get holding the lock is waited for


def binary(environ: Optional[Mapping[str, str]] = None) -> pathlib.Path:
    """The Chromium the tests run: `GOLDSTREAM_CHROMIUM`, else Debian's."""
    configured = (os.environ if environ is None else environ).get('GOLDSTREAM_CHROMIUM')
    return pathlib.Path(configured) if configured else DEFAULT_BINARY


@dataclasses.dataclass(frozen=True)
class Machine:
    """What the install depends on, so that a test can stand in for the machine."""

    environ: Mapping[str, str] = dataclasses.field(default_factory=lambda: dict(os.environ))
    which: Callable[[str], Optional[str]] = shutil.which
    is_root: bool = dataclasses.field(default_factory=lambda: os.geteuid() == 0)
    can_sudo: Callable[[], bool] = lambda: _sudo_usable()


def _sudo_usable() -> bool:
    """sudo without a password, or with a terminal to ask for one on."""
    if shutil.which('sudo') is None:
        return False
    quiet = subprocess.run(['sudo', '-n', 'true'], capture_output=True, check=False)
    return quiet.returncode == 0 or os.isatty(0)


def apt_command(machine: Machine) -> List[str]:
    """apt-get as root (directly or through sudo), non-interactive, .debs in the cache;
    SetupFailed saying what to do by hand when there is no apt-get or no way to root."""
    chromium = binary(machine.environ)
    if machine.environ.get('GOLDSTREAM_CHROMIUM'):
        raise SetupFailed(
            f'GOLDSTREAM_CHROMIUM is {chromium}, which is not an executable file.',
            [
                'Point it at a Chromium binary, or unset it to use (and install) '
                "Debian's /usr/bin/chromium."
            ],
        )
    if machine.which('apt-get') is None:
        raise SetupFailed(
            f'Chromium is not installed ({chromium} is missing) and there is no apt-get '
            'to install it.',
            [f'Install Chromium and set GOLDSTREAM_CHROMIUM to its binary (on Debian: {BY_HAND}).'],
        )
    as_root: List[str] = []
    if not machine.is_root:
        if not machine.can_sudo():
            raise SetupFailed(
                f'Chromium is not installed ({chromium} is missing); installing it needs root, '
                'and sudo is not usable here.',
                [
                    f'As root, run: {BY_HAND}',
                    '(or set GOLDSTREAM_CHROMIUM to a Chromium binary), then run this again.',
                ],
            )
        as_root = ['sudo']
    return [
        *as_root,
        'env',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        '-q',
        '-y',
        '-o',
        f'Dir::Cache::archives={archives_dir()}',
        '-o',
        f'DPkg::Lock::Timeout={LOCK_TIMEOUT_S}',
    ]


def archives_dir() -> pathlib.Path:
    return cache.cache_dir() / 'apt' / 'archives'


def has_candidate() -> bool:
    """Whether the package lists know a chromium to install."""
    policy = subprocess.run(
        ['apt-cache', 'policy', 'chromium'], capture_output=True, text=True, check=False
    )
    return any(
        line.strip().startswith('Candidate:') and '(none)' not in line
        for line in policy.stdout.splitlines()
    )


def set_up(machine: Optional[Machine] = None) -> None:
    machine = machine or Machine()
    chromium = binary(machine.environ)
    if os.access(chromium, os.X_OK) and chromium.is_file():
        say(f'Chromium ready: {chromium}')
        return
    apt = apt_command(machine)
    say(
        "Installing Debian's chromium with apt-get (first time only; the .debs stay in "
        f'{archives_dir()})'
    )
    (archives_dir() / 'partial').mkdir(parents=True, exist_ok=True)
    hints = [
        "Read apt's message above, fix the sources, then run this again",
        f'(or by hand: {BY_HAND}).',
    ]
    updated = False
    if not has_candidate():
        run_tool([*apt, 'update'], 'apt-get update', hints)
        updated = True
    install = [*apt, 'install', '--no-install-recommends', 'chromium']
    try:
        run_tool(install, 'apt-get install chromium', hints)
    except SetupFailed:
        if updated:
            raise
        # Package lists older than the mirror name .debs it no longer has: refresh them once.
        run_tool([*apt, 'update'], 'apt-get update', hints)
        run_tool(install, 'apt-get install chromium', hints)
    if not chromium.is_file():
        raise SetupFailed(f'apt-get installed chromium, yet {chromium} is missing.')
    say(f'Chromium ready: {chromium}')
