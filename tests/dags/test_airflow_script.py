"""`./run_local.sh airflow start|status|stop` on a port and state folder of its own.

Start brings up Airflow's API server and UI on 127.0.0.1 (and nothing of it on any other
address), prints the UI's address and the admin login, and the DAG processor loads
`goldstream_daily_report`; stop ends every process of the group it started.
"""

import json
import os
import pathlib
import re
import subprocess
import time
import urllib.request
from typing import Optional

import pytest

from tests.integration.local_scripts import free_port, run_script

START_DEADLINE_S = 120


@pytest.fixture
def airflow_env(airflow_bin, tmp_path):
    env = dict(os.environ)
    env['GOLDSTREAM_STATE_DIR'] = str(tmp_path / 'state')
    env['GOLDSTREAM_AIRFLOW_PORT'] = str(free_port())
    env.pop('http_proxy', None)
    env.pop('HTTP_PROXY', None)
    yield env
    run_script(env, 'airflow', 'stop')  # never leave it running, whatever the test did


def _request(url: str, data: Optional[bytes] = None, token: Optional[str] = None):
    request = urllib.request.Request(
        url,
        data=data,
        headers={
            'Content-Type': 'application/json',
            **({'Authorization': f'Bearer {token}'} if token else {}),
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())


def _group(pid: int):
    found = subprocess.run(['pgrep', '-g', str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


def _listening(pids):
    """Local addresses that the given processes listen on (TCP)."""
    out = subprocess.run(['ss', '-Hltnp'], capture_output=True, text=True, check=True).stdout
    addresses = []
    for line in out.splitlines():
        owners = {int(p) for p in re.findall(r'pid=(\d+)', line)}
        if owners & set(pids):
            addresses.append(line.split()[3])
    return addresses


def test_start_status_the_dag_loaded_stop(airflow_env):
    env = airflow_env
    port = env['GOLDSTREAM_AIRFLOW_PORT']
    url = f'http://127.0.0.1:{port}'
    assert run_script(env, 'airflow', 'status').returncode == 3

    started = run_script(env, 'airflow', 'start')
    assert started.returncode == 0, started.stderr[-3000:]
    assert f'Airflow UI     {url}' in started.stdout
    login = re.search(r'^login +admin / (\S+)$', started.stdout, flags=re.MULTILINE)
    assert login, started.stdout
    state = pathlib.Path(env['GOLDSTREAM_STATE_DIR']) / 'airflow'
    pid = int((state / 'airflow.pid').read_text())
    assert run_script(env, 'airflow', 'status').stdout.startswith(f'up (pid {pid}, UI {url}')
    assert 'already up' in run_script(env, 'airflow', 'start').stderr

    token = _request(
        f'{url}/auth/token', json.dumps({'username': 'admin', 'password': login.group(1)}).encode()
    )['access_token']
    deadline = time.monotonic() + START_DEADLINE_S
    while True:  # the DAG processor parses the DAG folder shortly after start
        try:
            dag = _request(f'{url}/api/v2/dags/goldstream_daily_report', token=token)
            break
        except urllib.error.HTTPError as error:
            if error.code != 404 or time.monotonic() > deadline:
                raise
            time.sleep(1)
    assert dag['is_paused'] is True and dag['timetable_summary'] == '0 2 * * *'

    listening = _listening(_group(pid))
    assert f'127.0.0.1:{port}' in listening
    assert all(address.startswith('127.0.0.1:') for address in listening), listening

    stopped = run_script(env, 'airflow', 'stop')
    assert stopped.returncode == 0, stopped.stderr
    assert _group(pid) == []
    status = run_script(env, 'airflow', 'status')
    assert status.returncode == 3 and status.stdout.strip() == 'down'
