"""Copying a pom's runtime dependencies into a folder, with Maven and the cache's repository."""

import pathlib
from typing import Mapping, Optional

from pipelines.local.cache import cache_dir
from pipelines.local.install.tools import require_command, run_tool

DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1'


def local_repository() -> pathlib.Path:
    """Maven's local repository in the cache (not ~/.m2), so a fresh machine's cache is whole."""
    return cache_dir() / 'm2'


def copy_dependencies(
    pom: pathlib.Path,
    out: pathlib.Path,
    properties: Mapping[str, str],
    repository: Optional[pathlib.Path] = None,
) -> None:
    """Resolves `pom`'s runtime dependencies with `properties` (-Dkey=value) and copies the
    jars into `out`."""
    mvn = require_command('mvn', 'Apache Maven 3.8+ (e.g. Debian: apt-get install maven)')
    command = [
        mvn,
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        str(pom),
        f'-Dmaven.repo.local={repository or local_repository()}',
        *(f'-D{key}={value}' for key, value in properties.items()),
        f'{DEPENDENCY_PLUGIN}:copy-dependencies',
        '-DincludeScope=runtime',
        f'-DoutputDirectory={out}',
    ]
    run_tool(
        command,
        f'Maven resolving {pom.parent.name}/{pom.name}',
        ["Read Maven's message above; check that Maven Central is reachable."],
        quiet=True,
    )
