"""Suite-wide settings: TestPipeline never downloads a runner; the long-running job.

The DirectRunner hands most pipelines to Prism; without `prism_location` Beam would try to
download a Prism release, which these machines cannot reach. Point it at the Prism that
`./run_local.sh setup` built (a `--test-pipeline-options` given on the command line wins).

Tests marked `long_running` run last; when collection finds one, a streaming job starts
before the first test (tests/background_job.py) so that it has aged while the suite ran. It
needs the broker before any fixture runs, so it gets it the way the Kafka tests' fixture does
(tests/integration/suite_broker.py): the running one, or the local one started for the
session and stopped after the job.
"""

import contextlib
import os
import pathlib
import tempfile

import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from pipelines.local.cache import prism_binary
from tests.background_job import BackgroundJob
from tests.integration.local_scripts import free_port, run_script
from tests.integration.suite_broker import suite_broker

if TestPipeline.pytest_test_pipeline_options is None:
    # Beam's class attribute, declared None, that its test pipelines read options from.
    TestPipeline.pytest_test_pipeline_options = f'--prism_location={prism_binary()}'  # type: ignore[assignment]


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'long_running: checks the job that runs beside the whole suite; runs last'
    )


def pytest_collection_modifyitems(session, config, items):
    last = [item for item in items if item.get_closest_marker('long_running')]
    items[:] = [item for item in items if item not in last] + last


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    if not any(item.get_closest_marker('long_running') for item in session.items):
        return
    folder = pathlib.Path(tempfile.mkdtemp(prefix='goldstream-long-running-'))
    broker = session.config.stash[_BROKER] = contextlib.ExitStack()
    try:
        bootstrap = broker.enter_context(suite_broker())
        session.config.stash[_JOB] = BackgroundJob.start(bootstrap, folder)
    except (Exception, pytest.fail.Exception) as error:  # pylint: disable=broad-except
        session.config.stash[_JOB_ERROR] = error  # the long-running test reports it


def pytest_sessionfinish(session):
    job = session.config.stash.get(_JOB, None)
    if job is not None:
        job.stop()
    broker = session.config.stash.get(_BROKER, None)
    if broker is not None:
        broker.close()  # stops the broker only if suite_broker started it


@pytest.fixture
def own_broker(tmp_path):
    """A second broker of the test's own (ports and state), for tests that stop and start it
    without disturbing the suite's broker: yields (script environment, bootstrap)."""
    env = dict(os.environ)
    env['GOLDSTREAM_STATE_DIR'] = str(tmp_path / 'state')
    env['GOLDSTREAM_KAFKA_PORT'] = str(free_port())
    env['GOLDSTREAM_KAFKA_CONTROLLER_PORT'] = str(free_port())
    started = run_script(env, 'broker', 'start')
    assert started.returncode == 0, started.stderr
    yield env, f'127.0.0.1:{env["GOLDSTREAM_KAFKA_PORT"]}'
    run_script(env, 'broker', 'stop')  # never leave it running, whatever the test did


@pytest.fixture(scope='session')
def background_job(request) -> BackgroundJob:
    """The streaming job started when the session's collection finished."""
    error = request.config.stash.get(_JOB_ERROR, None)
    if error is not None:
        pytest.fail(f'the background streaming job did not start: {error}')
    return request.config.stash[_JOB]


_JOB = pytest.StashKey[BackgroundJob]()
_JOB_ERROR = pytest.StashKey[BaseException]()
_BROKER = pytest.StashKey[contextlib.ExitStack]()
