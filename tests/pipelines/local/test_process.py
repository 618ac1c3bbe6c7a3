"""LocalProcess on tiny real children: a web server on a free port, a process that dies at
once, one that ignores SIGTERM and has a child of its own."""

import os
import pathlib
import socket
import sys
import time

import pytest

from pipelines.local import process
from pipelines.local.process import LocalProcess, ProcessFailed, is_alive, port_in_use
from pipelines.local.process_tree import process_table
from tests.integration.local_scripts import free_port

DEADLINE_S = 30.0


def _process(tmp_path: pathlib.Path, marker: str) -> LocalProcess:
    return LocalProcess(
        'test server',
        tmp_path / 'state' / 'server.pid',
        tmp_path / 'state' / 'server.out',
        ('-c', marker),
    )


def _python(code: str) -> list:
    return [sys.executable, '-c', code]


def _gone(pid: int) -> bool:
    info = process_table().get(pid)
    return info is None or info.state == 'Z'


@pytest.fixture
def stop_after():
    started = []
    yield started.append
    for local_process in started:
        local_process.stop(deadline_s=1.0)


def test_start_ready_status_and_stop_of_a_web_server(tmp_path, stop_after):
    port = free_port()
    code = (
        'import http.server, sys; http.server.test(HandlerClass=http.server.'
        f'SimpleHTTPRequestHandler, port={port}, bind="127.0.0.1")'
    )
    server = _process(tmp_path, code)
    stop_after(server)
    assert server.pid() is None

    pid = server.start(_python(code))
    assert server.pid_file.read_text().strip() == str(pid)
    assert server.pid() == pid  # known at once, before it is ready
    took = server.wait_until_ready(pid, lambda: port_in_use(port), DEADLINE_S, 'listen')
    assert 0 <= took < DEADLINE_S
    assert server.pid() == pid
    assert os.getpgid(pid) == pid and os.getsid(pid) == pid  # a session of its own

    assert server.stop(deadline_s=DEADLINE_S) is True
    assert _gone(pid)
    assert not server.pid_file.exists()
    assert not port_in_use(port)
    assert server.stop(deadline_s=DEADLINE_S) is False  # nothing left to stop


def test_a_pid_file_naming_another_or_no_process_is_not_ours(tmp_path):
    process = _process(tmp_path, 'print("mine")')
    process.pid_file.parent.mkdir(parents=True)
    for content in (str(os.getpid()), 'not a pid', '', '999999999'):
        process.pid_file.write_text(content)
        assert process.pid() is None, content
    assert process.stop(deadline_s=1.0) is False
    assert not process.pid_file.exists()
    assert is_alive(os.getpid())


def test_a_process_that_dies_during_start_up_is_reported_with_its_log(tmp_path):
    code = 'import sys; print("cannot bind: port taken"); sys.exit(3)'
    dying = _process(tmp_path, code)
    pid = dying.start(_python(code))
    with pytest.raises(ProcessFailed, match='exited during start-up') as failure:
        dying.wait_until_ready(pid, lambda: False, DEADLINE_S, 'listen')
    assert 'cannot bind: port taken' in failure.value.log_tail
    assert str(dying.log_file) in failure.value.log_tail
    assert not dying.pid_file.exists()
    assert failure.value.report().endswith(
        'error: the test server exited during start-up; its log is above.\n'
    )


def test_a_process_not_ready_by_the_deadline_is_reported_and_left_to_the_caller(
    tmp_path, stop_after
):
    code = 'import time; print("starting", flush=True); time.sleep(600)'
    slow = _process(tmp_path, code)
    stop_after(slow)
    pid = slow.start(_python(code))
    slow.wait_until_ready(
        pid, lambda: 'starting' in slow.log_file.read_text(), DEADLINE_S, 'print starting'
    )
    started = time.monotonic()
    with pytest.raises(ProcessFailed, match=r'did not listen within 0.5 s') as failure:
        slow.wait_until_ready(pid, lambda: False, 0.5, 'listen')
    assert time.monotonic() - started < DEADLINE_S
    assert slow.pid() == pid  # still running: stopping it is the caller's choice
    assert 'starting' in failure.value.log_tail


def test_stop_kills_a_group_that_ignores_sigterm_after_the_deadline(tmp_path):
    code = (
        'import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);'
        'child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]);'
        'print(child.pid, flush=True); time.sleep(600)'
    )
    stubborn = _process(tmp_path, code)
    pid = stubborn.start(_python(code))
    stubborn.wait_until_ready(
        pid, lambda: stubborn.log_file.read_text().strip() != '', DEADLINE_S, 'print its child'
    )
    child = int(stubborn.log_file.read_text())
    assert os.getpgid(child) == pid

    started = time.monotonic()
    assert stubborn.stop(deadline_s=0.5) is True
    assert 0.5 <= time.monotonic() - started < DEADLINE_S
    table = process_table()
    assert pid not in table and child not in table  # ended and collected, not zombies


def test_stop_sends_sigterm_first(tmp_path):
    code = (
        'import signal, sys, time;'
        'signal.signal(signal.SIGTERM, lambda *_: (print("got TERM", flush=True), '
        'sys.exit(0)));'
        'print("ready", flush=True); time.sleep(600)'
    )
    polite = _process(tmp_path, code)
    pid = polite.start(_python(code))
    polite.wait_until_ready(
        pid, lambda: 'ready' in polite.log_file.read_text(), DEADLINE_S, 'print ready'
    )
    assert polite.stop(deadline_s=DEADLINE_S) is True
    assert 'got TERM' in polite.log_file.read_text()
    assert _gone(pid)


def test_port_in_use_sees_a_listener_only():
    with socket.socket() as holder:
        holder.bind(('127.0.0.1', 0))
        port = holder.getsockname()[1]
        assert not port_in_use(port)  # bound, not listening
        holder.listen()
        assert port_in_use(port)


def test_a_long_wait_says_what_it_waits_for(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(process, 'PROGRESS_EVERY_S', 0.1)
    waiting = _process(tmp_path, '')
    until = time.monotonic() + 0.35
    waiting.wait_until_ready(os.getpid(), lambda: time.monotonic() > until, DEADLINE_S, 'listen')
    lines = capsys.readouterr().err.splitlines()
    assert lines and all(
        line.startswith('==> still waiting for the test server to listen (') for line in lines
    )
