"""Building Prism: where Go put the module, and patches that no longer apply."""

import json

import pytest

from pipelines.local import cache
from pipelines.local.install import prism
from pipelines.local.install.tools import SetupFailed


def test_the_module_folder_is_read_from_go_mod_download_json(tmp_path):
    said = json.dumps({'Path': 'github.com/apache/beam/sdks/v2', 'Dir': str(tmp_path)}, indent=1)
    assert prism.module_source(said, 'beam') == tmp_path


@pytest.mark.parametrize('said', ['{"Error": "not found"}', 'not json', '{"Dir": "/nonexistent"}'])
def test_go_not_saying_where_the_module_is_is_an_error(said):
    with pytest.raises(SetupFailed, match='beam'):
        prism.module_source(said, 'beam')


def test_go_builds_in_goldstreams_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('GOLDSTREAM_CACHE', str(tmp_path))
    env = prism.go_environment()
    assert env['GOMODCACHE'] == str(tmp_path / 'go' / 'mod')
    assert env['GOCACHE'] == str(tmp_path / 'go' / 'build')


def test_a_patch_that_does_not_apply_says_what_to_do(tmp_path):
    (tmp_path / 'go').mkdir()  # a source tree without the files the patches change
    with pytest.raises(SetupFailed, match=r'\.patch does not apply to Prism 9\.9\.9\.$') as failed:
        prism.apply_patches(tmp_path, '9.9.9')
    assert 'delete the patch (infra/prism/README.md)' in failed.value.hints[0]


def test_the_patches_are_there_and_the_built_binary_runs():
    assert sorted(cache.PRISM_PATCHES.glob('*.patch'))
    assert cache.prism_binary().is_file()
