"""Points Beam's runners at the tools run_local.sh built, so nothing is downloaded at run time.

DirectRunner (which hands most pipelines to Prism) and PrismRunner get `prism_location`;
FlinkRunner gets `flink_job_server_jar`, `flink_version` and, for an embedded `[local]`
Flink, the LOOPBACK environment. Whatever the user set explicitly is kept. Other runners
(Dataflow) and an installed goldstream outside a clone (no tools built) get nothing.
"""
from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions, PipelineOptions, PortableOptions, PrismRunnerOptions, StandardOptions)

from pipelines import local_runtime

_PRISM_RUNNERS = (None, 'DirectRunner', 'PrismRunner', 'SwitchingDirectRunner')
_FLINK_RUNNERS = ('FlinkRunner',)


def with_local_runners(options: PipelineOptions) -> PipelineOptions:
    """Fills in the local Prism and Flink tools where the user gave none; returns `options`."""
    if not local_runtime.in_clone():
        return options
    runner = _runner_name(options)
    if runner in _PRISM_RUNNERS:
        prism = options.view_as(PrismRunnerOptions)
        if not prism.prism_location and local_runtime.prism_binary().is_file():
            prism.prism_location = str(local_runtime.prism_binary())
    elif runner in _FLINK_RUNNERS:
        flink = options.view_as(FlinkRunnerOptions)
        versions = local_runtime.read_versions()
        if not flink.flink_job_server_jar and local_runtime.flink_job_server_jar().is_file():
            flink.flink_job_server_jar = str(local_runtime.flink_job_server_jar())
            flink.flink_version = versions['FLINK_MINOR']
        portable = options.view_as(PortableOptions)
        if not portable.environment_type:
            portable.environment_type = 'LOOPBACK'
    return options


def _runner_name(options: PipelineOptions):
    runner = options.view_as(StandardOptions).runner
    if runner is None or isinstance(runner, str):
        return runner
    return type(runner).__name__


def run_and_wait(options: PipelineOptions, build) -> 'PipelineResult':
    """Builds a pipeline with `build(pipeline, options)`, runs it and waits for the end
    (an unbounded one: until it is cancelled); returns its result."""
    import apache_beam as beam  # pylint: disable=import-outside-toplevel
    pipeline = beam.Pipeline(options=options)
    build(pipeline, options)
    result = pipeline.run()
    result.wait_until_finish()
    return result
