"""`python -m dashboard` run as a process of its own, as a user starts it, for the tests."""

import json
import os
import pathlib
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

ROOT = pathlib.Path(__file__).resolve().parents[2]
START_DEADLINE_S = 60
STOP_DEADLINE_S = 15


class RunningDashboard(NamedTuple):
    process: subprocess.Popen
    url: str
    """The page's address, with a trailing slash."""

    def get(self, path: str, timeout_s: float = 20.0) -> Tuple[int, str]:
        """(HTTP status, body) of a GET; an HTTP error status is returned, not raised."""
        try:
            with urllib.request.urlopen(self.url + path.lstrip('/'), timeout=timeout_s) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def state(self) -> Dict[str, Any]:
        status, body = self.get('api/state')
        assert status == 200, body
        return json.loads(body)


def start_dashboard(args: List[str], log: pathlib.Path) -> RunningDashboard:
    """Starts the dashboard on a free port and waits for its address line.

    Raises AssertionError (with the end of its log) when it exits or prints no address in time.
    """
    log_file = open(log, 'w')
    process = subprocess.Popen(
        [sys.executable, '-m', 'dashboard', '--port=0', *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log_file,
        text=True,
        env={**os.environ, 'PYTHONUNBUFFERED': '1'},
        start_new_session=True,
    )
    log_file.close()
    deadline = time.monotonic() + START_DEADLINE_S
    assert process.stdout is not None  # a pipe
    while process.poll() is None:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([process.stdout], [], [], left)
        line = process.stdout.readline() if ready else ''
        if line.startswith('dashboard: '):
            return RunningDashboard(process, line.split(' ', 1)[1].strip())
    stop_dashboard(process)
    raise AssertionError(
        f'the dashboard printed no address within {START_DEADLINE_S} s '
        f'(exit code {process.returncode}); its log:\n{log.read_text()[-3000:]}'
    )


def stop_dashboard(process: subprocess.Popen) -> int:
    """SIGTERM, then SIGKILL after `STOP_DEADLINE_S`; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


def poll_until(
    check: Callable[[], Optional[Any]], timeout_s: float, what: str, interval_s: float = 0.25
) -> Any:
    """Calls `check` until it returns something truthy, which is returned.

    Raises AssertionError naming `what` and the last value when `timeout_s` passes first.
    """
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)  # the interval between two checks of a condition
    raise AssertionError(f'{what}: not within {timeout_s:.0f} s (last: {last!r})')
