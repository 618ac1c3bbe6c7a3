"""The Flink job server's launcher jar: a manifest naming the main class and every jar."""

import zipfile

from pipelines.local import cache
from pipelines.local.install import flink_job_server


def unfolded(manifest: str) -> dict:
    """The manifest's headers, continuation lines joined (as the JAR format reads them)."""
    headers: dict = {}
    last = None
    for line in manifest.splitlines():
        if line.startswith(' ') and last:
            headers[last] += line[1:]
        elif line:
            last, _, value = line.partition(': ')
            headers[last] = value
    return headers


def test_long_class_paths_wrap_at_72_bytes_and_read_back_whole():
    jars = [f'libs/some-rather-long-artifact-name-{n}-1.2.3.jar' for n in range(40)]
    text = flink_job_server.manifest('org.example.Main', jars)
    assert all(len(line.encode()) <= 72 for line in text.splitlines())
    headers = unfolded(text)
    assert headers['Main-Class'] == 'org.example.Main'
    assert headers['Class-Path'].split(' ') == jars
    assert headers['Manifest-Version'] == '1.0'


def test_the_launcher_names_every_jar_of_libs_relative_to_itself(tmp_path):
    libs = tmp_path / 'libs'
    libs.mkdir()
    for name in ('b.jar', 'a.jar', 'notes.txt'):
        (libs / name).write_text('')
    launcher = tmp_path / 'launcher.jar'
    flink_job_server.write_launcher(launcher, 'org.example.Main', libs)
    with zipfile.ZipFile(launcher) as jar:
        headers = unfolded(jar.read('META-INF/MANIFEST.MF').decode())
    assert headers['Class-Path'] == 'libs/a.jar libs/b.jar'


def test_the_launcher_set_up_made_names_the_runner_jars():
    jar = cache.flink_job_server_jar()
    with zipfile.ZipFile(jar) as launcher:
        headers = unfolded(launcher.read('META-INF/MANIFEST.MF').decode())
    assert headers['Main-Class'] == flink_job_server.MAIN_CLASS
    named = set(headers['Class-Path'].split(' '))
    on_disk = {f'libs/{path.name}' for path in (jar.parent / 'libs').glob('*.jar')}
    assert named == on_disk and any('beam-runners-flink' in name for name in named)
