"""Prism, Beam's portable runner, built from the pinned Go module's source with
`infra/prism/*.patch` applied in name order (`patch -p1` from the module's root); the folder
it goes to names the patches' hash, so changing a patch builds it again."""

import json
import os
import pathlib
import shutil
import subprocess
from typing import Dict

from pipelines.local import cache
from pipelines.local.install.tools import SetupFailed, fresh_folder, require_command, run_tool
from pipelines.local.process import say

GO_HINT = 'Go 1.24+ (https://go.dev/doc/install, or Debian: apt-get install golang)'


def go_environment() -> Dict[str, str]:
    """Go's module and build caches inside goldstream's cache."""
    go = cache.cache_dir() / 'go'
    return {
        'GOPATH': str(go),
        'GOMODCACHE': str(go / 'mod'),
        'GOCACHE': str(go / 'build'),
        'GOFLAGS': '-modcacherw',
    }


def module_source(download_json: str, module: str) -> pathlib.Path:
    """The source folder `go mod download -json` reports for `module`."""
    try:
        folder = json.loads(download_json).get('Dir')
    except json.JSONDecodeError as bad:
        raise SetupFailed(f'go mod download said no JSON about {module}: {bad}.') from bad
    if not folder or not pathlib.Path(folder).is_dir():
        raise SetupFailed(f'go mod download did not say where {module} is.')
    return pathlib.Path(folder)


def apply_patches(source: pathlib.Path, version: str) -> None:
    patcher = require_command('patch', 'GNU patch (e.g. Debian: apt-get install patch)')
    for patch in sorted(cache.PRISM_PATCHES.glob('*.patch')):
        with open(patch, 'rb') as diff:
            applied = subprocess.run(
                [patcher, '--quiet', '--forward', '--strip=1', f'--directory={source}'],
                stdin=diff,
                check=False,
            )
        if applied.returncode != 0:
            raise SetupFailed(
                f'{patch.name} does not apply to Prism {version}.',
                ['If the pinned Beam has the fix, delete the patch (infra/prism/README.md).'],
            )


def set_up() -> None:
    binary = cache.prism_binary()
    version = cache.read_versions()['BEAM_VERSION']
    if os.access(binary, os.X_OK):
        say(f'Prism {version} ready: {binary}')
        return
    go = require_command('go', GO_HINT)
    say(
        f'Building Prism {version} (patched: infra/prism) from the Go module proxy into '
        f'{binary} (first time only; a few minutes)'
    )
    building = fresh_folder(binary.parent.with_name(binary.parent.name + '.building'))
    module = f'github.com/apache/beam/sdks/v2@v{version}'
    env = go_environment()
    downloaded = run_tool(
        [go, 'mod', 'download', '-json', module],
        f'go mod download of {module}',
        ["Read Go's message above; the Go module proxy must be reachable."],
        cwd=building,
        env=env,
        capture=True,
    )
    source = building / 'src'
    shutil.copytree(module_source(downloaded, module), source)
    for folder, _, files in os.walk(source):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            os.chmod(path, os.stat(path).st_mode | 0o200)
    apply_patches(source, version)
    run_tool(
        [go, 'build', '-o', str(building / 'prism'), './go/cmd/prism'],
        f'go build of Prism {version}',
        ["Read Go's message above."],
        cwd=source,
        env=env,
    )
    binary.parent.mkdir(parents=True, exist_ok=True)
    (building / 'prism').replace(binary)
    shutil.rmtree(building)
