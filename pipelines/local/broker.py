"""The local one-node KRaft Kafka broker: `./run_local.sh broker start|stop|status [--secure]`.

The plain broker listens on 127.0.0.1:$GOLDSTREAM_KAFKA_PORT (default 9092; its controller on
$GOLDSTREAM_KAFKA_CONTROLLER_PORT, default port+1), with data, logs, config and pid file in
$GOLDSTREAM_STATE_DIR/kafka. The secured one (`--secure`) listens on
$GOLDSTREAM_KAFKA_SECURE_PORT (default the plain port+2; controller port+1) with SASL_SSL,
SCRAM-SHA-512 and client certificates, its state in $GOLDSTREAM_STATE_DIR/kafka-secure.
`start` returns when the broker answers a metadata request (the secured one as the client
user, which also proves the client set-up), within $GOLDSTREAM_KAFKA_START_DEADLINE_S
(default 120 s).
"""

import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys
from typing import List, Mapping, Optional

from connectors.kafka_security import KafkaSecurity
from connectors.kafka_topics import broker_answers
from pipelines.local import cache
from pipelines.local.process import LocalProcess, ProcessFailed, port_in_use, say
from pipelines.local.secure_broker_files import CLIENT_USER, SecureBrokerFiles

STOP_DEADLINE_S = 60.0
READY_CHECK_TIMEOUT_S = 2.0
LOG4J_CONFIG = cache.REPO_ROOT / 'infra' / 'kafka' / 'log4j2.properties'
TEMPLATES = cache.REPO_ROOT / 'infra' / 'kafka'
SETUP_HINT = 'Run ./run_local.sh setup first (it fetches the Kafka jars through Maven).'


@dataclasses.dataclass(frozen=True)
class Broker:
    """One local broker's ports and folders, as the environment sets them."""

    port: int
    controller_port: int
    state: pathlib.Path
    secure: bool
    start_deadline_s: float

    @classmethod
    def from_environment(
        cls, secure: bool = False, environ: Optional[Mapping[str, str]] = None
    ) -> 'Broker':
        env = os.environ if environ is None else environ
        port = int(env.get('GOLDSTREAM_KAFKA_PORT') or 9092)
        controller = int(env.get('GOLDSTREAM_KAFKA_CONTROLLER_PORT') or port + 1)
        if secure:
            port = int(env.get('GOLDSTREAM_KAFKA_SECURE_PORT') or port + 2)
            controller = int(env.get('GOLDSTREAM_KAFKA_SECURE_CONTROLLER_PORT') or port + 1)
        state = cache.state_dir(env) / ('kafka-secure' if secure else 'kafka')
        deadline = float(env.get('GOLDSTREAM_KAFKA_START_DEADLINE_S') or 120)
        return cls(port, controller, state, secure, deadline)

    @property
    def bootstrap(self) -> str:
        return f'127.0.0.1:{self.port}'

    @property
    def log_dir(self) -> pathlib.Path:
        return self.state / 'logs'

    @property
    def data_dir(self) -> pathlib.Path:
        return self.state / 'data'

    @property
    def config(self) -> pathlib.Path:
        return self.state / 'server.properties'

    @property
    def files(self) -> SecureBrokerFiles:
        return SecureBrokerFiles(self.state)

    @property
    def process(self) -> LocalProcess:
        return LocalProcess(
            'Kafka broker',
            self.state / 'kafka.pid',
            self.log_dir / 'server.out',
            ('kafka.Kafka', str(self.config)),
            other_logs=(self.log_dir / 'server.log',),
        )

    def security(self) -> Optional[KafkaSecurity]:
        """How a client reaches it: None for the plain broker."""
        if not self.secure:
            return None
        tls = self.files.tls_dir
        return KafkaSecurity(
            'SASL_SSL',
            'SCRAM-SHA-512',
            CLIENT_USER,
            ssl_cafile=str(tls / 'ca.pem'),
            ssl_certfile=str(tls / 'client.pem'),
            ssl_keyfile=str(tls / 'client.key'),
            password_file=str(self.files.password_file(CLIENT_USER)),
        )

    def answers(self, timeout_s: float = READY_CHECK_TIMEOUT_S) -> bool:
        """Whether a broker on its port answers a metadata request (as the client user)."""
        return broker_answers(self.bootstrap, timeout_s, self.security())


def _java_command(broker: Broker, main_class: str, *arguments: str) -> List[str]:
    return [
        'java',
        f'-Dlog4j2.configurationFile={LOG4J_CONFIG}',
        f'-Dkafka.logs.dir={broker.log_dir}',
        '-cp',
        f'{cache.kafka_home() / "libs"}/*',
        main_class,
        *arguments,
    ]


def _check_tools() -> None:
    if shutil.which('java') is None:
        raise ProcessFailed(
            "'java' was not found on PATH.",
            [
                (
                    'Install a Java 17+ JDK (e.g. Debian: apt-get install '
                    'openjdk-17-jdk-headless) and run this again.'
                )
            ],
        )
    if not cache.is_complete(cache.kafka_home()):
        raise ProcessFailed(f'the Kafka jars are not in {cache.kafka_home()}.', [SETUP_HINT])


def _check_ports(broker: Broker) -> None:
    variable, example = (
        ('GOLDSTREAM_KAFKA_SECURE_PORT', 19094)
        if broker.secure
        else ('GOLDSTREAM_KAFKA_PORT', 19092)
    )
    for port in (broker.port, broker.controller_port):
        if port_in_use(port):
            raise ProcessFailed(
                f'port {port} on 127.0.0.1 is already taken by another process.',
                [
                    (
                        f'Pick free ports: {variable}={example} ./run_local.sh ... (the controller '
                        'uses port+1,'
                    ),
                    (
                        f'or set {variable.replace("_PORT", "_CONTROLLER_PORT")}); '
                        f"'ss -ltnp' shows who holds {port}."
                    ),
                ],
            )


def write_config(broker: Broker) -> None:
    """server.properties from infra/kafka's templates (readable by this user only)."""
    broker.log_dir.mkdir(parents=True, exist_ok=True)
    broker.data_dir.mkdir(parents=True, exist_ok=True)
    text = (TEMPLATES / 'server.properties.template').read_text()
    values = {
        '@PORT@': str(broker.port),
        '@CONTROLLER_PORT@': str(broker.controller_port),
        '@DATA_DIR@': str(broker.data_dir),
    }
    if broker.secure:
        text += (TEMPLATES / 'secure.properties.template').read_text()
        values.update(
            {
                '@TLS_DIR@': str(broker.files.tls_dir),
                '@STORE_PASSWORD@': broker.files.password('store'),
                '@ADMIN_PASSWORD@': broker.files.password('admin'),
            }
        )
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    broker.config.touch(mode=0o600)
    broker.config.chmod(0o600)
    broker.config.write_text(text)


def format_storage_once(broker: Broker) -> None:
    """Formats the KRaft storage on the first start (a later start finds meta.properties)."""
    if (broker.data_dir / 'meta.properties').is_file():
        return
    say(f'Formatting Kafka storage in {broker.data_dir} (first start)')
    cluster_id = subprocess.run(
        [
            'java',
            '-cp',
            f'{cache.kafka_home() / "libs"}/*',
            'kafka.tools.StorageTool',
            'random-uuid',
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    users = broker.files.scram_format_arguments() if broker.secure else []
    formatted = subprocess.run(
        _java_command(
            broker,
            'kafka.tools.StorageTool',
            'format',
            '--cluster-id',
            cluster_id,
            '--config',
            str(broker.config),
            '--ignore-formatted',
            *users,
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if formatted.returncode != 0 or not cluster_id:
        raise ProcessFailed(
            f"Kafka's storage tool could not format {broker.data_dir}.",
            [f'Delete {broker.data_dir} and try again.'],
            log_tail=formatted.stderr,
        )


def start(broker: Broker) -> None:
    """Starts the broker unless this clone's runs; returns when it answers.

    Raises:
      ProcessFailed: tools missing, a port taken, or the broker died or did not answer in
        time (it is stopped then); the error tells what to do.
    """
    process = broker.process
    pid = process.pid()
    if pid is not None:
        say(f'Kafka broker already up (pid {pid}, {broker.bootstrap})')
        return
    _check_tools()
    _check_ports(broker)
    if broker.secure:
        broker.files.make_once(broker.data_dir, broker.log_dir)
    write_config(broker)
    format_storage_once(broker)
    version = cache.read_versions()['KAFKA_VERSION']
    say(f'Starting Kafka {version} on {broker.bootstrap} (logs: {broker.log_dir})')
    command = _java_command(broker, 'kafka.Kafka', str(broker.config))
    command[1:1] = ['-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-Djava.awt.headless=true']
    pid = process.start(command)
    try:
        took = process.wait_until_ready(
            pid, broker.answers, broker.start_deadline_s, 'answer a metadata request'
        )
    except ProcessFailed:
        process.stop(STOP_DEADLINE_S)
        raise
    say(f'Kafka broker up (pid {pid}, {broker.bootstrap}) after {took:.0f} s')


def stop(broker: Broker) -> None:
    """Stops the broker this clone started; says so when there is none."""
    if broker.process.stop(STOP_DEADLINE_S):
        say('Kafka broker stopped')
    else:
        say(f'Kafka broker is not running (nothing started from {broker.state})')


def status(broker: Broker) -> int:
    """Prints `up (...)` (and the secured broker's client options) and returns 0, or prints
    `down` and returns 3."""
    pid = broker.process.pid()
    if pid is None:
        print('down')
        return 3
    print(f'up (pid {pid}, {broker.bootstrap}, data {broker.data_dir}, logs {broker.log_dir})')
    if broker.secure:
        print(f'client options: {" ".join(broker.files.client_options())}')
    sys.stdout.flush()
    return 0
