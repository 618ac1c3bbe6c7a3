"""The suite's broker fixture under plain pytest: it starts the local broker when none answers
and stops only what it started; it fails with the way out when it cannot start one."""

import pathlib

import pytest

from connectors.kafka_topics import broker_answers, committed_offsets
from pipelines.local.process import is_alive
from tests.integration.local_scripts import free_port
from tests.integration.suite_broker import suite_broker


@pytest.fixture
def no_broker_env(monkeypatch, tmp_path):
    """The environment of a suite whose local broker (own ports and state) is not running."""
    monkeypatch.delenv('GOLDSTREAM_BROKERS', raising=False)
    monkeypatch.setenv('GOLDSTREAM_KAFKA_PORT', str(free_port()))
    monkeypatch.setenv('GOLDSTREAM_KAFKA_CONTROLLER_PORT', str(free_port()))
    monkeypatch.setenv('GOLDSTREAM_STATE_DIR', str(tmp_path / 'state'))
    return tmp_path / 'state' / 'kafka' / 'kafka.pid'


def test_starts_the_local_broker_when_none_answers_and_stops_it_after(no_broker_env):
    pid_file = no_broker_env
    with suite_broker() as bootstrap:
        assert broker_answers(bootstrap, 5.0)
        assert committed_offsets(bootstrap, 'a-group', 'a-topic') == {}  # groups work at once
        pid = int(pid_file.read_text())
        assert is_alive(pid)
        with suite_broker() as again:  # a second user finds it answering and leaves it be
            assert again == bootstrap
        assert is_alive(pid)
    assert not pathlib.Path(f'/proc/{pid}').exists()
    assert not pid_file.exists()


def test_without_the_tools_it_fails_and_names_the_set_up(no_broker_env, monkeypatch, tmp_path):
    monkeypatch.setenv('GOLDSTREAM_CACHE', str(tmp_path / 'empty-cache'))
    with pytest.raises(pytest.fail.Exception, match=r'run \./run_local\.sh setup'), suite_broker():
        pass
    assert not no_broker_env.exists()


def test_a_remote_broker_that_does_not_answer_is_not_replaced(no_broker_env, monkeypatch):
    monkeypatch.setenv('GOLDSTREAM_BROKERS', f'127.0.0.1:{free_port()}')
    with pytest.raises(pytest.fail.Exception, match='GOLDSTREAM_BROKERS'), suite_broker():
        pass
    assert not no_broker_env.exists()
