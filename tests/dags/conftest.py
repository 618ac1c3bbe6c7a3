"""Fixtures of the DAG tests: Airflow's venv, a migrated scratch home, an SMTP sink, Kafka.

The DAG's helper package (`dags/goldstream_dag`) imports nothing from Airflow at module
level, so its tests put the DAG folder on `sys.path`, as Airflow does, and import it here.
"""
import pathlib
import sys

import pytest

from connectors.kafka_config import default_brokers
from connectors.kafka_topics import broker_answers
from tests.dags import airflow_cli
from tests.dags.smtp_sink import SmtpSink

sys.path.insert(0, str(airflow_cli.DAGS))


@pytest.fixture(scope='session')
def airflow_bin() -> pathlib.Path:
    """Airflow's `airflow`; fails (never skips) when set-up has not built it."""
    binary = airflow_cli.airflow_binary()
    if not binary.is_file():
        pytest.fail(f'no Airflow at {binary}: run ./run_local.sh setup (it builds Airflow\'s '
                    'venv), or set GOLDSTREAM_AIRFLOW_BIN to an airflow command')
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
def kafka_bootstrap() -> str:
    """`host:port` of the running broker; fails (never skips) when there is none."""
    bootstrap = default_brokers()
    if not broker_answers(bootstrap, 10.0):
        pytest.fail(f'no Kafka broker answers on {bootstrap}. Run the suite with '
                    f'./run_local.sh test, or start one with ./run_local.sh broker start.')
    return bootstrap
