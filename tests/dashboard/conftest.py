"""The dashboard's integration tests use the suite's broker (and its fixtures) and run the
dashboard as its own process."""

from tests.integration.conftest import kafka_bootstrap, topic_name  # noqa: F401  (fixtures)
