"""Pipeline options for running one test body on each runner, against local tools only."""

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.runner_setup import with_local_runners

RUNNERS = ('DirectRunner', 'PrismRunner', 'FlinkRunner')


def options_for(runner: str, *extra: str) -> PipelineOptions:
    """Options that run on `runner` with nothing downloaded (Flink: embedded `[local]`)."""
    args = [f'--runner={runner}', *extra]
    if runner == 'FlinkRunner':
        args += ['--flink_master=[local]', '--parallelism=2']
    return with_local_runners(PipelineOptions(args))
