"""What runner_setup gives a pipeline: local tools, and what a streaming run needs."""

import subprocess
import sys

from apache_beam.options.pipeline_options import (
    JobServerOptions,
    PipelineOptions,
    PortableOptions,
    PrismRunnerOptions,
    StandardOptions,
)

from pipelines.local import cache
from pipelines.runner_setup import (
    FLINK_STREAMING_BUNDLE_MS,
    FLINK_STREAMING_CHECKPOINT_MS,
    STREAMING_JOB_SERVER_TIMEOUT_S,
    FlinkTuningOptions,
    flink_jdk_flags,
    with_local_runners,
)


def options(*args: str, streaming: bool = True) -> PipelineOptions:
    opts = PipelineOptions(list(args))
    opts.view_as(StandardOptions).streaming = streaming
    return with_local_runners(opts)


def test_streaming_runs_have_no_five_minute_job_service_deadline():
    assert (
        options('--runner=DirectRunner').view_as(PortableOptions).job_server_timeout
        == STREAMING_JOB_SERVER_TIMEOUT_S
    )
    batch = options('--runner=DirectRunner', streaming=False)
    assert batch.view_as(PortableOptions).job_server_timeout == 300  # Beam's default


def test_a_deadline_the_user_set_is_kept():
    given = options('--runner=DirectRunner', '--job_server_timeout=42')
    assert given.view_as(PortableOptions).job_server_timeout == 42


def test_prism_is_the_one_set_up_built_with_the_patches():
    prism = options('--runner=DirectRunner').view_as(PrismRunnerOptions).prism_location
    assert prism == str(cache.prism_binary())
    assert cache.prism_patches_key() in prism


def test_flink_streaming_checkpoints_with_short_bundles_and_jdk17_flags():
    flink = options('--runner=FlinkRunner', '--flink_master=[local]')
    tuning = flink.view_as(FlinkTuningOptions)
    assert tuning.checkpointing_interval == FLINK_STREAMING_CHECKPOINT_MS
    assert tuning.max_bundle_time_mills == FLINK_STREAMING_BUNDLE_MS
    assert tuning.finish_bundle_before_checkpointing is True
    jvm = flink.view_as(JobServerOptions).job_server_jvm_properties
    assert '--add-opens=java.base/java.util=ALL-UNNAMED' in jvm
    assert jvm == flink_jdk_flags()


def test_flink_options_a_user_gives_reach_the_runner_as_given():
    flink = options(
        '--runner=FlinkRunner', '--checkpointing_interval=60000', '--max_bundle_time_mills=1000'
    )
    # Declared, so they are among the options sent to the job server (not "Unparseable").
    sent = flink.get_all_options(drop_default=True)
    assert sent['checkpointing_interval'] == 60000 and sent['max_bundle_time_mills'] == 1000


def test_a_user_may_turn_off_finishing_bundles_before_checkpoints():
    flink = options('--runner=FlinkRunner', '--finish_bundle_before_checkpointing=false')
    assert flink.get_all_options(drop_default=True)['finish_bundle_before_checkpointing'] is False


def test_batch_flink_runs_do_not_checkpoint():
    batch = options('--runner=FlinkRunner', streaming=False)
    assert batch.view_as(FlinkTuningOptions).checkpointing_interval is None


def test_ctrl_c_ends_a_waiting_launcher_with_130_and_no_traceback(tmp_path):
    # A pipeline that never ends (its runner is a stub that waits), stopped by SIGINT.
    script = tmp_path / 'launcher.py'
    script.write_text("""
import os, signal, sys, threading
from pipelines import runner_setup

class Result:
    state = 'RUNNING'
    def __init__(self): self.cancelled = threading.Event()
    def wait_until_finish(self, duration=None):
        if self.state == 'RUNNING' and duration is None:
            print('waiting', flush=True)
            threading.Event().wait()
    def cancel(self): self.state = 'CANCELLED'

class Pipeline:
    def __init__(self, options): pass
    def run(self): return Result()

import apache_beam
apache_beam.Pipeline = Pipeline
runner_setup.run_and_wait(None, lambda pipeline, options: None)
""")
    launcher = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cache.REPO_ROOT,
        env={'PYTHONPATH': '.'},
    )
    assert launcher.stdout.readline().strip() == 'waiting'
    launcher.send_signal(2)
    _, err = launcher.communicate(timeout=60)
    assert launcher.returncode == 130
    assert 'goldstream: stopped' in err and 'Traceback' not in err
