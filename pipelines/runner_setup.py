"""Points Beam's runners at the tools run_local.sh built, and sets them up for long streaming.

DirectRunner (which hands most pipelines to Prism) and PrismRunner get `prism_location`;
FlinkRunner gets `flink_job_server_jar`, `flink_version`, the JDK 17 flags of
`infra/flink/jvm.options` for the job server's JVM (an embedded `[local]` Flink runs in it)
and, for an embedded Flink, the LOOPBACK environment. Whatever the user set explicitly is
kept. Other runners (Dataflow) and an installed goldstream outside a clone (no tools built)
get nothing of that.

Streaming, on every portable runner: `job_server_timeout` is the deadline of the job's
state and message streams, so Beam's default (300 s) ends an unbounded run after five
minutes (DEADLINE_EXCEEDED); it becomes a year unless the user set it. On Flink, streaming
runs checkpoint (`--checkpointing_interval`, default 5 s: a source that commits in bundle
finalization does so after each completed checkpoint) and end bundles after
`--max_bundle_time_mills` (100 ms) instead
of Flink's 1 s, so alerts do not wait for a full bundle (docs/runners.md).
"""

import atexit
import logging
import os
import signal
import sys
import threading
import time
from typing import Callable, List, TextIO

from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    JobServerOptions,
    PipelineOptions,
    PortableOptions,
    PrismRunnerOptions,
    StandardOptions,
)
from apache_beam.runners.runner import PipelineResult

from pipelines.local import cache

_PRISM_RUNNERS = (None, 'DirectRunner', 'PrismRunner', 'SwitchingDirectRunner')
_FLINK_RUNNERS = ('FlinkRunner',)
STREAMING_JOB_SERVER_TIMEOUT_S = 365 * 24 * 3600
"""The job-service deadline of streaming runs: a year, i.e. until the job is stopped."""
FLINK_STREAMING_CHECKPOINT_MS = 5000
FLINK_STREAMING_BUNDLE_MS = 100
CANCEL_DEADLINE_S = 30
EXIT_HANDLERS_DEADLINE_S = 5

_LOG = logging.getLogger(__name__)


class FlinkTuningOptions(PipelineOptions):
    """Options of Beam's Java Flink runner that the Python SDK does not declare.

    Undeclared, the Python SDK drops them ("Unparseable argument") before they reach the
    job server; declared here, they travel with the pipeline to the Flink runner.
    """

    @classmethod
    def _add_argparse_args(cls, parser):
        flink = parser.add_argument_group('Flink runner')
        flink.add_argument(
            '--checkpointing_interval',
            type=int,
            default=None,
            help='Flink checkpoint interval in ms (streaming default: '
            f'{FLINK_STREAMING_CHECKPOINT_MS}); the Kafka source commits '
            'offsets after each completed checkpoint',
        )
        flink.add_argument(
            '--max_bundle_time_mills',
            type=int,
            default=None,
            help='Flink ends a bundle after this many ms (streaming default: '
            f"{FLINK_STREAMING_BUNDLE_MS}; Flink's own: 1000)",
        )
        flink.add_argument(
            '--max_bundle_size',
            type=int,
            default=None,
            help='Flink ends a bundle after this many elements (Flink: 1000)',
        )
        flink.add_argument(
            '--finish_bundle_before_checkpointing',
            type=_true_or_false,
            default=None,
            metavar='true|false',
            help='Flink ends the open bundle before a checkpoint barrier '
            "(streaming default: true; Flink's own: false, which holds "
            "that bundle's output until the next bundle of the step "
            'starts, for good in a step whose input has ended)',
        )


def with_local_runners(options: PipelineOptions) -> PipelineOptions:
    """Fills in the local Prism and Flink tools and the streaming settings; returns `options`."""
    runner = _runner_name(options)
    streaming = options.view_as(StandardOptions).streaming
    if streaming and 'job_server_timeout' not in options.get_all_options(drop_default=True):
        options.view_as(PortableOptions).job_server_timeout = STREAMING_JOB_SERVER_TIMEOUT_S
    if runner in _FLINK_RUNNERS:
        _set_flink_defaults(options, streaming)
    if not cache.in_clone():
        return options
    if runner in _PRISM_RUNNERS:
        prism = options.view_as(PrismRunnerOptions)
        if not prism.prism_location and cache.prism_binary().is_file():
            prism.prism_location = str(cache.prism_binary())
    elif runner in _FLINK_RUNNERS:
        flink = options.view_as(FlinkRunnerOptions)
        versions = cache.read_versions()
        if not flink.flink_job_server_jar and cache.flink_job_server_jar().is_file():
            flink.flink_job_server_jar = str(cache.flink_job_server_jar())
            flink.flink_version = versions['FLINK_MINOR']
        portable = options.view_as(PortableOptions)
        if not portable.environment_type:
            portable.environment_type = 'LOOPBACK'
        jvm = options.view_as(JobServerOptions)
        if not jvm.job_server_jvm_properties:
            jvm.job_server_jvm_properties = flink_jdk_flags()
    return options


def _set_flink_defaults(options: PipelineOptions, streaming: bool) -> None:
    tuning = options.view_as(FlinkTuningOptions)
    if streaming and tuning.checkpointing_interval is None:
        tuning.checkpointing_interval = FLINK_STREAMING_CHECKPOINT_MS
    if streaming and tuning.max_bundle_time_mills is None:
        tuning.max_bundle_time_mills = FLINK_STREAMING_BUNDLE_MS
    if streaming and tuning.finish_bundle_before_checkpointing is None:
        # Otherwise a bundle open at a checkpoint keeps its output in a buffer that only the
        # step's next bundle flushes: the Kafka source's restriction step gets its few
        # elements once, at start, so a checkpoint at that moment stalled the job for good
        # (nothing read, every task idle) in about 1 start of 10.
        tuning.finish_bundle_before_checkpointing = True


def _true_or_false(text: str) -> bool:
    if text.lower() in ('true', '1', 'yes'):
        return True
    if text.lower() in ('false', '0', 'no'):
        return False
    raise ValueError(f'expected true or false, got {text!r}')


def flink_jdk_flags() -> List[str]:
    """The `--add-opens`/`--add-exports` flags Flink needs on JDK 17 (infra/flink/jvm.options).

    Without `--add-opens=java.base/java.util=ALL-UNNAMED`, Flink's Kryo copy between chained
    operators fails an unbounded job at once (InaccessibleObjectException).
    """
    path = cache.REPO_ROOT / 'infra' / 'flink' / 'jvm.options'
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip().startswith(('--add-opens', '--add-exports'))
    ]


def _runner_name(options: PipelineOptions):
    runner = options.view_as(StandardOptions).runner
    if runner is None or isinstance(runner, str):
        return runner
    return type(runner).__name__


def run_and_wait(options: PipelineOptions, build: Callable) -> PipelineResult:
    """Builds a pipeline with `build(pipeline, options)`, runs it and waits for the end
    (an unbounded one: until it is cancelled); returns its result.

    Ctrl-C (SIGINT) or SIGTERM cancels the job and waits for it to stop (at most a minute),
    then ends the process with 130 (or 143), without a traceback.
    """
    import apache_beam as beam  # pylint: disable=import-outside-toplevel

    pipeline = beam.Pipeline(options=options)
    build(pipeline, options)
    result = pipeline.run()
    stopped_by = []

    def stop(signum, unused_frame):
        stopped_by.append(signum)
        raise KeyboardInterrupt

    # Ours, not Beam's: Beam's SIGINT handler kills the job server (Prism) under the running
    # job; cancelling through the job service stops the job first, then the server exits.
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        result.wait_until_finish()
    except KeyboardInterrupt:
        print('goldstream: stopping the job...', file=sys.stderr, flush=True)
        terminal = _quiet_shutdown()
        cancel_and_wait(result)
        print('goldstream: stopped', file=terminal, flush=True)
        _exit_now(128 + (stopped_by[0] if stopped_by else signal.SIGINT))
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return result


def _quiet_shutdown() -> TextIO:
    """Once the user asked to stop: the SDK harness's threads and streams end with errors
    that say only that the job was cancelled (logged, or printed straight to stderr by the
    SDK worker); keep them off the terminal. Returns the terminal's stderr."""
    logging.disable(logging.ERROR)
    threading.excepthook = lambda unused_args: None
    terminal = sys.stderr
    sys.stderr = open(os.devnull, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
    return terminal


def _exit_now(code: int) -> None:
    """Ends the process after a cancelled job, without hanging on what the job left.

    The SDK harness's worker threads of a cancelled job do not always end, and Beam's exit
    handler that stops its job server (Prism, Flink's) can block closing a gRPC channel; so
    the job server processes this process started are terminated here, the exit handlers
    get a few seconds, and the process ends.
    """
    _terminate_children()
    handlers = threading.Thread(
        target=atexit._run_exitfuncs,  # pylint: disable=protected-access
        daemon=True,
    )
    handlers.start()
    handlers.join(EXIT_HANDLERS_DEADLINE_S)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # pylint: disable=protected-access


def _terminate_children(deadline_s: float = 10.0) -> None:
    """SIGTERM to this process's child processes (Linux /proc), SIGKILL to any still there
    after `deadline_s`."""
    children = _child_pids()
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + deadline_s
    while children and time.monotonic() < deadline:
        children = [
            pid for pid in children if os.path.exists(f'/proc/{pid}') and not _is_zombie(pid)
        ]
        time.sleep(0.1)
    for pid in children:
        _signal(pid, signal.SIGKILL)


def _child_pids() -> List[int]:
    me = os.getpid()
    children = []
    for entry in os.listdir('/proc') if os.path.isdir('/proc') else ():
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as stat:
                    fields = stat.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                children.append(int(entry))
    return children


def _is_zombie(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as stat:
            return stat.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def cancel_and_wait(result, deadline_s: float = CANCEL_DEADLINE_S) -> None:
    """Cancels a running job and waits (at most `deadline_s`) until the runner says it ended.

    The cancel request itself has no deadline in Beam and can block on a runner that is busy
    or stuck, so it runs in a thread of its own that is given up after `deadline_s`."""
    cancelling = threading.Thread(
        target=_cancel, args=(result, deadline_s), daemon=True, name='goldstream-cancel'
    )
    cancelling.start()
    try:
        cancelling.join(deadline_s)
    except KeyboardInterrupt:
        pass  # a second Ctrl-C gives up waiting


def _cancel(result, deadline_s: float) -> None:
    try:
        result.cancel()
        result.wait_until_finish(duration=int(deadline_s * 1000))
    except (RuntimeError, KeyboardInterrupt, ValueError):
        # A cancelled portable job reports itself as failed in state CANCELLED; on Ctrl-C,
        # Beam has already stopped the job server it started (Prism, Flink's), whose channel
        # is then closed (ValueError).
        pass
    except Exception as error:  # pylint: disable=broad-except  # the runner may be gone
        _LOG.warning('cancelling the job: %s', error)
