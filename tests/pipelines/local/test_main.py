"""`python -m pipelines.local`'s command line: whole option names only."""

import pytest

from pipelines.local.__main__ import parse_arguments


def test_an_abbreviated_option_is_refused_not_guessed(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_arguments(['broker', 'status', '--sec'])
    assert stopped.value.code == 2
    assert 'unrecognized arguments: --sec' in capsys.readouterr().err


def test_the_whole_option_and_the_set_up_steps_parse():
    assert parse_arguments(['broker', 'start', '--secure']).secure is True
    assert parse_arguments(['setup', 'kafka', 'prism']).steps == ['kafka', 'prism']
    assert parse_arguments(['setup']).steps == []
