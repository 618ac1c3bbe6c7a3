"""The dashboard's command line: defaults match the streaming pipeline's, wrong values exit
with a reason, and the security options are the shared ones."""

import pytest

from dashboard.settings import parse_settings


def test_defaults_watch_the_streaming_pipeline_topics_and_group():
    settings = parse_settings([])
    assert settings.topics() == {
        'order': 'orders',
        'alert': 'fraud.alerts',
        'metric': 'order.metrics',
        'dead_letter': 'orders.dlq',
    }
    assert (settings.group, settings.lag_warning, settings.port) == (
        'goldstream-streaming',
        1000,
        8050,
    )
    assert settings.security.client_config() == {'security_protocol': 'PLAINTEXT'}


def test_security_options_reach_the_settings(monkeypatch):
    monkeypatch.setenv('DASH_PW', 'hunter2')
    settings = parse_settings(
        [
            '--security_protocol=SASL_PLAINTEXT',
            '--sasl_mechanism=PLAIN',
            '--sasl_username=u',
            '--sasl_password_env=DASH_PW',
        ]
    )
    assert settings.security.read_password() == 'hunter2'
    assert 'hunter2' not in repr(settings)


@pytest.mark.parametrize(
    'argv, reason',
    [
        (['--port=70000'], 'is not a TCP port'),
        (['--lag_warning=-5'], 'must be >= 0'),
        (['--alerts_topic=bad topic'], 'not a valid Kafka topic name'),
        (['--refresh_s=0'], 'must be > 0'),
    ],
)
def test_a_wrong_value_exits_with_the_reason(argv, reason, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_settings(argv)
    assert exit_.value.code == 2
    assert reason in capsys.readouterr().err


@pytest.mark.parametrize(
    'argv, message',
    [
        (
            ['--refresh-s=0.5'],
            'error: unknown option --refresh-s (options are spelled with '
            'underscores: --refresh_s); see --help for the options\n',
        ),
        (
            ['--refresh=0.5'],
            'error: unknown option --refresh (did you mean --refresh_s?); see '
            '--help for the options\n',
        ),
        (['--port=70000'], 'error: --port 70000 is not a TCP port (0 picks a free one)\n'),
    ],
)
def test_a_wrong_or_dashed_option_is_one_error_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_settings(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == message


def test_help_names_the_command_and_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        parse_settings(['--help'])
    out = ' '.join(capsys.readouterr().out.split())
    assert out.startswith('usage: python -m dashboard [options]')
    assert 'whose lag the page shows (default goldstream-streaming)' in out
    assert 'seconds between offset reads (default 1.0)' in out
    assert '(default PLAINTEXT)' in out and 'help message and exit (default' not in out
