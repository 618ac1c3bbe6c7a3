"""The set-up steps in the order they run, and running some or all of them under the cache's
lock (`python -m pipelines.local setup [step ...]`)."""

import time
from typing import Callable, Dict, Sequence

from pipelines.local.cache import cache_dir
from pipelines.local.install import (
    airflow_venv,
    chromium,
    flink_dist,
    flink_job_server,
    kafka_jars,
    prism,
)
from pipelines.local.install.tools import cache_lock
from pipelines.local.process import say

STEPS: Dict[str, Callable[[], None]] = {
    'airflow': airflow_venv.set_up,
    'kafka': kafka_jars.set_up,
    'prism': prism.set_up,
    'flink_job_server': flink_job_server.set_up,
    'flink_dist': flink_dist.set_up,
    'chromium': chromium.set_up,
}
"""Step name → its function; every step checks its stamp first, so on a full cache each
only says where its tool is."""


def set_up(names: Sequence[str] = ()) -> float:
    """Runs the steps named (all when none is), in STEPS' order, holding the cache's lock;
    returns the seconds it took. Raises SetupFailed from the first step that fails."""
    unknown = sorted(set(names) - set(STEPS))
    if unknown:
        raise ValueError(f'no set-up step {unknown[0]!r}; the steps are {", ".join(STEPS)}')
    started = time.monotonic()
    with cache_lock():
        for name, step in STEPS.items():
            if not names or name in names:
                step()
    return time.monotonic() - started


def set_up_and_say(names: Sequence[str] = ()) -> None:
    """`set_up`, then, for the whole set-up, one line with the time it took."""
    took = set_up(names)
    if not names:
        say(f'Set-up done in {took:.0f} s (cache: {cache_dir()})')
