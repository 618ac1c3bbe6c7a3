"""The cache layout: where `./run_local.sh setup` puts the pinned tools, and where this clone
keeps its runtime state.

The versions come from `infra/versions.env` (the one place they are pinned); downloads and
builds live under `$GOLDSTREAM_CACHE` (default `~/.cache/goldstream`), keyed by version, and
runtime state (broker data, logs, pid files) under `$GOLDSTREAM_STATE_DIR` (default `.local/`
in the clone). The set-up (`pipelines/local/install/`) fills these paths; run_local.sh
builds only the project's venv, the one thing that must exist before any Python runs.
Only a clone has the versions file: an installed goldstream (`pip install`, a Dataflow
worker) has no run_local.sh tools, and `in_clone()` says so.
"""

import hashlib
import os
import pathlib
import sys
from typing import Dict, Mapping, Optional

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSIONS_FILE = REPO_ROOT / 'infra' / 'versions.env'


def in_clone() -> bool:
    """Whether this code runs from a goldstream clone (with `infra/versions.env`), not from an
    installed package."""
    return VERSIONS_FILE.is_file()


def read_versions(path: pathlib.Path = VERSIONS_FILE) -> Dict[str, str]:
    """Returns the KEY=VALUE pairs of a versions file, ignoring comments and blank lines."""
    versions = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        key, sep, value = line.partition('=')
        if not sep or not key.strip():
            raise ValueError(f'{path}:{number}: expected KEY=VALUE, got {line!r}')
        versions[key.strip()] = value.strip()
    return versions


def cache_dir(environ: Optional[Mapping[str, str]] = None) -> pathlib.Path:
    """The download and build cache the set-up fills."""
    configured = (os.environ if environ is None else environ).get('GOLDSTREAM_CACHE')
    if configured:
        return pathlib.Path(configured)
    return pathlib.Path.home() / '.cache' / 'goldstream'


def state_dir(environ: Optional[Mapping[str, str]] = None) -> pathlib.Path:
    """This clone's runtime state: broker data, Flink's config, logs and pid files."""
    configured = (os.environ if environ is None else environ).get('GOLDSTREAM_STATE_DIR')
    return pathlib.Path(configured) if configured else REPO_ROOT / '.local'


PRISM_PATCHES = REPO_ROOT / 'infra' / 'prism'


def prism_patches_key() -> str:
    """The first 12 hex digits of the SHA-256 of `infra/prism/*.patch`, concatenated in name
    order: the set-up builds Prism with those patches into a folder named by it."""
    digest = hashlib.sha256()
    for patch in sorted(PRISM_PATCHES.glob('*.patch')):
        digest.update(patch.read_bytes())
    return digest.hexdigest()[:12]


def prism_binary() -> pathlib.Path:
    """The Prism binary built by `./run_local.sh setup` for the pinned Beam version."""
    version = read_versions()['BEAM_VERSION']
    return cache_dir() / 'prism' / f'{version}-{prism_patches_key()}' / 'prism'


def flink_job_server_jar() -> pathlib.Path:
    """The Flink job server launcher jar assembled by `./run_local.sh setup`."""
    versions = read_versions()
    home = f'beam-{versions["FLINK_RUNNER_BEAM_VERSION"]}-flink-{versions["FLINK_MINOR"]}'
    return cache_dir() / 'flink-job-server' / home / 'goldstream-flink-job-server.jar'


def kafka_home() -> pathlib.Path:
    """The folder whose `libs/` holds the Kafka jars `./run_local.sh setup` fetched."""
    versions = read_versions()
    return cache_dir() / 'kafka' / f'{versions["KAFKA_SCALA_VERSION"]}-{versions["KAFKA_VERSION"]}'


def flink_dist_home() -> pathlib.Path:
    """The Flink distribution (`lib/`, `bin/`) `./run_local.sh setup` unpacked."""
    return cache_dir() / 'flink' / read_versions()['FLINK_VERSION'] / 'dist'


def is_complete(folder: pathlib.Path) -> bool:
    """Whether set-up finished filling `folder` (it leaves a stamp file last)."""
    return (folder / '.goldstream-complete').is_file()


AIRFLOW_PINS = (
    REPO_ROOT / 'infra' / 'airflow' / 'requirements.txt',
    REPO_ROOT / 'infra' / 'airflow' / 'constraints.txt',
)


def airflow_venv() -> pathlib.Path:
    """Airflow's own venv `./run_local.sh setup` built: keyed by Airflow's version, the
    Python's (the venv's, which set-up builds from the same Python) and its pins' hash."""
    digest = hashlib.sha256(b''.join(path.read_bytes() for path in AIRFLOW_PINS))
    python = f'{sys.version_info[0]}.{sys.version_info[1]}'
    name = f'{read_versions()["AIRFLOW_VERSION"]}-py{python}-{digest.hexdigest()[:12]}'
    return cache_dir() / 'airflow' / name
