"""Fixtures of the DAG tests: Airflow's venv, a migrated scratch home, an SMTP sink, Kafka.

The DAG's helper package (`dags/goldstream_dag`) imports nothing from Airflow at module
level, so its tests put the DAG folder on `sys.path`, as Airflow does, and import it here.
"""

import pathlib
import sys
from typing import Iterator

import pytest

from tests.dags import airflow_cli
from tests.dags.smtp_sink import SmtpSink
from tests.integration.suite_broker import suite_broker

sys.path.insert(0, str(airflow_cli.DAGS))


@pytest.fixture(scope='session')
def airflow_bin() -> pathlib.Path:
    """Airflow's `airflow`; fails (never skips) when set-up has not built it."""
    binary = airflow_cli.airflow_binary()
    if not binary.is_file():
        pytest.fail(
            f"no Airflow at {binary}: run ./run_local.sh setup (it builds Airflow's "
            'venv), or set GOLDSTREAM_AIRFLOW_BIN to an airflow command'
        )
    return binary


@pytest.fixture(scope='session')
def airflow_home(airflow_bin, tmp_path_factory) -> pathlib.Path:
    """A scratch AIRFLOW_HOME with its metadata database created."""
    home = tmp_path_factory.mktemp('airflow_home')
    airflow_cli.migrate(home)
    return home


@pytest.fixture
def smtp_sink():
    """A local SMTP server on a free port that keeps every message it receives."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope='session')
def kafka_bootstrap() -> Iterator[str]:
    """`host:port` of the running broker, or of the local one started for the session when
    none answers (and stopped at its end); fails (never skips) when none can be started."""
    with suite_broker() as bootstrap:
        yield bootstrap
