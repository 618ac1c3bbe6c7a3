"""Flink's distribution (`lib/` and `bin/`: the JobManager's and TaskManager's jars) for the
local session cluster, from PyPI's apache-flink-libraries (flink-dist is not served through
Maven here). The 1.19 release is an sdist with the jars under `<name>/deps/`; a wheel would
carry them under `pyflink/`."""

import pathlib
import shutil
import sys
import tarfile
import zipfile
from typing import IO

from pipelines.local import cache
from pipelines.local.install.tools import (
    SetupFailed,
    fresh_folder,
    is_finished,
    mark_finished,
    require_java,
    run_tool,
)
from pipelines.local.process import say

PACKAGE = 'apache-flink-libraries'
FOLDERS = ('lib', 'bin')


def unpack(archive: pathlib.Path, into: pathlib.Path) -> None:
    """Copies the `lib/` and `bin/` folders of an apache-flink-libraries sdist or wheel into
    `into`."""
    if archive.name.endswith('.tar.gz'):
        with tarfile.open(archive) as sdist:
            for member in sdist.getmembers():
                parts = pathlib.PurePosixPath(member.name).parts
                if (
                    member.isfile()
                    and len(parts) > 3
                    and parts[1:3] in (('deps', 'lib'), ('deps', 'bin'))
                ):
                    source = sdist.extractfile(member)  # None only for what is not a file
                    if source is not None:
                        _write(into.joinpath(*parts[2:]), source, member.mode)
    elif archive.name.endswith('.whl'):
        with zipfile.ZipFile(archive) as wheel:
            for name in wheel.namelist():
                parts = pathlib.PurePosixPath(name).parts
                if (
                    len(parts) > 2
                    and parts[0] == 'pyflink'
                    and parts[1] in FOLDERS
                    and not name.endswith('/')
                ):
                    mode = (wheel.getinfo(name).external_attr >> 16) & 0o777
                    with wheel.open(name) as source:
                        _write(into.joinpath(*parts[1:]), source, mode or 0o644)
    else:
        raise SetupFailed(f'{archive.name} is neither an sdist (.tar.gz) nor a wheel (.whl).')


def _write(path: pathlib.Path, source: IO[bytes], mode: int) -> None:
    """Copies in chunks: flink-dist's jar alone is over 100 MB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open('wb') as target:
        shutil.copyfileobj(source, target)
    path.chmod(mode & 0o755 | 0o644)


def check_unpacked(dist: pathlib.Path, version: str) -> None:
    """The two jars the session cluster starts from are there."""
    for needed in (
        dist / 'lib' / f'flink-dist-{version}.jar',
        dist / 'bin' / 'bash-java-utils.jar',
    ):
        if not needed.is_file():
            raise SetupFailed(
                f'{PACKAGE} {version} has no {needed.relative_to(dist)}.',
                [f'Delete {dist.parent} and run this again; if it repeats, the package changed.'],
            )


def set_up() -> None:
    dist = cache.flink_dist_home()
    version = cache.read_versions()['FLINK_VERSION']
    require_java()
    if is_finished(dist):
        say(f'Flink {version} distribution ready: {dist}')
        return
    say(f'Fetching {PACKAGE} {version} from PyPI into {dist.parent} (first time only; ~230 MB)')
    download = fresh_folder(dist.parent / 'download')
    fresh_folder(dist)
    run_tool(
        [
            sys.executable,
            '-m',
            'pip',
            'download',
            '--quiet',
            '--progress-bar',
            'off',
            '--no-deps',
            '--dest',
            str(download),
            f'{PACKAGE}=={version}',
        ],
        f'pip downloading {PACKAGE} {version}',
        ["Read pip's message above; PyPI must be reachable."],
        env={'PIP_CACHE_DIR': str(cache.cache_dir() / 'pip')},
    )
    archives = sorted(download.glob('apache[-_]flink[-_]libraries-*'))
    if not archives:
        raise SetupFailed(f'pip downloaded no {PACKAGE} archive into {download}.')
    unpack(archives[0], dist)
    check_unpacked(dist, version)
    shutil.rmtree(download)
    mark_finished(dist)
