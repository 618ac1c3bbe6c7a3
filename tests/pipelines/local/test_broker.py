"""The broker's ports, folders and config, as the environment sets them (no broker runs here;
tests/integration/test_broker_scripts.py starts real ones)."""

import re

from pipelines.local import broker
from pipelines.local.secure_broker_files import SecureBrokerFiles


def test_ports_follow_the_plain_port_unless_set(tmp_path):
    env = {'GOLDSTREAM_KAFKA_PORT': '19092', 'GOLDSTREAM_STATE_DIR': str(tmp_path)}
    plain = broker.Broker.from_environment(environ=env)
    assert (plain.port, plain.controller_port, plain.bootstrap) == (19092, 19093, '127.0.0.1:19092')
    assert plain.state == tmp_path / 'kafka' and plain.start_deadline_s == 120
    assert plain.process.pid_file == tmp_path / 'kafka' / 'kafka.pid'
    assert plain.security() is None

    secure = broker.Broker.from_environment(secure=True, environ=env)
    assert (secure.port, secure.controller_port) == (19094, 19095)
    assert secure.state == tmp_path / 'kafka-secure'

    env.update(
        GOLDSTREAM_KAFKA_SECURE_PORT='29094',
        GOLDSTREAM_KAFKA_SECURE_CONTROLLER_PORT='29000',
        GOLDSTREAM_KAFKA_CONTROLLER_PORT='29001',
        GOLDSTREAM_KAFKA_START_DEADLINE_S='7',
    )
    assert broker.Broker.from_environment(environ=env).controller_port == 29001
    secure = broker.Broker.from_environment(secure=True, environ=env)
    assert (secure.port, secure.controller_port, secure.start_deadline_s) == (29094, 29000, 7)


def test_the_secured_config_has_its_ports_folders_and_passwords(tmp_path):
    secured = broker.Broker.from_environment(
        secure=True,
        environ={'GOLDSTREAM_KAFKA_PORT': '19092', 'GOLDSTREAM_STATE_DIR': str(tmp_path)},
    )
    files = SecureBrokerFiles(secured.state)
    files.secrets_dir.mkdir(parents=True)
    for name, secret in (
        ('store', 's3cret-store'),
        ('admin', 's3cret-admin'),
        ('goldstream', 'client'),
    ):
        files.password_file(name).write_text(secret + '\n')
    files.tls_dir.mkdir()
    for name in ('ca.pem', 'client.pem', 'client.key'):
        (files.tls_dir / name).write_text('not a real certificate\n')

    broker.write_config(secured)

    config = secured.config.read_text()
    assert 'listeners=SASL_SSL://127.0.0.1:19094,CONTROLLER://127.0.0.1:19095' in config
    assert f'log.dirs={secured.data_dir}' in config
    assert f'ssl.keystore.location={files.tls_dir}/broker.p12' in config
    assert 'ssl.keystore.password=s3cret-store' in config and 'password="s3cret-admin"' in config
    assert not re.search(r'@[A-Z_]+@', config)  # every placeholder filled
    assert secured.config.stat().st_mode & 0o777 == 0o600
    assert files.client_options()[3] == f'--sasl_password_file={files.password_file("goldstream")}'
    assert files.scram_format_arguments()[1] == 'SCRAM-SHA-512=[name=admin,password=s3cret-admin]'
    assert secured.security().to_arguments() == files.client_options()
