"""`--help` of the pipeline modules lists their own options with their help strings."""

import pytest

from pipelines.daily_report import pipeline as daily_report
from pipelines.options_help import exit_code_of_run
from pipelines.streaming import pipeline as streaming


@pytest.mark.parametrize(
    'module, option',
    [
        (streaming, '--orders_topic'),
        (streaming, '--velocity_count'),
        (daily_report, '--date'),
        (daily_report, '--archive_path'),
        (daily_report, '--source'),
        (daily_report, '--kafka_margin_s'),
        (daily_report, '--brokers'),
    ],
)
def test_help_lists_the_pipeline_options(module, option, capsys):
    with pytest.raises(SystemExit) as stopped:
        module.pipeline_options(['--help'])
    assert stopped.value.code == 0
    assert option in capsys.readouterr().out


@pytest.mark.parametrize('module', [streaming, daily_report])
@pytest.mark.parametrize(
    'argv, message',
    [
        (
            ['--window-size-s=60'],
            'unknown option --window-size-s '
            '(options are spelled with underscores: --window_size_s)',
        ),
        (['--window_size=60'], 'unknown option --window_size (did you mean --window_size_s?)'),
        (['--no_such_thing', 'x'], 'unknown option --no_such_thing; see --help'),
    ],
)
def test_an_unknown_option_is_an_error_that_names_it(module, argv, message):
    with pytest.raises(ValueError) as raised:
        module.pipeline_options(['--date=2026-11-18', *argv] if module is daily_report else argv)
    assert message in str(raised.value)


def test_beam_and_runner_options_are_known():
    options = streaming.pipeline_options(
        [
            '--runner=FlinkRunner',
            '--flink_master=[local]',
            '--parallelism=1',
            '--finish_bundle_before_checkpointing=true',
            '--max_cache_memory_usage_mb=0',
            '--window_size_s=60',
            '--brokers=127.0.0.1:9092',
        ]
    )
    assert options.view_as(streaming.StreamingOptions).window_size_s == 60


def test_a_pipeline_command_exits_2_with_one_line_for_an_unknown_option(capsys):
    assert exit_code_of_run(streaming.run, ['--window-size-s=60']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: unknown option --window-size-s')
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    'module, command',
    [
        (streaming, 'python -m pipelines.streaming'),
        (daily_report, 'python -m pipelines.daily_report'),
    ],
)
def test_help_names_the_command_and_shows_defaults_and_verbose(module, command, capsys):
    with pytest.raises(SystemExit):
        module.pipeline_options(['--help'])
    out = ' '.join(capsys.readouterr().out.split())
    assert out.startswith(f'usage: {command} [options]')
    assert '--verbose show tracebacks' in out
    assert '(default: orders)' in out  # --orders_topic, whose help did not say it


def test_a_pipeline_command_exits_1_when_no_broker_answers(capsys):
    assert (
        exit_code_of_run(
            streaming.run,
            ['--brokers=127.0.0.1:1', '--bounded', '--reference_data=gs://bucket/ref'],
        )
        == 1
    )
    assert capsys.readouterr().err == (
        'error: no Kafka broker answered at 127.0.0.1:1; start one with ./run_local.sh broker '
        'start or pass --brokers\n'
    )


@pytest.mark.parametrize(
    'module, argv, message',
    [
        (
            streaming,
            ['--window_size_s=abc'],
            "error: argument --window_size_s: invalid float value: 'abc'; "
            'see --help for the options',
        ),
        (streaming, ['--runner'], 'error: argument --runner: expected one argument; see --help'),
        (
            daily_report,
            ['--date=2026-11-18', '--source=kfka'],
            "error: argument --source: invalid choice: 'kfka' "
            "(choose from 'archive', 'kafka'); see --help",
        ),
        (daily_report, ['--date=2026-13-01'], "error: --date must be YYYY-MM-DD, got '2026-13-01'"),
        (
            daily_report,
            ['--from=2026-11-20', '--to=2026-11-18'],
            'error: the range ends (2026-11-18) before it starts (2026-11-20): give --from on or '
            'before --to',
        ),
    ],
)
def test_a_bad_value_is_one_line_not_beams_usage_of_every_option(module, argv, message, capsys):
    assert exit_code_of_run(module.run, argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count('\n') == 1


def test_a_run_that_returns_its_results_is_exit_code_0(capsys):
    assert exit_code_of_run(lambda argv: ['a PipelineResult'], []) == 0
    assert capsys.readouterr().err == ''
