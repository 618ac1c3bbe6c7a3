"""The streaming pipeline unbounded, as `python -m pipelines.streaming` runs it, with the
generator producing live: every ground-truth alert arrives while traffic flows, EARLY panes
come on time, dead letters flow, and Ctrl-C stops it cleanly; on the default runner (Prism)
and on embedded Flink with checkpointing."""

import pytest

from tests.integration.live_checks import check_live_run

RUNNERS = {
    'DirectRunner': ['--runner=DirectRunner'],
    'FlinkRunner[local]': ['--runner=FlinkRunner', '--flink_master=[local]'],
}


@pytest.mark.parametrize('runner', RUNNERS)
def test_alerts_metrics_and_dead_letters_flow_live(kafka_bootstrap, tmp_path, runner):
    check_live_run(kafka_bootstrap, tmp_path, RUNNERS[runner])
