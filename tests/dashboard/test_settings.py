"""The dashboard's command line: defaults match the streaming pipeline's, wrong values exit
with a reason, and the security options are the shared ones."""
import pytest

from dashboard.settings import parse_settings


def test_defaults_watch_the_streaming_pipeline_topics_and_group():
    settings = parse_settings([])
    assert settings.topics() == {'order': 'orders', 'alert': 'fraud.alerts',
                                 'metric': 'order.metrics', 'dead_letter': 'orders.dlq'}
    assert (settings.group, settings.lag_warning, settings.port) == (
        'goldstream-streaming', 1000, 8050)
    assert settings.security.client_config() == {'security_protocol': 'PLAINTEXT'}


def test_security_options_reach_the_settings(monkeypatch):
    monkeypatch.setenv('DASH_PW', 'hunter2')
    settings = parse_settings(['--security-protocol=SASL_PLAINTEXT', '--sasl-mechanism=PLAIN',
                               '--sasl-username=u', '--sasl-password-env=DASH_PW'])
    assert settings.security.read_password() == 'hunter2'
    assert 'hunter2' not in repr(settings)


@pytest.mark.parametrize('argv, reason', [
    (['--port=70000'], 'is not a TCP port'),
    (['--lag-warning=-5'], 'must be >= 0'),
    (['--alerts-topic=bad topic'], 'not a valid Kafka topic name'),
    (['--refresh-s=0'], 'must be > 0'),
])
def test_a_wrong_value_exits_with_the_reason(argv, reason, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_settings(argv)
    assert exit_.value.code == 2
    assert reason in capsys.readouterr().err
