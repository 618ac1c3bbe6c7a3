"""Imports run one way: pipelines -> transforms -> connectors -> schemas (docs/architecture.md).

Each package may import only the packages to its right, never one to its left; the check
reads every module's import statements (top level and inside functions) with `ast`.
"""

import ast
import pathlib
from typing import Iterator, Set, Tuple

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
LAYERS = ('pipelines', 'transforms', 'connectors', 'schemas')


def imported_packages(path: pathlib.Path) -> Set[str]:
    """The top-level names of the packages a module imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split('.')[0])
    return names


def modules_of(layer: str) -> Iterator[Tuple[str, pathlib.Path]]:
    for path in sorted((REPO_ROOT / layer).rglob('*.py')):
        yield layer, path


@pytest.mark.parametrize('layer', LAYERS)
def test_a_layer_imports_only_the_layers_below_it(layer):
    above = set(LAYERS[: LAYERS.index(layer)])
    wrong = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_packages(path) & above)
        for _, path in modules_of(layer)
        if imported_packages(path) & above
    }
    assert wrong == {}


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / 'upward.py'
    module.write_text(
        'def f():\n    from pipelines.streaming import pipeline\n    return pipeline\n'
    )
    assert imported_packages(module) == {'pipelines'}
