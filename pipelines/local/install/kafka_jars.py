"""Apache Kafka's jars (the broker, KRaft, its tools) through Maven, from `infra/kafka/pom.xml`."""

from pipelines.local import cache
from pipelines.local.install import maven
from pipelines.local.install.tools import fresh_folder, is_finished, mark_finished, require_java
from pipelines.local.process import say


def set_up() -> None:
    home = cache.kafka_home()
    versions = cache.read_versions()
    require_java()
    if is_finished(home):
        say(f'Kafka {versions["KAFKA_VERSION"]} jars ready: {home / "libs"}')
        return
    say(
        f'Fetching Apache Kafka {versions["KAFKA_VERSION"]} '
        f'(kafka_{versions["KAFKA_SCALA_VERSION"]}) through Maven into {home}'
    )
    fresh_folder(home)
    maven.copy_dependencies(
        cache.REPO_ROOT / 'infra' / 'kafka' / 'pom.xml',
        home / 'libs',
        {
            'kafka.version': versions['KAFKA_VERSION'],
            'kafka.scala.version': versions['KAFKA_SCALA_VERSION'],
        },
    )
    mark_finished(home)
