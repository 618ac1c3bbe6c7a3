"""The demo's command line follows the shared rules (pipelines/command_line.py)."""

import pytest

from pipelines import demo


@pytest.mark.parametrize(
    'argv, message, code',
    [
        (
            ['--work-dir=x'],
            'error: unknown option --work-dir (did you mean --workdir?); see --help '
            'for the options\n',
            2,
        ),
        (
            ['--security-protocol=SSL'],
            'error: unknown option --security-protocol (options are '
            'spelled with underscores: --security_protocol); see --help '
            'for the options\n',
            2,
        ),
        (
            ['--count=many'],
            "error: argument --count: invalid int value: 'many'; see python -m "
            'pipelines.demo --help\n',
            2,
        ),
        (
            ['--brokers=127.0.0.1:1'],
            'error: no Kafka broker answered at 127.0.0.1:1; start one '
            'with ./run_local.sh broker start or pass --brokers\n',
            1,
        ),
    ],
)
def test_a_wrong_command_line_or_no_broker_is_one_line_and_its_exit_code(
    argv, message, code, capsys
):
    try:
        status = demo.main(argv)
    except SystemExit as stopped:
        status = stopped.code
    assert status == code
    assert capsys.readouterr().err == message


def test_help_names_the_command_and_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        demo.parse_args(['--help'])
    out = ' '.join(capsys.readouterr().out.split())
    assert out.startswith('usage: python -m pipelines.demo [options]')
    for shown in (
        '(recreated) (default: .local/demo)',
        '(default: PrismRunner)',
        '(default: 12000)',
        'same traffic (default: 7)',
    ):
        assert shown in out
