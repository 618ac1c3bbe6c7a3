"""What the pipeline commands check before building a pipeline: the input topic and the
reference data, each one error line with exit code 2."""

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from connectors.kafka_security import KafkaSecurity
from pipelines import preflight
from pipelines.command_line import UsageError
from pipelines.daily_report import pipeline as daily_report
from pipelines.options_help import exit_code_of_run
from pipelines.streaming import pipeline as streaming

LOCAL, DATAFLOW = PipelineOptions([]), PipelineOptions(['--runner=DataflowRunner'])


@pytest.fixture
def reference(tmp_path):
    (tmp_path / 'customers.csv').write_text('customer_id\n')
    (tmp_path / 'products.jsonl').write_text('')
    return tmp_path


@pytest.fixture
def topics(monkeypatch):
    """A cluster that has only `orders`; no broker is asked."""
    monkeypatch.setattr(
        preflight,
        'missing_topics',
        lambda brokers, wanted, security: [t for t in wanted if t != 'orders'],
    )


def test_a_missing_input_topic_names_itself_and_the_option(topics):
    preflight.check_input_topic(LOCAL, 'kafka:9092', 'orders', KafkaSecurity())
    with pytest.raises(UsageError) as raised:
        preflight.check_input_topic(LOCAL, 'kafka:9092', 'ordres', KafkaSecurity())
    assert str(raised.value) == (
        "topic 'ordres' does not exist on kafka:9092; check "
        '--orders_topic (python -m pipelines.generator writes to '
        'orders)'
    )


def test_on_dataflow_the_launcher_does_not_look(monkeypatch):
    monkeypatch.setattr(preflight, 'missing_topics', pytest.fail)
    preflight.check_input_topic(DATAFLOW, 'kafka:9092', 'ordres', KafkaSecurity())
    preflight.check_reference_data(DATAFLOW, '/nowhere')
    preflight.check_reference_data(LOCAL, 'gs://bucket/reference')


def test_reference_data_needs_both_tables(reference):
    preflight.check_reference_data(LOCAL, str(reference))
    (reference / 'products.jsonl').unlink()
    with pytest.raises(UsageError) as raised:
        preflight.check_reference_data(LOCAL, str(reference))
    assert str(raised.value).startswith(
        f'--reference_data {reference}: no products reference file: expected one of'
    )
    assert str(raised.value).endswith(
        '; python -m pipelines.generator writes both files (its --reference_data)'
    )


@pytest.mark.parametrize('argv', [['--bounded'], ['--date=2026-11-18', '--source=kafka']])
def test_the_commands_stop_before_building_a_pipeline(argv, topics, reference, monkeypatch, capsys):
    built = []
    for module in (streaming, daily_report):
        monkeypatch.setattr(module, 'check_kafka_at_launch', lambda options, brokers: None)
        monkeypatch.setattr(module, 'run_and_wait', lambda *args: built.append(args))
    run = daily_report.run if '--source=kafka' in argv else streaming.run
    assert (
        exit_code_of_run(run, [*argv, '--orders_topic=ordres', f'--reference_data={reference}'])
        == 2
    )
    assert capsys.readouterr().err.startswith("error: topic 'ordres' does not exist")
    assert exit_code_of_run(run, [*argv, f'--reference_data={reference / "nope"}']) == 2
    assert capsys.readouterr().err.startswith(f'error: --reference_data {reference / "nope"}')
    assert not built
