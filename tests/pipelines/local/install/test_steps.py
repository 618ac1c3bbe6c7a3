"""The whole set-up: on a full cache it runs no tool; an unknown step is refused."""

import subprocess
import sys

import pytest

from pipelines.local.install import airflow_venv, chromium, flink_dist, maven, prism, steps


def test_a_second_set_up_downloads_and_builds_nothing(monkeypatch):
    def must_not_run(command, *_, **__):
        raise AssertionError(f'set-up ran {command} on a full cache')

    for module in (maven, prism, flink_dist, airflow_venv, chromium):
        monkeypatch.setattr(module, 'run_tool', must_not_run)
    took = steps.set_up()
    assert took < 60


def test_an_unknown_step_is_refused_with_the_list():
    with pytest.raises(
        ValueError, match="no set-up step 'kafka_jars'; the steps are airflow, kafka"
    ):
        steps.set_up(['kafka_jars'])


def test_the_command_line_refuses_an_unknown_step_with_exit_2():
    done = subprocess.run(
        [sys.executable, '-m', 'pipelines.local', 'setup', 'prsim'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "python -m pipelines.local setup: error: no set-up step 'prsim'; the steps are "
        'airflow, kafka, prism, flink_job_server, flink_dist, chromium'
    )
