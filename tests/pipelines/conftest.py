"""Plans shared by the generator tests (planning 5,000 records takes about 0.1 s)."""

import pytest

from pipelines.generator.config import TrafficConfig
from pipelines.generator.plan import TrafficPlan, plan_traffic

PLAN_NOW_MS = 1_795_600_000_000
"""A fixed wall clock for plans (2026-11-26T08:26:40Z), so they are identical run to run."""


@pytest.fixture(scope='session')
def default_plan() -> TrafficPlan:
    """5,000 records with the default settings: the default malformed rate, 3 scenarios a rule."""
    return plan_traffic(TrafficConfig(count=5_000), now_ms=PLAN_NOW_MS)
