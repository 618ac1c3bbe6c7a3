"""`--help` of the pipeline modules lists their own options with their help strings."""
import pytest

from pipelines import daily_report, streaming


@pytest.mark.parametrize('module, option', [(streaming, '--orders_topic'),
                                            (streaming, '--velocity_count'),
                                            (daily_report, '--date'),
                                            (daily_report, '--archive_path'),
                                            (daily_report, '--source'),
                                            (daily_report, '--kafka_margin_s'),
                                            (daily_report, '--brokers')])
def test_help_lists_the_pipeline_options(module, option, capsys):
    with pytest.raises(SystemExit) as stopped:
        module.pipeline_options(['--help'])
    assert stopped.value.code == 0
    assert option in capsys.readouterr().out
