"""`./run_local.sh broker start|status|stop` on a second broker with its own ports and state.

The suite's own broker keeps running; this one lives in a temporary state folder.
"""

import os
import pathlib
import socket

import pytest

from connectors.kafka_topics import broker_answers
from tests.integration.local_scripts import free_port, run_script


@pytest.fixture
def second_broker_env(tmp_path):
    env = dict(os.environ)
    env['GOLDSTREAM_STATE_DIR'] = str(tmp_path / 'state')
    env['GOLDSTREAM_KAFKA_PORT'] = str(free_port())
    env['GOLDSTREAM_KAFKA_CONTROLLER_PORT'] = str(free_port())
    yield env
    run_script(env, 'broker', 'stop')  # never leave it running, whatever the test did


def test_start_status_second_start_stop_status(second_broker_env):
    env = second_broker_env
    bootstrap = f'127.0.0.1:{env["GOLDSTREAM_KAFKA_PORT"]}'

    started = run_script(env, 'broker', 'start')
    assert started.returncode == 0, started.stderr
    assert broker_answers(bootstrap, 5.0)
    pid = int((pathlib.Path(env['GOLDSTREAM_STATE_DIR']) / 'kafka' / 'kafka.pid').read_text())

    status_up = run_script(env, 'broker', 'status')
    assert status_up.returncode == 0
    assert status_up.stdout.startswith('up')

    again = run_script(env, 'broker', 'start')
    assert again.returncode == 0
    assert 'already up' in again.stderr

    stopped = run_script(env, 'broker', 'stop')
    assert stopped.returncode == 0, stopped.stderr
    assert not pathlib.Path(f'/proc/{pid}').exists()

    status_down = run_script(env, 'broker', 'status')
    assert status_down.returncode == 3
    assert status_down.stdout.strip() == 'down'


def test_start_on_a_taken_port_names_the_port_and_the_way_out(second_broker_env):
    env = second_broker_env
    with socket.socket() as holder:
        holder.bind(('127.0.0.1', int(env['GOLDSTREAM_KAFKA_PORT'])))
        holder.listen()
        result = run_script(env, 'broker', 'start')
    assert result.returncode != 0
    assert f'port {env["GOLDSTREAM_KAFKA_PORT"]}' in result.stderr
    assert 'GOLDSTREAM_KAFKA_PORT=' in result.stderr


def test_stop_without_a_started_broker_touches_nothing(second_broker_env):
    result = run_script(second_broker_env, 'broker', 'stop')
    assert result.returncode == 0
    assert 'not running' in result.stderr
