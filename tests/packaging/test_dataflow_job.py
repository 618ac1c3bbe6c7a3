"""Both pipelines build the job description that Dataflow would receive, with no credentials and
no network: Beam's own DataflowRunner translation and Job message, staging written locally
(`pipelines.dataflow_job`). What is checked is what a submission needs: the job's name and
type, Runner v2, the SDK container of the pinned Beam, the project's sdist among the packages
the workers install, every step of the pipeline, and the options the workers get.
"""

import hashlib
import json
import sys
import tarfile
from typing import NamedTuple, Tuple

import apache_beam
import pytest
from apache_beam.portability.api import beam_runner_api_pb2
from google.protobuf import json_format

from pipelines import dataflow_job
from tests.packaging.conftest import shipped_files

BUCKET = 'goldstream-demo-bucket'
CLOUD_ARGS = [
    '--project=goldstream-demo',
    '--region=europe-west1',
    f'--temp_location=gs://{BUCKET}/tmp',
    f'--reference_data=gs://{BUCKET}/reference',
    f'--archive_path=gs://{BUCKET}/archive',
]
RUNNER_V2 = {'beam_fn_api', 'use_unified_worker', 'use_runner_v2', 'use_portable_job_submission'}
STREAMING_ENGINE = {'enable_streaming_engine', 'enable_windmill_service'}
SDK_IMAGE_SUFFIX = (
    f'/beam_python{sys.version_info.major}.{sys.version_info.minor}_sdk:{apache_beam.__version__}'
)
UNBOUNDED = beam_runner_api_pb2.IsBounded.UNBOUNDED
BOUNDED = beam_runner_api_pb2.IsBounded.BOUNDED


class JobCase(NamedTuple):
    job_name: str
    args: Tuple[str, ...]
    streaming: bool
    steps: Tuple[str, ...]  # every top-level step of the pipeline's build()
    options: Tuple[Tuple[str, object], ...]  # pipeline options the workers must get
    pipeline: str = ''  # the key of dataflow_job.PIPELINES, when it is not the case's own


JOBS = {
    'streaming': JobCase(
        'goldstream-streaming',
        ('--brokers=kafka-1.example.internal:9092,kafka-2.example.internal:9092',),
        True,
        (
            'ReadOrders',
            'SplitReplayed',
            'IngestOrders',
            'IngestReplayed',
            'ForgetOrigin',
            'EnrichOrders',
            'CheckFraud',
            'OnlyAlerts',
            'CountPerWindow',
            'ToMetricRows',
            'ArchiveOrders',
            'ArchiveDeadLetters',
            'ArchivedFiles',
            'WriteAlerts',
            'WriteMetrics',
            'WriteDeadLetters',
            'StoredOffsets',
            'StoredUntriggered',
            'CommitDurableOffsets',
        ),
        (
            ('brokers', 'kafka-1.example.internal:9092,kafka-2.example.internal:9092'),
            ('orders_topic', 'orders'),
            ('archive_path', f'gs://{BUCKET}/archive'),
        ),
    ),
    'daily_report': JobCase(
        'goldstream-daily-report',
        ('--date=2026-11-18', f'--reports_path=gs://{BUCKET}/reports'),
        False,
        (
            'ReadOrders',
            'ReadDeadLetters',
            'ArchivedOrders',
            'AllDeadLetters',
            'EnrichOrders',
            'CheckFraud',
            'ComputeReportFigures',
            'WriteReport',
        ),
        (
            ('date', '2026-11-18'),
            ('reports_path', f'gs://{BUCKET}/reports'),
            ('archive_path', f'gs://{BUCKET}/archive'),
        ),
    ),
    'daily_report_from_kafka': JobCase(
        'goldstream-daily-report-kafka',
        (
            '--date=2026-11-18',
            '--source=kafka',
            '--brokers=kafka-1.example.internal:9092',
            f'--reports_path=gs://{BUCKET}/reports',
        ),
        False,
        ('ReadKafkaDay', 'EnrichOrders', 'CheckFraud', 'ComputeReportFigures', 'WriteReport'),
        (
            ('date', '2026-11-18'),
            ('source', 'kafka'),
            ('brokers', 'kafka-1.example.internal:9092'),
            ('orders_topic', 'orders'),
        ),
        pipeline='daily_report',
    ),
}


class Described(NamedTuple):
    case: JobCase
    description: dataflow_job.JobDescription
    setup_file: str

    @property
    def job(self):
        return self.description.job

    @property
    def options(self):
        return self.job['environment']['sdkPipelineOptions']['options']

    @property
    def pool(self):
        return only(self.job['environment']['workerPools'])

    def staged(self, url):
        return self.description.staged[url]


def only(items):
    items = list(items)
    assert len(items) == 1, items
    return items[0]


@pytest.fixture(scope='module', params=sorted(JOBS))
def described(request, source_tree, tmp_path_factory) -> Described:
    case = JOBS[request.param]
    setup_file = str(source_tree / 'setup.py')
    description = dataflow_job.describe_job(
        case.pipeline or request.param,
        [*CLOUD_ARGS, f'--setup_file={setup_file}', f'--job_name={case.job_name}', *case.args],
        tmp_path_factory.mktemp(f'dataflow-{request.param}'),
    )
    return Described(case, description, setup_file)


def top_level_steps(pipeline: beam_runner_api_pb2.Pipeline):
    transforms = pipeline.components.transforms
    root = only(pipeline.root_transform_ids)
    return [transforms[t].unique_name for t in transforms[root].subtransforms]


def test_job_has_its_name_and_its_type(described):
    job, streaming = described.job, described.case.streaming
    assert job['name'] == described.case.job_name
    assert job['type'] == ('JOB_TYPE_STREAMING' if streaming else 'JOB_TYPE_BATCH')
    assert job['environment']['version']['job_type'] == (
        'FNAPI_STREAMING' if streaming else 'FNAPI_BATCH'
    )
    assert described.options['streaming'] is streaming


def test_job_runs_on_runner_v2_and_streaming_on_streaming_engine(described):
    experiments = set(described.job['environment']['experiments'])
    assert RUNNER_V2 <= experiments
    if described.case.streaming:
        assert STREAMING_ENGINE <= experiments
    else:
        assert not STREAMING_ENGINE & experiments
    assert RUNNER_V2 <= set(described.options['experiments'])


def test_workers_run_the_python_sdk_container_of_the_pinned_beam(described):
    pool = described.pool
    assert pool['kind'] == 'harness'
    assert pool['workerHarnessContainerImage'].endswith(SDK_IMAGE_SUFFIX)
    image = only(pool['sdkHarnessContainerImages'])['containerImage']
    assert image == pool['workerHarnessContainerImage']
    environment = only(described.description.pipeline.components.environments.values())
    assert environment.urn == 'beam:env:docker:v1'
    docker = beam_runner_api_pb2.DockerPayload.FromString(environment.payload)
    assert docker.container_image == image


def test_workers_install_the_project_sdist_built_from_setup_file(described, source_tree):
    staging = described.options['staging_location']
    assert staging.startswith(f'gs://{BUCKET}/tmp/{described.case.job_name}.')
    packages = {p['name']: p['location'] for p in described.pool['packages']}
    assert packages['workflow.tar.gz'] == (
        staging.replace('gs://', 'storage.googleapis.com/') + '/workflow.tar.gz'
    )
    assert described.options['setup_file'] == described.setup_file

    with tarfile.open(described.staged(f'{staging}/workflow.tar.gz')) as sdist:
        names = {name.split('/', 1)[1] for name in sdist.getnames() if '/' in name}
    assert {'setup.py', 'requirements.txt'} | shipped_files(source_tree) <= names

    environment = only(described.description.pipeline.components.environments.values())
    staged_urls = {
        beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(
            d.role_payload
        ).staged_name: beam_runner_api_pb2.ArtifactUrlPayload.FromString(d.type_payload).url
        for d in environment.dependencies
    }
    assert staged_urls['workflow.tar.gz'] == f'{staging}/workflow.tar.gz'
    assert set(staged_urls) == set(packages)


def test_staged_pipeline_is_the_one_described_and_the_job_names_it(described):
    url = described.options['pipelineUrl']
    assert url == described.options['staging_location'] + '/pipeline.pb'
    staged = described.staged(url).read_bytes()
    assert described.options['pipelineProtoHash'] == hashlib.sha256(staged).hexdigest()
    assert beam_runner_api_pb2.Pipeline.FromString(staged) == described.description.pipeline
    written = json_format.Parse(
        described.description.pipeline_file.read_text(), beam_runner_api_pb2.Pipeline()
    )
    assert written == described.description.pipeline
    assert json.loads(described.description.job_file.read_text()) == described.job


def test_pipeline_has_every_step_of_build(described):
    assert top_level_steps(described.description.pipeline) == list(described.case.steps)


def test_streaming_reads_kafka_unbounded_with_a_splittable_dofn_and_the_report_is_bounded(
    described,
):
    pipeline = described.description.pipeline
    transforms, pcollections = pipeline.components.transforms, pipeline.components.pcollections
    bounded = {pcollections[p].is_bounded for p in pcollections}
    if not described.case.streaming:
        assert bounded == {BOUNDED}
        return
    read = only(t for t in transforms.values() if t.unique_name == 'ReadOrders')
    assert {pcollections[p].is_bounded for p in read.outputs.values()} == {UNBOUNDED}
    splittable = [
        t.unique_name
        for t in transforms.values()
        if t.spec.urn == 'beam:transform:pardo:v1'
        and beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload).restriction_coder_id
    ]
    assert splittable and all(name.startswith('ReadOrders/') for name in splittable)
    # The source declares finalization (its own commits, when asked); CheckFraud and the
    # durable commit step keep state.
    assert {
        'beam:requirement:pardo:splittable_dofn:v1',
        'beam:requirement:pardo:finalization:v1',
        'beam:requirement:pardo:stateful:v1',
    } <= set(pipeline.requirements)


def test_workers_get_the_cloud_and_pipeline_options(described):
    options = described.options
    assert (options['project'], options['region'], options['runner']) == (
        'goldstream-demo',
        'europe-west1',
        'DataflowRunner',
    )
    assert options['temp_location'].startswith(f'gs://{BUCKET}/tmp/')
    assert options['reference_data'] == f'gs://{BUCKET}/reference'
    for name, value in described.case.options:
        assert options[name] == value, name
    assert options['dry_run'] is False  # the job as submitted, not the dry run's


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--region=europe-west1', f'--temp_location=gs://{BUCKET}/tmp'], '--project'),
        (['--project=goldstream-demo', f'--temp_location=gs://{BUCKET}/tmp'], '--region'),
        (['--project=goldstream-demo', '--region=europe-west1'], '--temp_location'),
        (['--project=goldstream-demo', '--region=europe-west1', '--temp_location=/tmp/x'], 'gs://'),
        (
            ['--project=goldstream-demo', '--region=europe-west1', '--temp_location=gs://b/tmp'],
            'Invalid GCS bucket',
        ),
        ([*CLOUD_ARGS, '--staging_location=gs://UPPER/staging'], '--staging_location'),
        ([*CLOUD_ARGS, '--runner=FlinkRunner'], 'DataflowRunner'),
    ],
)
def test_what_would_need_a_lookup_online_fails_at_once(argv, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        dataflow_job.describe_job('streaming', argv, tmp_path)
    assert not list(tmp_path.iterdir())


def test_an_unknown_pipeline_is_refused(tmp_path):
    with pytest.raises(ValueError, match='unknown pipeline'):
        dataflow_job.describe_job('hourly', CLOUD_ARGS, tmp_path)


@pytest.mark.parametrize(
    'argv, expected',
    [
        (['--date=2026-11-18'], ['--runner=DataflowRunner', '--date=2026-11-18']),
        (
            ['--runner', 'DataflowRunner', '--brokers', 'k:9092'],
            ['--runner=DataflowRunner', '--brokers', 'k:9092'],
        ),
        (['--runner=DataflowRunner'], ['--runner=DataflowRunner']),
    ],
)
def test_dataflow_argv_names_the_dataflow_runner_once(argv, expected):
    assert dataflow_job.dataflow_argv(argv) == expected


@pytest.mark.parametrize(
    'argv, message',
    [
        (
            [],
            'error: the following arguments are required: pipeline; see python -m '
            'pipelines.dataflow_job --help\n',
        ),
        (
            ['hourly'],
            "error: argument pipeline: invalid choice: 'hourly' (choose from "
            "'daily_report', 'streaming'); see python -m pipelines.dataflow_job --help\n",
        ),
        (
            ['streaming', '--window-size-s=60', *CLOUD_ARGS],
            'error: unknown option --window-size-s (options are spelled with underscores: '
            '--window_size_s); see --help for the options\n',
        ),
        (
            ['streaming', '--project=goldstream-demo'],
            'error: a Dataflow job needs --region, --temp_location\n',
        ),
    ],
)
def test_the_command_says_what_is_wrong_in_one_line_with_exit_code_2(argv, message, capsys):
    try:
        code = dataflow_job.main(argv)
    except SystemExit as stopped:
        code = stopped.code
    assert code == 2
    assert capsys.readouterr().err == message
