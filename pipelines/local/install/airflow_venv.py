"""Airflow in a venv of its own (`infra/airflow/requirements.txt` with its constraints): its
dependencies clash with Beam's, so it never shares the project's venv. Built from the same
Python as the project's venv; the folder names Airflow's version, the Python and the pins'
hash (`cache.airflow_venv()`)."""

import pathlib
import shutil
import sys

from pipelines.local import cache
from pipelines.local.install.tools import is_finished, mark_finished, run_tool
from pipelines.local.process import say


def folder_size(path: pathlib.Path) -> str:
    total = sum(
        item.stat().st_size for item in path.rglob('*') if item.is_file() and not item.is_symlink()
    )
    return f'{total / 1e6:.0f} MB'


def set_up() -> None:
    venv = cache.airflow_venv()
    version = cache.read_versions()['AIRFLOW_VERSION']
    if is_finished(venv):
        say(f'Airflow {version} venv ready: {venv}')
        return
    say(
        f"Building Airflow {version}'s venv from infra/airflow/ into {venv} "
        '(first time only; a minute or two)'
    )
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    run_tool(
        [sys.executable, '-m', 'venv', str(venv)],
        f"creating Airflow's venv in {venv}",
        ['Your Python needs its venv module (Debian: apt-get install python3-venv).'],
    )
    pip = [str(venv / 'bin' / 'python'), '-m', 'pip', 'install', '--progress-bar', 'off', '--quiet']
    env = {'PIP_CACHE_DIR': str(cache.cache_dir() / 'pip')}
    run_tool(
        [*pip, '--upgrade', 'pip', 'setuptools', 'wheel'],
        f'pip upgrading itself in {venv}',
        ["Check the network or pip's message above."],
        env=env,
    )
    requirements, constraints = cache.AIRFLOW_PINS
    run_tool(
        [*pip, '-r', str(requirements), '-c', str(constraints)],
        f'pip installing Airflow {version}',
        ["See pip's message above."],
        env=env,
    )
    run_tool(
        [str(venv / 'bin' / 'airflow'), 'version'],
        f'airflow version (a check of {venv})',
        [f'Delete {venv} and run this again.'],
        capture=True,
    )
    mark_finished(venv)
    say(f'Airflow {version} venv ready: {venv} ({folder_size(venv)})')
