"""Beam's Flink job server: Beam's Flink runner library and its dependencies through Maven
(`infra/flink/pom.xml`; no Beam release has the job server's own jar on the mirror here),
behind a launcher jar whose manifest names the main class and every jar on its class path."""

import pathlib
import zipfile
from typing import Sequence

from pipelines.local import cache
from pipelines.local.install import maven
from pipelines.local.install.tools import fresh_folder, is_finished, mark_finished, require_java
from pipelines.local.process import say

MAIN_CLASS = 'org.apache.beam.runners.flink.FlinkJobServerDriver'
MANIFEST_LINE_BYTES = 72  # the JAR format's limit, line break excluded


def manifest(main_class: str, class_path: Sequence[str]) -> str:
    """A JAR manifest; a line longer than the format allows goes on in lines that start with
    one space (ASCII names, so characters are bytes)."""
    lines = ['Manifest-Version: 1.0', f'Main-Class: {main_class}']
    header = f'Class-Path: {" ".join(class_path)}'
    lines.append(header[:MANIFEST_LINE_BYTES])
    rest = header[MANIFEST_LINE_BYTES:]
    step = MANIFEST_LINE_BYTES - 1  # the continuation's leading space counts
    lines.extend(' ' + rest[start : start + step] for start in range(0, len(rest), step))
    return '\n'.join(lines) + '\n'


def write_launcher(jar: pathlib.Path, main_class: str, libs: pathlib.Path) -> None:
    """A jar holding only a manifest: `java -jar` runs `main_class` with every jar of `libs`
    (named relative to the launcher's folder)."""
    class_path = sorted(path.relative_to(jar.parent).as_posix() for path in libs.glob('*.jar'))
    with zipfile.ZipFile(jar, 'w') as launcher:
        launcher.writestr('META-INF/MANIFEST.MF', manifest(main_class, class_path))


def set_up() -> None:
    jar = cache.flink_job_server_jar()
    home = jar.parent
    versions = cache.read_versions()
    require_java()
    if is_finished(home):
        say(f'Flink {versions["FLINK_MINOR"]} job server ready: {jar}')
        return
    say(
        f"Fetching Beam's Flink {versions['FLINK_MINOR']} runner "
        f'{versions["FLINK_RUNNER_BEAM_VERSION"]} through Maven into {home}'
    )
    fresh_folder(home)
    maven.copy_dependencies(
        cache.REPO_ROOT / 'infra' / 'flink' / 'pom.xml',
        home / 'libs',
        {
            'beam.version': versions['FLINK_RUNNER_BEAM_VERSION'],
            'flink.minor': versions['FLINK_MINOR'],
        },
    )
    write_launcher(jar, MAIN_CLASS, home / 'libs')
    mark_finished(home)
