"""Kafka's jars through Maven: the real pom, resolved against the cache's repository."""

from pipelines.local import cache
from pipelines.local.install import maven


def test_maven_copies_the_pinned_kafka_jars_into_a_fresh_folder(tmp_path):
    versions = cache.read_versions()
    libs = tmp_path / 'libs'
    maven.copy_dependencies(
        cache.REPO_ROOT / 'infra' / 'kafka' / 'pom.xml',
        libs,
        {
            'kafka.version': versions['KAFKA_VERSION'],
            'kafka.scala.version': versions['KAFKA_SCALA_VERSION'],
        },
    )
    names = {path.name for path in libs.glob('*.jar')}
    assert f'kafka_{versions["KAFKA_SCALA_VERSION"]}-{versions["KAFKA_VERSION"]}.jar' in names
    assert f'kafka-clients-{versions["KAFKA_VERSION"]}.jar' in names
    assert names == {path.name for path in (cache.kafka_home() / 'libs').glob('*.jar')}
