"""The Dataflow job description of a goldstream pipeline, built offline: no credentials are
read, nothing is uploaded, no job is submitted.

  python -m pipelines.dataflow_job streaming --out=.local/dataflow/streaming \\
      --project=my-project --region=europe-west1 --temp_location=gs://my-bucket/tmp \\
      --setup_file=./setup.py --brokers=kafka-1.internal:9092 \\
      --reference_data=gs://my-bucket/reference --archive_path=gs://my-bucket/archive
  python -m pipelines.dataflow_job daily_report --out=.local/dataflow/daily_report \\
      --date=2026-11-18 --project=my-project ... (the same cloud options)

After the pipeline's name come the arguments that `python -m pipelines.<name>
--runner=DataflowRunner ...` would take. Beam's DataflowRunner does its own work: the Runner v2
translation of the pipeline (`--dry_run` stops it before it calls the service), then
`DataflowApplicationClient.create_job_description` builds the Job message that job
submission sends (job type, experiments, the worker pool with the SDK container image and the
packages to install, `--setup_file`'s sdist among them, every pipeline option). One thing is
changed: the files it would upload to the staging location (the pipeline proto, the sdist as
`workflow.tar.gz`, the submission environment's package list) are written to
`<out>/staging/<bucket>/<path>` instead. Written to `<out>`:

- `job.json`: the Job message, as `--dataflow_job_file` writes it just before submitting;
- `pipeline.json`: the Runner v2 pipeline proto that the Job's `pipelineUrl` names;
- `staging/`: the staged files.

Needs the Dataflow client libraries (in requirements.txt; `pip install goldstream[dataflow]`).
"""

import argparse
import importlib
import json
import pathlib
import re
import sys
from typing import Dict, List, NamedTuple, Optional, Sequence

from pipelines.command_line import CommandParser, quiet_harmless_warnings, run_command

if __name__ == '__main__':
    quiet_harmless_warnings()  # before Beam is imported: it logs "apitools not found"

# pylint: disable=wrong-import-position
import apache_beam as beam  # noqa: E402
from apache_beam.io.filesystems import FileSystems  # noqa: E402
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, TestOptions  # noqa: E402
from apache_beam.options.pipeline_options_validator import PipelineOptionsValidator  # noqa: E402
from apache_beam.portability.api import beam_runner_api_pb2  # noqa: E402
from apache_beam.runners.dataflow.internal import apiclient  # noqa: E402
from google.protobuf import json_format  # noqa: E402

PIPELINES = {
    'streaming': 'pipelines.streaming.pipeline',
    'daily_report': 'pipelines.daily_report.pipeline',
}
RUNNER = 'DataflowRunner'


class JobDescription(NamedTuple):
    """What `describe_job` built and wrote."""

    job: Dict  # the Job message as JSON (API field names)
    pipeline: beam_runner_api_pb2.Pipeline  # the staged Runner v2 pipeline proto
    staged: Dict[str, pathlib.Path]  # staging URL -> the local copy written
    job_file: pathlib.Path
    pipeline_file: pathlib.Path


class _LocalStagingClient(apiclient.DataflowApplicationClient):
    """Beam's Dataflow client with one change: `stage_file`, the only place where job
    description writes to the staging location, writes under a local folder instead."""

    def __init__(
        self, options: PipelineOptions, root_staging_location: str, staging_dir: pathlib.Path
    ):
        cloud = options.view_as(GoogleCloudOptions)
        no_auth, cloud.no_auth = cloud.no_auth, True  # no credentials: no API call is made
        try:
            super().__init__(options, root_staging_location)
        finally:
            cloud.no_auth = no_auth
        self._enable_caching = False  # artifact caching looks for earlier uploads in GCS
        self._staging_dir = staging_dir
        self.staged: Dict[str, pathlib.Path] = {}

    def stage_file(
        self,
        gcs_or_local_path,
        file_name,
        stream,
        mime_type='application/octet-stream',
        total_size=None,
    ):
        url = FileSystems.join(gcs_or_local_path, file_name)
        local = self._staging_dir / re.sub(r'^[a-z][a-z0-9+.-]*://', '', url).lstrip('/')
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(stream.read())
        self.staged[url] = local


def dataflow_argv(argv: Sequence[str]) -> List[str]:
    """`argv` with `--runner=DataflowRunner`.

    Raises:
        ValueError: If `argv` names another runner.
    """
    runner = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    runner.add_argument('--runner', default=RUNNER)
    given, rest = runner.parse_known_args(list(argv))
    if given.runner != RUNNER:
        raise ValueError(
            f'a Dataflow job description needs --runner={RUNNER} (or no --runner), '
            f'got {given.runner}'
        )
    return [f'--runner={RUNNER}', *rest]


def _check_cloud_options(options: PipelineOptions) -> None:
    """Fails on what Beam would otherwise look up online: a missing project or region (gcloud's
    default), a temp or staging location that is not a valid GCS path (a default bucket)."""
    cloud = options.view_as(GoogleCloudOptions)
    missing = [
        f'--{name}' for name in ('project', 'region', 'temp_location') if not getattr(cloud, name)
    ]
    if missing:
        raise ValueError(f'a Dataflow job needs {", ".join(missing)}')
    validator = PipelineOptionsValidator(options, None)
    for name in ('temp_location', 'staging_location'):
        errors = getattr(cloud, name) and validator.validate_gcs_path(cloud, name)
        if errors:  # Beam would only warn, then look for a default bucket
            raise ValueError(f'--{name} must be a gs://bucket/path on Dataflow: {errors[0]}')


def describe_job(pipeline_name: str, argv: Sequence[str], out_dir) -> JobDescription:
    """Builds the Dataflow job description of one pipeline and writes it under `out_dir`.

    Args:
        pipeline_name: A key of `PIPELINES`.
        argv: The pipeline's command line (cloud options included), without `--runner`
            or with `--runner=DataflowRunner`.
        out_dir: Folder for `job.json`, `pipeline.json` and `staging/`.

    Raises:
        ValueError: For an unknown pipeline, another runner, a missing `--project`, `--region`
            or `--temp_location`, a location outside GCS, or options that the pipeline or
            the DataflowRunner rejects.
    """
    if pipeline_name not in PIPELINES:
        raise ValueError(f'unknown pipeline {pipeline_name!r}; one of {sorted(PIPELINES)}')
    module = importlib.import_module(PIPELINES[pipeline_name])
    options = module.pipeline_options(dataflow_argv(argv))
    _check_cloud_options(options)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    options.view_as(TestOptions).dry_run = True  # the runner translates, builds the Job, stops
    pipeline = beam.Pipeline(options=options)
    module.build(pipeline, options)
    job = pipeline.run().job  # type: ignore[attr-defined]  # DataflowRunner's result has it
    job.options.view_as(TestOptions).dry_run = False  # the pipeline ran on a copy of options

    client = _LocalStagingClient(job.options, job.root_staging_location, out / 'staging')
    client.create_job_description(job)

    job_file = out / 'job.json'
    job_file.write_text(job.json())
    pipeline_file = out / 'pipeline.json'
    pipeline_file.write_text(json_format.MessageToJson(job.proto_pipeline))
    return JobDescription(
        json.loads(job.json()), job.proto_pipeline, client.staged, job_file, pipeline_file
    )


def _parse_args(argv: Optional[Sequence[str]]):
    """The pipeline's name and `--out`; the rest is the pipeline's own command line, whose
    unknown options the pipeline refuses (pipelines/options_help.py)."""
    parser = CommandParser(
        'python -m pipelines.dataflow_job',
        __doc__,
        usage='%(prog)s {daily_report,streaming} [--out DIR] '
        '[pipeline options]  (--help lists them)',
    )
    parser.add_argument('pipeline', choices=sorted(PIPELINES), help='the pipeline to describe')
    parser.add_argument(
        '--out',
        default=None,
        help='folder for job.json, pipeline.json and staging/ '
        '(default: .local/dataflow/<pipeline>)',
    )
    return parser.parse_known_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command line (pipelines/command_line.py): a wrong option or a missing cloud option
    is one `error:` line and exit code 2."""
    return run_command(_main, argv)


def _main(argv: List[str]) -> int:
    args, pipeline_argv = _parse_args(argv)
    out = pathlib.Path(args.out or pathlib.Path('.local') / 'dataflow' / args.pipeline)
    description = describe_job(args.pipeline, pipeline_argv, out)
    job = description.job
    pool = job['environment']['workerPools'][0]
    print(
        f'job {job["name"]} ({job["type"]}), nothing submitted\n'
        f'  SDK container  {pool.get("workerHarnessContainerImage")}\n'
        f'  packages       {", ".join(p["name"] for p in pool.get("packages", []))}\n'
        f'  experiments    {", ".join(job["environment"].get("experiments", []))}\n'
        f'  job            {description.job_file}\n'
        f'  pipeline       {description.pipeline_file}\n'
        f'  staged files   {out / "staging"}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
