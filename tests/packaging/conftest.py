"""The packaging tests build from a copy of the project's files (what a clone holds: the files
git tracks or would track), so no build ever writes into the working tree."""

import pathlib
import shutil
import subprocess
from typing import Set

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ('connectors', 'pipelines', 'schemas', 'transforms')  # what setup.py ships
# Top-level packages that are not shipped: the live view (dashboard) is an operations tool
# started from a clone (./run_local.sh dashboard), not code a worker runs.
STAY_IN_THE_CLONE = ('bench', 'dashboard', 'tests')
SCHEMA_DATA = ('.avsc', '.json')


def project_files():
    """The clone's files: tracked, or untracked and not ignored, that exist."""
    listed = subprocess.run(
        ['git', 'ls-files', '--cached', '--others', '--exclude-standard', '-z'],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split('\0') if name and (REPO_ROOT / name).is_file()]


def shipped_files(tree: pathlib.Path) -> Set[str]:
    """What the packages must carry: every module of `PACKAGES` and the schemas' data files."""
    files = set()
    for package in PACKAGES:
        for path in (tree / package).rglob('*'):
            shipped = path.suffix == '.py' or (package == 'schemas' and path.suffix in SCHEMA_DATA)
            if path.is_file() and shipped and '__pycache__' not in path.parts:
                files.add(path.relative_to(tree).as_posix())
    return files


def module_names(files: Set[str]) -> Set[str]:
    """The importable module names of the `.py` files among `files`."""
    names = set()
    for name in files:
        if name.endswith('.py'):
            parts = name[: -len('.py')].split('/')
            names.add('.'.join(parts[:-1] if parts[-1] == '__init__' else parts))
    return names


@pytest.fixture(scope='session')
def source_tree(tmp_path_factory) -> pathlib.Path:
    """A copy of the clone's files; builds write their build/ and egg-info here."""
    root = tmp_path_factory.mktemp('source') / 'goldstream'
    for name in project_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    return root
