"""Airflow in the background: `./run_local.sh airflow start|stop|status`.

What `airflow standalone` runs (API server and web UI on 127.0.0.1:$GOLDSTREAM_AIRFLOW_PORT,
default 8280; scheduler; DAG processor; triggerer), each started here so that the log servers
of the scheduler and the triggerer stay off: standalone cannot skip them, and they listen on
every interface (task logs are read from the home's logs/ by the API server instead). The
processes share one process group, led by a small shell that waits for them; the DAG folder
is dags/. Home, database and logs live in $GOLDSTREAM_STATE_DIR/airflow. `start` returns when
the API server's health check answers, within $GOLDSTREAM_AIRFLOW_START_DEADLINE_S (180 s).
"""

import dataclasses
import json
import os
import pathlib
import subprocess
import urllib.error
import urllib.request
from typing import Dict, Mapping, Optional

from pipelines.local import cache
from pipelines.local.process import LocalProcess, ProcessFailed, port_in_use, say, tail

STOP_DEADLINE_S = 20.0
COMPONENTS = ('api-server', 'scheduler', 'dag-processor', 'triggerer')
GROUP_NAME = 'goldstream-airflow'
# The group leader: starts the four components, each logging to its own file, and waits.
LAUNCHER = """
airflow api-server >"$1/api-server.log" 2>&1 &
airflow scheduler --skip-serve-logs >"$1/scheduler.log" 2>&1 &
airflow dag-processor >"$1/dag-processor.log" 2>&1 &
airflow triggerer --skip-serve-logs >"$1/triggerer.log" 2>&1 &
wait
"""


@dataclasses.dataclass(frozen=True)
class Airflow:
    """This clone's Airflow: its port and folders, as the environment sets them."""

    port: int
    state: pathlib.Path
    start_deadline_s: float

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> 'Airflow':
        env = os.environ if environ is None else environ
        return cls(
            int(env.get('GOLDSTREAM_AIRFLOW_PORT') or 8280),
            cache.state_dir(env) / 'airflow',
            float(env.get('GOLDSTREAM_AIRFLOW_START_DEADLINE_S') or 180),
        )

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def home(self) -> pathlib.Path:
        return self.state / 'home'

    @property
    def logs(self) -> pathlib.Path:
        return self.state / 'logs'

    @property
    def process(self) -> LocalProcess:
        return LocalProcess(
            'Airflow',
            self.state / 'airflow.pid',
            self.logs / 'launcher.out',
            (GROUP_NAME, str(self.logs)),
            other_logs=tuple(self.logs / f'{name}.log' for name in COMPONENTS),
            called='Airflow',
        )

    def settings(self) -> Dict[str, str]:
        """The environment of Airflow's commands for this clone."""
        return dict(
            os.environ,
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(cache.REPO_ROOT / 'dags'),
            AIRFLOW__CORE__LOAD_EXAMPLES='False',
            AIRFLOW__CORE__EXECUTOR='LocalExecutor',
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f'{self.url}/execution/',
            AIRFLOW__API__HOST='127.0.0.1',
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=self.url,
            NO_COLOR='1',
            PATH=f'{cache.airflow_venv() / "bin"}{os.pathsep}{os.environ.get("PATH", "")}',
        )

    def answers(self) -> bool:
        """Whether the API server's health check answers (never through a proxy)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f'{self.url}/api/v2/monitor/health', timeout=2) as answer:
                return answer.status == 200
        except (OSError, urllib.error.URLError, ValueError):
            return False

    def login(self) -> str:
        """`user / password` of the admin user the API server generated."""
        passwords = self.home / 'simple_auth_manager_passwords.json.generated'
        try:
            users = json.loads(passwords.read_text())
        except (OSError, ValueError):
            return f'(see {passwords})'
        return ', '.join(f'{user} / {password}' for user, password in users.items())


def _migrate(airflow: Airflow) -> None:
    say(f"Preparing Airflow's database in {airflow.home}")
    log = airflow.logs / 'db-migrate.log'
    with log.open('w') as output:
        migrated = subprocess.run(
            [str(cache.airflow_venv() / 'bin' / 'airflow'), 'db', 'migrate'],
            env=airflow.settings(),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if migrated.returncode != 0:
        raise ProcessFailed('airflow db migrate failed; its log is above.', log_tail=tail(log, 30))


def start(airflow: Airflow) -> None:
    """Starts Airflow unless this clone's runs; prints its UI's address and login.

    Raises:
      ProcessFailed: Airflow's venv is missing, the port is taken, the database could not be
        migrated, or Airflow died or did not answer in time (what was started is stopped).
    """
    process = airflow.process
    pid = process.pid()
    if pid is not None:
        say(f'Airflow already up (pid {pid}); UI {airflow.url}, login {airflow.login()}')
        return
    if not (cache.airflow_venv() / 'bin' / 'airflow').is_file():
        raise ProcessFailed(
            f"Airflow's venv is not in {cache.airflow_venv()}.",
            ["Run ./run_local.sh setup first (it builds Airflow's venv)."],
        )
    if port_in_use(airflow.port):
        raise ProcessFailed(
            f'port {airflow.port} on 127.0.0.1 is already taken by another process.',
            [
                'Pick a free one: GOLDSTREAM_AIRFLOW_PORT=18280 ./run_local.sh airflow start;',
                f"'ss -ltnp' shows who holds {airflow.port}.",
            ],
        )
    airflow.home.mkdir(parents=True, exist_ok=True)
    airflow.logs.mkdir(parents=True, exist_ok=True)
    _migrate(airflow)
    version = cache.read_versions()['AIRFLOW_VERSION']
    say(
        f'Starting Airflow {version} (API server, scheduler, DAG processor, triggerer) on '
        f'{airflow.url} (logs: {airflow.logs})'
    )
    pid = process.start(['bash', '-c', LAUNCHER, GROUP_NAME, str(airflow.logs)], airflow.settings())
    try:
        took = process.wait_until_ready(
            pid, airflow.answers, airflow.start_deadline_s, 'answer on its API server'
        )
    except ProcessFailed:
        process.stop(STOP_DEADLINE_S)
        raise
    say(f'Airflow up (pid {pid}) after {took:.0f} s')
    print(
        f'Airflow UI     {airflow.url}\n'
        f'login          {airflow.login()}\n'
        'DAG            goldstream_daily_report (paused; unpause it in the UI to run nightly '
        'at 02:00 UTC)\n'
        'settings       Airflow Variables goldstream_report_* and the connection '
        'goldstream_smtp\n'
        '               (see docs/scheduling.md); stop with ./run_local.sh airflow stop',
        flush=True,
    )


def stop(airflow: Airflow) -> None:
    """Stops every process of the group this clone started."""
    if airflow.process.stop(STOP_DEADLINE_S):
        say('Airflow stopped')
    else:
        say(f'Airflow is not running (nothing started from {airflow.state})')


def status(airflow: Airflow) -> int:
    """Prints `up (...)` and returns 0 when it runs and answers, else `down` and 3."""
    pid = airflow.process.pid()
    if pid is None or not airflow.answers():
        print('down')
        return 3
    print(f'up (pid {pid}, UI {airflow.url}, home {airflow.home}, logs {airflow.logs})')
    return 0
