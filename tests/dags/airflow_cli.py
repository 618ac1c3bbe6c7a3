"""Running Airflow's own command line (from its venv) on the project's DAG folder.

Airflow has a virtual environment of its own (`./run_local.sh setup` builds it where
`cache.airflow_venv()` says; `GOLDSTREAM_AIRFLOW_BIN` names another `airflow`), so the tests
drive it as a program: `airflow db migrate` once for a scratch `AIRFLOW_HOME`, then
`airflow dags test` per DAG run, with settings passed the ways a deployment passes them
(Airflow Variables and connections as `AIRFLOW_VAR_*` and `AIRFLOW_CONN_*` environment
variables).
"""

import json
import os
import pathlib
import subprocess
from typing import Dict, List, Mapping, NamedTuple

from pipelines.local import cache

ROOT = pathlib.Path(__file__).resolve().parents[2]
DAGS = ROOT / 'dags'
DAG_ID = 'goldstream_daily_report'
COMMAND_TIMEOUT_S = 300


def airflow_binary() -> pathlib.Path:
    """The `airflow` of the venv `./run_local.sh setup` built."""
    configured = os.environ.get('GOLDSTREAM_AIRFLOW_BIN')
    return pathlib.Path(configured) if configured else cache.airflow_venv() / 'bin' / 'airflow'


def base_env(home: pathlib.Path) -> Dict[str, str]:
    """The environment of an Airflow command: a scratch home, this clone's DAGs, no examples."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(('AIRFLOW', 'GOLDSTREAM_REPORT_'))
    }
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES='False',
        NO_COLOR='1',
        AIRFLOW__LOGGING__LOGGING_LEVEL='INFO',
    )
    return env


def run(
    args: List[str], env: Mapping[str, str], timeout_s: float = COMMAND_TIMEOUT_S
) -> subprocess.CompletedProcess:
    """`airflow <args>`, output captured (stderr into stdout), bounded by a timeout."""
    return subprocess.run(
        [str(airflow_binary()), *args],
        env=dict(env),
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def migrate(home: pathlib.Path) -> None:
    """Creates Airflow's metadata database in `home` (SQLite)."""
    done = run(['db', 'migrate'], base_env(home))
    assert done.returncode == 0, done.stdout[-3000:]


def smtp_connection(port: int) -> str:
    """`AIRFLOW_CONN_GOLDSTREAM_SMTP`: plain SMTP on 127.0.0.1:`port`, no TLS, no login."""
    return json.dumps(
        {
            'conn_type': 'smtp',
            'host': '127.0.0.1',
            'port': port,
            'extra': {'disable_ssl': True, 'disable_tls': True, 'timeout': 10, 'retry_limit': 0},
        }
    )


class DagRun(NamedTuple):
    """What `airflow dags test` did: its exit code, output, and each task's tries."""

    returncode: int
    output: str

    def tries(self, task_id: str) -> int:
        """How many times the run started `task_id`."""
        return self.output.count(f'[DAG TEST] starting task_id={task_id} ')

    @property
    def state(self) -> str:
        """The run's final state as Airflow logged it ('success', 'failed', or '?')."""
        for line in reversed(self.output.splitlines()):
            if 'Marking run <DagRun' in line:
                return 'success' if '> successful' in line else 'failed'
        return '?'


def dags_test(
    home: pathlib.Path,
    logical_date: str,
    settings: Mapping[str, str],
    timeout_s: float = COMMAND_TIMEOUT_S,
) -> DagRun:
    """`airflow dags test goldstream_daily_report <logical_date>` with extra environment
    `settings` (Variables, connections, GOLDSTREAM_REPORT_* shape settings)."""
    env = base_env(home)
    env.update(settings)
    done = run(['dags', 'test', DAG_ID, logical_date], env, timeout_s)
    return DagRun(done.returncode, done.stdout)
