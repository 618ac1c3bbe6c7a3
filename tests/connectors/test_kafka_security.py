"""KafkaSecurity: the settings are checked when built, parsed from options and the
environment, turned into kafka-python arguments, and the password is never shown, never
pickled and never passed on."""

import argparse
import contextlib
import io
import pickle

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from connectors.kafka_security import KafkaSecurity, add_arguments, from_arguments

SECRET = 's3cr3t-Pa55'


def parse(argv, environ=None) -> KafkaSecurity:
    parser = argparse.ArgumentParser()
    add_arguments(parser, environ or {})
    return from_arguments(parser.parse_args(argv), environ or {})


def test_plaintext_by_default_gives_only_the_protocol():
    assert parse([]).client_config() == {'security_protocol': 'PLAINTEXT'}


def test_sasl_ssl_with_scram_and_a_password_from_the_environment(tmp_path, monkeypatch):
    ca = tmp_path / 'ca.pem'
    ca.write_text('-----BEGIN CERTIFICATE-----\n')
    monkeypatch.setenv('KAFKA_PW', SECRET)
    security = parse(
        [
            '--security_protocol=SASL_SSL',
            '--sasl_mechanism=SCRAM-SHA-512',
            '--sasl_username=goldstream',
            '--sasl_password_env=KAFKA_PW',
            f'--ssl_cafile={ca}',
        ],
        {'KAFKA_PW': SECRET},
    )
    assert security.client_config() == {
        'security_protocol': 'SASL_SSL',
        'sasl_mechanism': 'SCRAM-SHA-512',
        'sasl_plain_username': 'goldstream',
        'sasl_plain_password': SECRET,
        'ssl_cafile': str(ca),
    }


def test_every_option_defaults_to_its_environment_variable(tmp_path):
    password_file = tmp_path / 'password'
    password_file.write_text(SECRET + '\nignored second line\n')
    environ = {
        'GOLDSTREAM_KAFKA_SECURITY_PROTOCOL': 'SASL_PLAINTEXT',
        'GOLDSTREAM_KAFKA_SASL_MECHANISM': 'PLAIN',
        'GOLDSTREAM_KAFKA_SASL_USERNAME': 'alice',
        'GOLDSTREAM_KAFKA_SASL_PASSWORD_FILE': str(password_file),
    }
    security = parse([], environ)
    assert (
        security.security_protocol,
        security.sasl_mechanism,
        security.username,
        security.read_password(),
    ) == ('SASL_PLAINTEXT', 'PLAIN', 'alice', SECRET)
    assert parse(['--sasl_username=bob'], environ).username == 'bob'  # the command line wins


def test_the_arguments_are_accepted_by_every_kafka_python_client():
    config = KafkaSecurity('SASL_PLAINTEXT', 'SCRAM-SHA-256', 'u', SECRET).client_config()
    for client in (KafkaConsumer, KafkaProducer, KafkaAdminClient):
        assert set(config) <= set(client.DEFAULT_CONFIG), client


def test_repr_and_str_never_show_the_password():
    security = KafkaSecurity('SASL_PLAINTEXT', 'PLAIN', 'alice', SECRET)
    for shown in (repr(security), str(security), f'{security}', repr([security])):
        assert SECRET not in shown
        assert "username='alice'" in shown and 'password=***' in shown


@pytest.mark.parametrize(
    'settings, complaint',
    [
        (dict(security_protocol='TLS'), 'is not one of'),
        (dict(security_protocol='SASL_SSL', username='u', password='p'), 'needs a SASL mechanism'),
        (
            dict(security_protocol='SASL_SSL', sasl_mechanism='GSSAPI', username='u', password='p'),
            'needs a SASL mechanism',
        ),
        (
            dict(security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN', password='p'),
            'needs a SASL user name',
        ),
        (
            dict(security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN', username='u'),
            'needs a SASL password',
        ),
        (dict(sasl_mechanism='PLAIN'), 'use SASL_PLAINTEXT or SASL_SSL'),
        (dict(ssl_cafile='/etc/hostname'), 'use SSL or SASL_SSL'),
        (dict(security_protocol='SSL', ssl_keyfile='/etc/hostname'), 'without its certificate'),
        (dict(security_protocol='SSL', ssl_cafile='/no/such/ca.pem'), 'does not exist'),
    ],
)
def test_wrong_settings_fail_when_built_saying_what_to_fix(settings, complaint):
    with pytest.raises(ValueError, match=complaint):
        KafkaSecurity(**settings)


def test_a_missing_password_variable_or_file_is_named_and_the_password_never_shown(tmp_path):
    sasl = ['--security_protocol=SASL_PLAINTEXT', '--sasl_mechanism=PLAIN', '--sasl_username=u']
    with pytest.raises(ValueError, match='KAFKA_PW .*is not set'):
        parse([*sasl, '--sasl_password_env=KAFKA_PW'], {})
    with pytest.raises(ValueError, match='cannot read the SASL password file'):
        parse([*sasl, f'--sasl_password_file={tmp_path / "missing"}'])
    (tmp_path / 'empty').write_text('')
    with pytest.raises(ValueError, match='is empty'):
        parse([*sasl, f'--sasl_password_file={tmp_path / "empty"}'])
    (tmp_path / 'pw').write_text(SECRET)
    with pytest.raises(ValueError, match='not both') as both:
        parse(
            [*sasl, '--sasl_password_env=KAFKA_PW', f'--sasl_password_file={tmp_path / "pw"}'],
            {'KAFKA_PW': SECRET},
        )
    assert SECRET not in str(both.value)
    with pytest.raises(ValueError, match='security protocol is PLAINTEXT') as plain:
        parse(['--sasl_password_env=KAFKA_PW'], {'KAFKA_PW': SECRET})
    assert SECRET not in str(plain.value)


def test_options_keep_where_the_password_is_and_read_it_when_a_client_is_made(monkeypatch):
    monkeypatch.setenv('KAFKA_PW', SECRET)
    security = parse(
        [
            '--security_protocol=SASL_SSL',
            '--sasl_mechanism=SCRAM-SHA-512',
            '--sasl_username=u',
            '--sasl_password_env=KAFKA_PW',
        ],
        {'KAFKA_PW': SECRET},
    )
    assert security.password is None and security.password_env == 'KAFKA_PW'
    assert SECRET.encode() not in pickle.dumps(security)  # what a pipeline ships to workers
    monkeypatch.setenv('KAFKA_PW', 'rotated')
    assert security.client_config()['sasl_plain_password'] == 'rotated'
    monkeypatch.delenv('KAFKA_PW')
    with pytest.raises(ValueError, match='KAFKA_PW .*is not set'):
        security.client_config()


def test_the_dashed_spelling_is_not_an_option(capsys):
    with pytest.raises(SystemExit):
        parse(['--security-protocol=SASL_SSL'])
    assert '--security-protocol' in capsys.readouterr().err


def test_help_has_no_password_option_and_shows_no_password(monkeypatch):
    monkeypatch.setenv('KAFKA_PW', SECRET)
    parser = argparse.ArgumentParser()
    add_arguments(parser, {'GOLDSTREAM_KAFKA_SASL_PASSWORD_ENV': 'KAFKA_PW'})
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit):
        parser.parse_args(['--help'])
    assert '--sasl_password_env' in shown.getvalue() and SECRET not in shown.getvalue()
    assert not any(
        option.endswith(('password', 'password-'))
        for action in parser._actions
        for option in action.option_strings
    )


def test_describe_and_the_arguments_passed_on_name_the_source_not_the_password(tmp_path):
    (tmp_path / 'pw').write_text(SECRET)
    security = KafkaSecurity('SASL_SSL', 'SCRAM-SHA-512', 'u', password_file=str(tmp_path / 'pw'))
    assert (
        security.describe() == f'SASL_SSL, SCRAM-SHA-512 as u (password from the file '
        f'{tmp_path / "pw"})'
    )
    passed_on = security.to_arguments()
    assert parse(passed_on) == security and SECRET not in ' '.join(passed_on)
    with pytest.raises(ValueError, match='cannot be passed on') as literal:
        KafkaSecurity('SASL_SSL', 'PLAIN', 'u', SECRET).to_arguments()
    assert SECRET not in str(literal.value)
