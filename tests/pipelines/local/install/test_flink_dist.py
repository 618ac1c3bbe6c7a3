"""Flink's distribution out of apache-flink-libraries: an sdist's deps/ or a wheel's pyflink/."""

import io
import tarfile
import zipfile

import pytest

from pipelines.local.install import flink_dist
from pipelines.local.install.tools import SetupFailed

VERSION = '1.19.0'


def make_sdist(path, members):
    with tarfile.open(path, 'w:gz') as sdist:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o755 if name.endswith('.sh') else 0o644
            sdist.addfile(info, io.BytesIO(content))


def test_an_sdist_gives_lib_and_bin_and_nothing_else(tmp_path):
    archive = tmp_path / f'apache-flink-libraries-{VERSION}.tar.gz'
    make_sdist(
        archive,
        {
            f'apache-flink-libraries-{VERSION}/deps/lib/flink-dist-{VERSION}.jar': b'dist',
            f'apache-flink-libraries-{VERSION}/deps/bin/bash-java-utils.jar': b'utils',
            f'apache-flink-libraries-{VERSION}/deps/bin/config.sh': b'#!/bin/sh\n',
            f'apache-flink-libraries-{VERSION}/deps/opt/big.jar': b'not wanted',
            f'apache-flink-libraries-{VERSION}/setup.py': b'',
        },
    )
    dist = tmp_path / 'dist'
    flink_dist.unpack(archive, dist)
    flink_dist.check_unpacked(dist, VERSION)
    assert sorted(p.relative_to(dist).as_posix() for p in dist.rglob('*') if p.is_file()) == [
        'bin/bash-java-utils.jar',
        'bin/config.sh',
        f'lib/flink-dist-{VERSION}.jar',
    ]
    assert (dist / 'lib' / f'flink-dist-{VERSION}.jar').read_bytes() == b'dist'
    assert (dist / 'bin' / 'config.sh').stat().st_mode & 0o111


def test_a_wheel_gives_its_pyflink_lib_and_bin(tmp_path):
    archive = tmp_path / f'apache_flink_libraries-{VERSION}-py3-none-any.whl'
    with zipfile.ZipFile(archive, 'w') as wheel:
        wheel.writestr(f'pyflink/lib/flink-dist-{VERSION}.jar', b'dist')
        wheel.writestr('pyflink/bin/bash-java-utils.jar', b'utils')
        wheel.writestr('pyflink/opt/other.jar', b'not wanted')
    dist = tmp_path / 'dist'
    flink_dist.unpack(archive, dist)
    flink_dist.check_unpacked(dist, VERSION)
    assert not (dist / 'opt').exists()


def test_an_archive_without_the_dist_jar_is_an_error_naming_it(tmp_path):
    archive = tmp_path / f'apache-flink-libraries-{VERSION}.tar.gz'
    make_sdist(archive, {f'x-{VERSION}/deps/bin/bash-java-utils.jar': b'utils'})
    dist = tmp_path / 'flink' / 'dist'
    flink_dist.unpack(archive, dist)
    with pytest.raises(SetupFailed, match=rf'has no lib/flink-dist-{VERSION}\.jar\.$') as failed:
        flink_dist.check_unpacked(dist, VERSION)
    assert failed.value.hints[0].startswith(f'Delete {tmp_path / "flink"} and run this again')


def test_an_unknown_archive_kind_is_an_error(tmp_path):
    with pytest.raises(SetupFailed, match='neither an sdist'):
        flink_dist.unpack(tmp_path / 'apache-flink-libraries-1.zip', tmp_path / 'dist')
