"""setup.py packages everything a worker needs: the sdist and the wheel carry every module and
the schemas, install into a fresh venv, and import there, outside the clone, with no network.

The scratch venvs are made from this interpreter without pip; a `.pth` file lends them the
test venv's site-packages for the dependencies (Beam, fastavro, ...), so only goldstream
itself is installed, with `--no-deps --no-index`: the check is the project's packaging, not
PyPI's.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from typing import NamedTuple

import apache_beam
import pytest

from connectors.schema_catalogue import default_catalogue
from tests.packaging.conftest import (
    PACKAGES,
    REPO_ROOT,
    STAY_IN_THE_CLONE,
    module_names,
    shipped_files,
)

BUILD_FILES = {'setup.py', 'requirements.txt', 'README.md', 'MANIFEST.in'}  # a worker builds
TEST_TOOLS = {'pytest', 'pytest-timeout', 'hypothesis', 'ruff', 'mypy'}
DATAFLOW_CLIENTS = {'google-cloud-dataflow-client', 'google-cloud-storage', 'google-auth-httplib2'}
CLOUD_ARGS = [
    '--project=goldstream-demo',
    '--region=europe-west1',
    '--temp_location=gs://goldstream-demo-bucket/tmp',
]

# Run by the scratch venv's interpreter, in an empty folder: imports every module of every
# shipped package and loads the schemas through the installed package; prints JSON.
PROBE = r"""
import importlib, json, pathlib, pkgutil, sys
import fastavro
modules = {}
for top in sys.argv[1].split(','):
    package = importlib.import_module(top)
    modules[top] = package.__file__
    for info in pkgutil.walk_packages(package.__path__, top + '.'):
        modules[info.name] = importlib.import_module(info.name).__file__
from schemas import SCHEMA_DIR, load_schema
schemas = {path.name: fastavro.parse_schema(load_schema(path.name))['name']
           for path in sorted(SCHEMA_DIR.glob('*.avsc'))}
from connectors.schema_catalogue import default_catalogue
catalogue = sorted([e.subject, e.version, e.schema_id] for e in default_catalogue().entries())
from apache_beam.options.pipeline_options import PipelineOptions, PrismRunnerOptions
from apache_beam.options.pipeline_options import StandardOptions
from pipelines import runner_setup
from pipelines.local import cache
from pipelines.streaming import pipeline as streaming
direct = runner_setup.with_local_runners(PipelineOptions(['--runner=DirectRunner']))
dataflow = streaming.pipeline_options(['--runner=DataflowRunner'])
print(json.dumps({
    'modules': {name: str(pathlib.Path(path).resolve()) for name, path in modules.items()},
    'schemas': schemas, 'catalogue': catalogue, 'in_clone': cache.in_clone(),
    'direct_prism_location': direct.view_as(PrismRunnerOptions).prism_location,
    'dataflow_streaming': dataflow.view_as(StandardOptions).streaming}))
"""


class Dists(NamedTuple):
    sdist: pathlib.Path
    wheel: pathlib.Path


def run(command, **kwargs) -> subprocess.CompletedProcess:
    """Runs `command`; on failure the assertion shows its output."""
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=120, **kwargs
    )
    assert done.returncode == 0, (
        f'{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}'
    )
    return done


def only(paths) -> pathlib.Path:
    found = list(paths)
    assert len(found) == 1, found
    return found[0]


def clean_env(**extra) -> dict:
    """This process's environment without anything that would put the clone on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
    env.update(extra)
    return env


@pytest.fixture(scope='module')
def dists(source_tree, tmp_path_factory) -> Dists:
    out = tmp_path_factory.mktemp('dist')
    run([sys.executable, 'setup.py', '-q', 'sdist', '--dist-dir', out], cwd=source_tree)
    run(
        [
            sys.executable,
            '-m',
            'pip',
            'wheel',
            '-q',
            '--no-deps',
            '--no-index',
            '--no-build-isolation',
            '--wheel-dir',
            out,
            source_tree,
        ],
        cwd=out,
    )
    return Dists(only(out.glob('goldstream-*.tar.gz')), only(out.glob('goldstream-*.whl')))


def make_venv(path: pathlib.Path, dist: pathlib.Path) -> pathlib.Path:
    """A venv at `path` with `dist` installed; its python."""
    run([sys.executable, '-m', 'venv', '--without-pip', path])
    site = only(path.glob('lib/python*/site-packages'))
    (site / 'test_venv_dependencies.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    python = path / 'bin' / 'python'
    run(
        [
            python,
            '-m',
            'pip',
            'install',
            '-q',
            '--no-deps',
            '--no-index',
            '--no-build-isolation',
            dist,
        ],
        cwd=path,
        env=clean_env(),
    )
    return python


@pytest.fixture(scope='module')
def venvs(dists, tmp_path_factory):
    """The python of a venv with the wheel installed, and of one with the sdist installed (pip
    builds it, as a Dataflow worker does with the staged `workflow.tar.gz`)."""
    root = tmp_path_factory.mktemp('venvs')
    return {
        'wheel': make_venv(root / 'wheel', dists.wheel),
        'sdist': make_venv(root / 'sdist', dists.sdist),
    }


def requirement_pins():
    lines = (REPO_ROOT / 'requirements.txt').read_text().splitlines()
    pins = [line.split('#', 1)[0].strip() for line in lines]
    return {pin.split('==')[0]: pin for pin in pins if pin}


def test_every_top_level_package_is_shipped_but_tests_and_bench(source_tree):
    packages = {path.parent.name for path in source_tree.glob('*/__init__.py')}
    assert packages - set(STAY_IN_THE_CLONE) == set(PACKAGES)


def test_sdist_carries_every_module_the_schemas_and_what_a_worker_builds_it_with(
    dists, source_tree
):
    with tarfile.open(dists.sdist) as sdist:
        names = {name.split('/', 1)[1] for name in sdist.getnames() if '/' in name}
    assert shipped_files(source_tree) | BUILD_FILES <= names
    assert not {name for name in names if name.split('/')[0] in STAY_IN_THE_CLONE}


def test_wheel_carries_exactly_every_module_and_the_schemas(dists, source_tree):
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = {name for name in wheel.namelist() if '.dist-info/' not in name}
    assert names == shipped_files(source_tree)


def test_wheel_requires_the_runtime_pins_and_offers_the_dataflow_clients_as_an_extra(dists):
    with zipfile.ZipFile(dists.wheel) as wheel:
        metadata = wheel.read(
            only(n for n in wheel.namelist() if n.endswith('.dist-info/METADATA'))
        ).decode()
    requires = re.findall(r'^Requires-Dist: (.+)$', metadata, flags=re.MULTILINE)
    runtime = {r for r in requires if ';' not in r}
    extra = {r.split(';')[0].strip() for r in requires if re.search(r'extra == "dataflow"', r)}
    pins = requirement_pins()
    assert f'apache-beam=={apache_beam.__version__}' in runtime
    assert extra == {pins[name] for name in DATAFLOW_CLIENTS}
    assert runtime == {
        pin for name, pin in pins.items() if name not in TEST_TOOLS | DATAFLOW_CLIENTS
    }
    assert len(requires) == len(runtime) + len(extra)


@pytest.mark.parametrize('kind', ['wheel', 'sdist'])
def test_installed_package_imports_every_module_and_loads_the_schemas_outside_the_clone(
    kind, venvs, source_tree, tmp_path
):
    python = venvs[kind]
    done = run([python, '-c', PROBE, ','.join(PACKAGES)], cwd=tmp_path, env=clean_env())
    probe = json.loads(done.stdout.splitlines()[-1])

    assert set(probe['modules']) == module_names(shipped_files(source_tree))
    venv = python.parent.parent.resolve()
    outside = [path for path in probe['modules'].values() if not path.startswith(str(venv))]
    assert not outside, 'imported from outside the scratch venv'
    assert set(probe['schemas']) == {p.name for p in (source_tree / 'schemas').glob('*.avsc')}
    assert probe['catalogue'] == sorted(
        [e.subject, e.version, e.schema_id] for e in default_catalogue().entries()
    )
    # No infra/versions.env outside a clone: no local tools, and nothing fails for it.
    assert probe['in_clone'] is False
    assert probe['direct_prism_location'] is None
    assert probe['dataflow_streaming'] is True


def test_installed_package_describes_the_dataflow_job_outside_the_clone(
    venvs, source_tree, tmp_path
):
    out = tmp_path / 'job'
    run(
        [
            venvs['wheel'],
            '-m',
            'pipelines.dataflow_job',
            'streaming',
            f'--out={out}',
            *CLOUD_ARGS,
            f'--setup_file={source_tree / "setup.py"}',
            '--job_name=goldstream-installed',
            '--brokers=kafka-1.example.internal:9092',
        ],
        cwd=tmp_path,
        env=clean_env(),
    )
    job = json.loads((out / 'job.json').read_text())
    assert (job['name'], job['type']) == ('goldstream-installed', 'JOB_TYPE_STREAMING')
    packages = job['environment']['workerPools'][0]['packages']
    assert 'workflow.tar.gz' in {package['name'] for package in packages}
    assert len(list((out / 'staging').rglob('workflow.tar.gz'))) == 1
