"""`./run_local.sh setup` on the cache the suite runs from: every tool is there, so a second
set-up only says where each is, and the set-up the script hands to Python
(`python -m pipelines.local setup`) reports each step."""

import os

from tests.integration.local_scripts import run_script

TOOLS = (
    'Python venv ready',
    'Airflow',
    'Kafka',
    'Prism',
    'Flink',
    'Chromium ready',
)


def test_a_second_set_up_downloads_and_builds_nothing():
    done = run_script(dict(os.environ), 'setup')
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    said = [line for line in lines if line.startswith('==> ')]
    assert said and said[-1].startswith('==> Set-up done in '), said
    assert all(' ready' in line for line in said[:-1]), said
    for tool in TOOLS:
        assert any(tool in line for line in said), (tool, said)
    assert not [line for line in lines if 'Fetching' in line or 'Building' in line]
