"""What the set-up steps share: the failure they raise, running a tool with progress, the
prerequisites on PATH, the stamp of a finished step and the cache's lock."""

import contextlib
import fcntl
import os
import pathlib
import re
import shutil
import subprocess
import threading
import time
from typing import Iterator, Mapping, Optional, Sequence

from pipelines.local.cache import cache_dir
from pipelines.local.process import ProcessFailed, say

STAMP = '.goldstream-complete'
HEARTBEAT_S = 30.0
LOCK_WAIT_S = 1800.0
OUTPUT_TAIL_LINES = 60
ANSI_CODE = re.compile(r'\x1b\[[0-9;]*m')  # Maven 3.8 colours even with -B
JAVA_HINT = 'a Java 17+ JDK (e.g. Debian: apt-get install openjdk-17-jdk-headless)'


class SetupFailed(ProcessFailed):
    """A set-up step could not finish; `hints` say what to do (printed as run_local.sh's
    `error:` lines, exit 1)."""


def is_finished(folder: pathlib.Path) -> bool:
    """Whether a step finished filling `folder` (its stamp is written last)."""
    return (folder / STAMP).is_file()


def mark_finished(folder: pathlib.Path) -> None:
    (folder / STAMP).touch()


def require_command(name: str, what_to_install: str) -> str:
    """The path of `name` on PATH; else SetupFailed saying what to install."""
    found = shutil.which(name)
    if found is None:
        raise SetupFailed(
            f"'{name}' was not found on PATH.", [f'Install {what_to_install} and run this again.']
        )
    return found


def java_major(version_output: str) -> Optional[int]:
    """The major version in `java -version`'s output (`"17.0.9"` → 17, `"1.8.0_392"` → 8)."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def require_java() -> None:
    """A Java 17+ on PATH (Kafka 4 and the Flink job server need it)."""
    java = require_command('java', JAVA_HINT)
    shown = subprocess.run([java, '-version'], capture_output=True, text=True, check=False)
    major = java_major(shown.stderr + shown.stdout)
    if major is None or major < 17:
        raise SetupFailed(
            f'Java {major or "of unknown version"} found at {java}; Kafka and Flink need 17 '
            'or newer.',
            ['Install a JDK 17+ and put it first on PATH (or set JAVA_HOME and PATH accordingly).'],
        )


def run_tool(
    command: Sequence[str],
    what: str,
    hints: Sequence[str],
    cwd: Optional[pathlib.Path] = None,
    env: Optional[Mapping[str, str]] = None,
    capture: bool = False,
    quiet: bool = False,
) -> str:
    """Runs `command` with its output on the terminal, or captured and returned (`capture`:
    stdout only; `quiet`: both, shown only when it fails); says `what` is still running every
    HEARTBEAT_S seconds; raises SetupFailed with `hints` when it fails. A tool's own progress
    is often quiet (Maven -q, pip): the heartbeat shows the set-up is alive."""
    started = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(HEARTBEAT_S):
            say(f'{what}: still running ({time.monotonic() - started:.0f} s)')

    beating = threading.Thread(target=heartbeat, daemon=True)
    beating.start()
    try:
        finished = subprocess.run(
            list(command),
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
            stdout=subprocess.PIPE if capture or quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            text=True,
            check=False,
        )
    except FileNotFoundError as missing:
        raise SetupFailed(f'{what} failed: {command[0]} was not found.', hints) from missing
    finally:
        done.set()
    if finished.returncode != 0:
        shown = ''
        if quiet:
            lines = ANSI_CODE.sub('', finished.stdout or '').splitlines()[-OUTPUT_TAIL_LINES:]
            shown = ''.join(line + '\n' for line in lines)
        raise SetupFailed(f'{what} failed (exit code {finished.returncode}).', hints, shown)
    return finished.stdout or ''


@contextlib.contextmanager
def cache_lock(wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """One set-up at a time per cache: two clones (or CI jobs) sharing it would otherwise
    build into the same folder, each deleting the other's half-built copy. The lock file is
    the one run_local.sh takes while it builds the project's venv."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    lock_path = cache / '.setup.lock'
    with open(lock_path, 'w', encoding='ascii') as lock:
        deadline = time.monotonic() + wait_s
        waiting_said = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SetupFailed(
                        f'the set-up lock {lock_path} is still held after {wait_s:.0f} s.',
                        [
                            'Check for a stuck set-up (ps aux | grep -e run_local -e '
                            'pipelines.local), stop it, then run this again.'
                        ],
                    ) from None
                if not waiting_said:
                    say(f'Another set-up is filling {cache}; waiting for it')
                    waiting_said = True
                time.sleep(1.0)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def fresh_folder(folder: pathlib.Path) -> pathlib.Path:
    """Empties `folder` (what a failed run left) and creates it with its parents."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
