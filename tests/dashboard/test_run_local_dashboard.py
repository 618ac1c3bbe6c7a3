"""`./run_local.sh dashboard start|status|stop`: the background live page the demo starts, on a
port and state folder of the test's own."""

import os
import pathlib
import urllib.request

from tests.integration.local_scripts import free_port, run_script


def test_start_status_page_stop(tmp_path, kafka_bootstrap):
    env = dict(os.environ)
    env['GOLDSTREAM_STATE_DIR'] = str(tmp_path / 'state')
    env['GOLDSTREAM_DASHBOARD_PORT'] = str(free_port())
    env['GOLDSTREAM_KAFKA_PORT'] = kafka_bootstrap.rsplit(':', 1)[1]
    try:
        started = run_script(env, 'dashboard', 'start')
        assert started.returncode == 0, started.stderr
        url = f'http://127.0.0.1:{env["GOLDSTREAM_DASHBOARD_PORT"]}/'
        assert 'Live page (pid' in started.stderr and url in started.stderr
        status = run_script(env, 'dashboard', 'status')
        assert status.returncode == 0 and status.stdout.startswith('up') and url in status.stdout
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200 and b'goldstream' in page.read()
        again = run_script(env, 'dashboard', 'start')
        assert again.returncode == 0 and 'already up' in again.stderr
        pid = int(
            (pathlib.Path(env['GOLDSTREAM_STATE_DIR']) / 'dashboard' / 'dashboard.pid').read_text()
        )
    finally:
        stopped = run_script(env, 'dashboard', 'stop')
    assert stopped.returncode == 0, stopped.stderr
    assert not pathlib.Path(f'/proc/{pid}').exists()
    down = run_script(env, 'dashboard', 'status')
    assert down.returncode == 3 and down.stdout.strip() == 'down'
