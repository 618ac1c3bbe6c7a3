"""The live page in the background: `./run_local.sh dashboard start|stop|status`.

`python -m dashboard` on $GOLDSTREAM_DASHBOARD_HOST:$GOLDSTREAM_DASHBOARD_PORT (default
127.0.0.1:8050), reading the local broker (127.0.0.1:$GOLDSTREAM_KAFKA_PORT) and watching the
consumer group $GOLDSTREAM_DASHBOARD_GROUP (default goldstream-demo); log and pid file in
$GOLDSTREAM_STATE_DIR/dashboard. `start` returns when the page has printed its address.
"""

import dataclasses
import os
import pathlib
import sys
from typing import Mapping, Optional

from pipelines.local import cache
from pipelines.local.process import LocalProcess, ProcessFailed, port_in_use, say

START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 20.0
ADDRESS_PREFIX = 'dashboard: '


@dataclasses.dataclass(frozen=True)
class LivePage:
    """The background live page's address, broker, group and folder."""

    host: str
    port: int
    brokers: str
    group: str
    state: pathlib.Path

    @classmethod
    def from_environment(
        cls, group: Optional[str] = None, environ: Optional[Mapping[str, str]] = None
    ) -> 'LivePage':
        env = os.environ if environ is None else environ
        kafka_port = env.get('GOLDSTREAM_KAFKA_PORT') or '9092'
        return cls(
            env.get('GOLDSTREAM_DASHBOARD_HOST') or '127.0.0.1',
            int(env.get('GOLDSTREAM_DASHBOARD_PORT') or 8050),
            f'127.0.0.1:{kafka_port}',
            group or env.get('GOLDSTREAM_DASHBOARD_GROUP') or 'goldstream-demo',
            cache.state_dir(env) / 'dashboard',
        )

    @property
    def process(self) -> LocalProcess:
        return LocalProcess(
            'live page',
            self.state / 'dashboard.pid',
            self.state / 'dashboard.log',
            ('-m', 'dashboard'),
        )

    def url(self) -> str:
        """The address the running page printed ('' before it has)."""
        try:
            lines = self.process.log_file.read_text(errors='replace').splitlines()
        except OSError:
            return ''
        addresses = [
            line[len(ADDRESS_PREFIX) :] for line in lines if line.startswith(ADDRESS_PREFIX)
        ]
        return addresses[-1] if addresses else ''


def start(page: LivePage) -> None:
    """Starts the page unless this clone's runs; returns when it has printed its address.

    Raises:
      ProcessFailed: the port is taken, or the page died or printed no address in time.
    """
    process = page.process
    pid = process.pid()
    if pid is not None:
        say(f'Live page already up (pid {pid}): {page.url()}')
        return
    if port_in_use(page.port):
        raise ProcessFailed(
            f'port {page.port} on 127.0.0.1 is already taken by another process.',
            [
                (
                    'Pick another: GOLDSTREAM_DASHBOARD_PORT=18050 ./run_local.sh ...; '
                    "'ss -ltnp' shows who holds it."
                )
            ],
        )
    env = dict(
        os.environ,
        PYTHONUNBUFFERED='1',
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(cache.REPO_ROOT), os.environ.get('PYTHONPATH')])
        ),
    )
    pid = process.start(
        [
            sys.executable,
            '-m',
            'dashboard',
            '--brokers',
            page.brokers,
            '--group',
            page.group,
            '--host',
            page.host,
            '--port',
            str(page.port),
        ],
        env,
    )
    try:
        process.wait_until_ready(
            pid, lambda: bool(page.url()), START_DEADLINE_S, 'print its address'
        )
    except ProcessFailed:
        process.stop(STOP_DEADLINE_S)
        raise
    say(f'Live page (pid {pid}, group {page.group}): {page.url()}')


def stop(page: LivePage) -> None:
    if not page.process.stop(STOP_DEADLINE_S):
        say(f'Live page is not running (nothing started from {page.state})')


def status(page: LivePage) -> int:
    pid = page.process.pid()
    if pid is None:
        print('down')
        return 3
    print(f'up (pid {pid}, {page.url()}, log {page.process.log_file})')
    return 0
