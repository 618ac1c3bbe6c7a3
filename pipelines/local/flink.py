"""The local Flink session cluster: `./run_local.sh flink start|stop|status`.

One JobManager and one TaskManager, started with java directly (no Flink scripts) from the
distribution `./run_local.sh setup` unpacked, with the REST API and web UI on
127.0.0.1:$GOLDSTREAM_FLINK_REST_PORT (default 8081) and the JobManager's RPC on
$GOLDSTREAM_FLINK_RPC_PORT (default REST port+1). Config, logs and pid files live in
$GOLDSTREAM_STATE_DIR/flink. `start` returns when the REST API reports a TaskManager with
its slots, within $GOLDSTREAM_FLINK_START_DEADLINE_S (default 90 s).
"""

import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import urllib.error
import urllib.request
from typing import Dict, List, Mapping, Optional, Tuple

from pipelines.local import cache
from pipelines.local.process import LocalProcess, ProcessFailed, is_alive, port_in_use, say

STOP_DEADLINE_S = 30.0
INFRA = cache.REPO_ROOT / 'infra' / 'flink'
MAIN_CLASSES = {
    'jobmanager': 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint',
    'taskmanager': 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner',
}
RESOURCE_KINDS = {'jobmanager': 'JM', 'taskmanager': 'TM'}
RESULT_PREFIX = 'BASH_JAVA_UTILS_EXEC_RESULT:'


@dataclasses.dataclass(frozen=True)
class FlinkCluster:
    """The session cluster's ports and folders, as the environment sets them."""

    rest_port: int
    rpc_port: int
    state: pathlib.Path
    start_deadline_s: float

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> 'FlinkCluster':
        env = os.environ if environ is None else environ
        rest = int(env.get('GOLDSTREAM_FLINK_REST_PORT') or 8081)
        rpc = int(env.get('GOLDSTREAM_FLINK_RPC_PORT') or rest + 1)
        deadline = float(env.get('GOLDSTREAM_FLINK_START_DEADLINE_S') or 90)
        return cls(rest, rpc, cache.state_dir(env) / 'flink', deadline)

    @property
    def rest_url(self) -> str:
        return f'http://127.0.0.1:{self.rest_port}'

    @property
    def conf_dir(self) -> pathlib.Path:
        return self.state / 'conf'

    @property
    def log_dir(self) -> pathlib.Path:
        return self.state / 'logs'

    def process(self, role: str) -> LocalProcess:
        """The jobmanager's or the taskmanager's process."""
        return LocalProcess(
            f'Flink {role}',
            self.state / f'{role}.pid',
            self.log_dir / f'flink-{role}.out',
            (MAIN_CLASSES[role], '--configDir', str(self.conf_dir)),
            other_logs=(self.log_dir / f'flink-{role}.log',),
        )

    def pids(self) -> Dict[str, Optional[int]]:
        return {role: self.process(role).pid() for role in MAIN_CLASSES}

    def taskmanagers(self) -> Optional[int]:
        """How many TaskManagers the REST API reports with their slots registered (one is
        listed a moment before its slots are); None when it does not answer."""
        try:
            with urllib.request.urlopen(f'{self.rest_url}/overview', timeout=2) as answer:
                overview = json.load(answer)
        except (OSError, ValueError, urllib.error.URLError):
            return None
        return int(overview.get('taskmanagers', 0)) if overview.get('slots-total') else 0

    def log_tail(self) -> str:
        return ''.join(self.process(role).log_tail(30) for role in MAIN_CLASSES)


def write_config(cluster: FlinkCluster) -> None:
    """config.yaml from infra/flink's template, and its log4j2.properties."""
    tmp = cluster.state / 'tmp'
    for folder in (cluster.conf_dir, cluster.log_dir, tmp):
        folder.mkdir(parents=True, exist_ok=True)
    text = (INFRA / 'config.yaml.template').read_text()
    for placeholder, value in (
        ('@REST_PORT@', str(cluster.rest_port)),
        ('@RPC_PORT@', str(cluster.rpc_port)),
        ('@TMP_DIR@', str(tmp)),
    ):
        text = text.replace(placeholder, value)
    (cluster.conf_dir / 'config.yaml').write_text(text)
    shutil.copyfile(INFRA / 'log4j2.properties', cluster.conf_dir / 'log4j2.properties')


def jvm_options() -> List[str]:
    """infra/flink/jvm.options without comments and blank lines."""
    lines = (INFRA / 'jvm.options').read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith('#')]


def resource_params(cluster: FlinkCluster, role: str) -> Tuple[List[str], List[str]]:
    """The JVM memory flags and the -D dynamic configs of `role`, derived from config.yaml by
    Flink's BashJavaUtils, as Flink's own scripts do."""
    dist = cache.flink_dist_home()
    derived = subprocess.run(
        [
            'java',
            '-cp',
            f'{dist / "lib"}/*:{dist / "bin" / "bash-java-utils.jar"}',
            f'-Dlog4j2.configurationFile={cluster.conf_dir / "log4j2.properties"}',
            f'-Dlog.file={cluster.log_dir / "bash-java-utils.log"}',
            'org.apache.flink.runtime.util.bash.BashJavaUtils',
            f'GET_{RESOURCE_KINDS[role]}_RESOURCE_PARAMS',
            '--configDir',
            str(cluster.conf_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    results = [
        line[len(RESULT_PREFIX) :]
        for line in derived.stdout.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
    if derived.returncode != 0 or len(results) < 2:
        raise ProcessFailed(
            f'Flink could not derive the {RESOURCE_KINDS[role]} memory settings '
            f'from {cluster.conf_dir / "config.yaml"}.',
            (derived.stdout + derived.stderr).strip().splitlines()[-20:],
        )
    memory, dynamic = results[-2:]
    return memory.split(), dynamic.split()


def launch(cluster: FlinkCluster, role: str) -> int:
    """Starts the jobmanager or the taskmanager; returns its pid."""
    memory, dynamic = resource_params(cluster, role)
    command = [
        'java',
        *memory,
        *jvm_options(),
        f'-Dlog.file={cluster.log_dir / f"flink-{role}.log"}',
        f'-Dlog4j.configurationFile={cluster.conf_dir / "log4j2.properties"}',
        '-cp',
        f'{cache.flink_dist_home() / "lib"}/*',
        MAIN_CLASSES[role],
        '--configDir',
        str(cluster.conf_dir),
        *dynamic,
    ]
    return cluster.process(role).start(command)


def _check_ports(cluster: FlinkCluster) -> None:
    for port in (cluster.rest_port, cluster.rpc_port):
        if port_in_use(port):
            raise ProcessFailed(
                f'port {port} on 127.0.0.1 is already taken by another process.',
                [
                    (
                        'Pick free ports: GOLDSTREAM_FLINK_REST_PORT=18081 ./run_local.sh ... (the '
                        'JobManager RPC'
                    ),
                    (
                        'uses port+1, or set GOLDSTREAM_FLINK_RPC_PORT); '
                        f"'ss -ltnp' shows who holds {port}."
                    ),
                ],
            )


def start(cluster: FlinkCluster) -> None:
    """Starts the session cluster unless this clone's runs; returns when a TaskManager has
    registered its slots.

    Raises:
      ProcessFailed: the distribution is missing, a port is taken, or a process died or the
        cluster was not ready in time (what was started is stopped then).
    """
    pids = cluster.pids()
    if all(pids.values()):
        say(
            f'Flink session cluster already up (jobmanager pid {pids["jobmanager"]}, '
            f'taskmanager pid {pids["taskmanager"]})'
        )
        say(f'Flink web UI: {cluster.rest_url}')
        return
    if any(pids.values()):
        say('Flink session cluster is half up; stopping what is left before starting again')
        stop(cluster)
    if shutil.which('java') is None or not cache.is_complete(cache.flink_dist_home()):
        raise ProcessFailed(
            f'no java on PATH, or no Flink distribution in {cache.flink_dist_home()}.',
            ['Run ./run_local.sh setup first (it unpacks Flink).'],
        )
    _check_ports(cluster)
    write_config(cluster)
    version = cache.read_versions()['FLINK_VERSION']
    say(
        f'Starting Flink {version} session cluster on 127.0.0.1:{cluster.rest_port} '
        f'(logs: {cluster.log_dir})'
    )
    jobmanager = launch(cluster, 'jobmanager')
    taskmanager = launch(cluster, 'taskmanager')

    def ready() -> bool:
        if not is_alive(taskmanager):
            raise ProcessFailed('the Flink taskmanager exited during start-up; its log is above.')
        return (cluster.taskmanagers() or 0) >= 1

    try:
        took = cluster.process('jobmanager').wait_until_ready(
            jobmanager, ready, cluster.start_deadline_s, 'report a TaskManager on its REST API'
        )
    except ProcessFailed as failure:
        logs = cluster.log_tail()
        stop(cluster)
        raise ProcessFailed(str(failure), failure.hints, logs) from failure
    pids = cluster.pids()
    say(
        f'Flink session cluster up (jobmanager pid {pids["jobmanager"]}, taskmanager pid '
        f'{pids["taskmanager"]}) after {took:.0f} s'
    )
    say(f'Flink web UI: {cluster.rest_url}')


def stop(cluster: FlinkCluster) -> None:
    """Stops the taskmanager, then the jobmanager, this clone started."""
    stopped = [
        cluster.process(role).stop(STOP_DEADLINE_S) for role in ('taskmanager', 'jobmanager')
    ]
    if any(stopped):
        say('Flink session cluster stopped')
    else:
        say(f'Flink session cluster is not running (nothing started from {cluster.state})')


def status(cluster: FlinkCluster) -> int:
    """Prints `up (...)` and returns 0 when both processes run, else `down` and 3."""
    pids = cluster.pids()
    if not all(pids.values()):
        print('down')
        return 3
    print(
        f'up (jobmanager pid {pids["jobmanager"]}, taskmanager pid {pids["taskmanager"]}, '
        f'web UI {cluster.rest_url}, logs {cluster.log_dir})'
    )
    return 0
