"""The cache layout and the pinned versions: one file, read by the scripts and the code,
agreeing with the venv."""

import re

import apache_beam
import pytest

from pipelines.local import cache


def test_versions_file_names_every_pin_the_scripts_use():
    versions = cache.read_versions()
    for key in (
        'BEAM_VERSION',
        'KAFKA_VERSION',
        'KAFKA_SCALA_VERSION',
        'FLINK_MINOR',
        'FLINK_VERSION',
        'FLINK_RUNNER_BEAM_VERSION',
        'AIRFLOW_VERSION',
    ):
        assert re.fullmatch(r'\d+(\.\d+)+', versions[key]), key
    assert versions['FLINK_VERSION'].startswith(versions['FLINK_MINOR'] + '.')


def test_requirements_pin_the_beam_version_that_is_installed():
    beam = cache.read_versions()['BEAM_VERSION']
    requirements = (cache.REPO_ROOT / 'requirements.txt').read_text()
    assert f'apache-beam=={beam}\n' in requirements
    assert apache_beam.__version__ == beam


def test_airflows_requirements_and_constraints_pin_the_airflow_version():
    airflow = cache.read_versions()['AIRFLOW_VERSION']
    folder = cache.REPO_ROOT / 'infra' / 'airflow'
    for name in ('requirements.txt', 'constraints.txt'):
        lines = (folder / name).read_text().splitlines()
        assert f'apache-airflow=={airflow}' in lines, name
        pins = [line for line in lines if line.strip() and not line.startswith('#')]
        assert all(re.fullmatch(r'[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+-]*', p) for p in pins), name


def test_every_requirement_is_pinned_exactly():
    lines = (cache.REPO_ROOT / 'requirements.txt').read_text().splitlines()
    pins = [line for line in lines if line.strip() and not line.startswith('#')]
    assert pins and all(
        re.fullmatch(r'[A-Za-z0-9_.-]+(\[[a-z0-9,_-]+\])?==[0-9][0-9A-Za-z.]*', p) for p in pins
    )  # extras allowed: the version is what is pinned


def test_a_malformed_versions_line_names_the_file_and_line(tmp_path):
    bad = tmp_path / 'versions.env'
    bad.write_text('# pins\nBEAM_VERSION 2.77.0\n')
    with pytest.raises(ValueError, match=r'versions.env:2'):
        cache.read_versions(bad)


def test_tools_built_by_setup_are_where_the_code_looks():
    assert cache.prism_binary().is_file()
    assert cache.flink_job_server_jar().is_file()
    assert (cache.kafka_home() / 'libs').is_dir() and cache.is_complete(cache.kafka_home())
    assert (cache.airflow_venv() / 'bin' / 'airflow').is_file()
    assert (
        cache.flink_dist_home() / 'lib' / f'flink-dist-{cache.read_versions()["FLINK_VERSION"]}.jar'
    ).is_file()


def test_the_cache_and_state_folders_follow_their_variables(tmp_path):
    env = {'GOLDSTREAM_CACHE': str(tmp_path / 'c'), 'GOLDSTREAM_STATE_DIR': str(tmp_path / 's')}
    assert cache.cache_dir(env) == tmp_path / 'c'
    assert cache.state_dir(env) == tmp_path / 's'
    assert cache.state_dir({}) == cache.REPO_ROOT / '.local'
    assert cache.cache_dir({}) == cache.pathlib.Path.home() / '.cache' / 'goldstream'
