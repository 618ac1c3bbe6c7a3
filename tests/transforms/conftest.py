"""Fixtures of the transform tests."""

import pytest
from apache_beam.runners.portability.prism_runner import PrismRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream

# Beam's test helpers are named Test*; they are not test classes to collect.
TestPipeline.__test__ = False  # type: ignore[attr-defined]  # read by pytest
TestStream.__test__ = False  # type: ignore[attr-defined]


class _NoServer:
    """Stands for "no Prism job server was started" in Beam's shared-object cache."""


@pytest.fixture(scope='session', autouse=True)
def stop_prism_after_the_tests():
    """Stops the Prism job server the tests shared, while pytest still captures its log.

    Beam otherwise stops it in an atexit handler, which logs to streams pytest has
    already closed ("--- Logging error ---" after the summary).
    """
    yield
    server = PrismRunner.shared_handle.acquire(_NoServer)
    if not isinstance(server, _NoServer):
        server.stop()
