"""Running `./run_local.sh` from tests, on free ports of their own."""

import pathlib
import socket
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT_TIMEOUT_S = 300
"""Longer than any start deadline (Airflow's 180 s is the longest), so that a slow start ends
with the script's own error and log tail, not with the test's timeout."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_script(env, *args) -> subprocess.CompletedProcess:
    """`./run_local.sh <args>` with `env`, output captured, bounded by a timeout."""
    return subprocess.run(
        [str(ROOT / 'run_local.sh'), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )
