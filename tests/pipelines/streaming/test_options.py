"""The streaming pipeline's schema options: the local catalogue by default, or a Confluent-
compatible Schema Registry whose subject follows the orders topic."""

import socket

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.options_help import exit_code_of_run
from pipelines.streaming.options import StreamingOptions
from pipelines.streaming.pipeline import check_registry_at_launch
from tests.connectors.registry_stand_in import RegistryStandIn


def streaming_options(*argv: str) -> StreamingOptions:
    return PipelineOptions(list(argv)).view_as(StreamingOptions)


def test_without_a_registry_url_the_local_catalogue_is_used():
    assert streaming_options().schema_lookup() is None


@pytest.mark.parametrize(
    'argv, subject',
    [
        ([], 'orders-value'),
        (['--orders_topic=shop.orders'], 'shop.orders-value'),
        (['--orders_topic=shop.orders', '--schema_registry_subject=shop.Order'], 'shop.Order'),
    ],
)
def test_the_registry_is_asked_for_the_subject_of_the_orders_topic(argv, subject):
    answer = (200, {'subject': subject, 'version': 3, 'id': 41, 'schema': '"string"'})
    with RegistryStandIn({('GET', f'/subjects/{subject}/versions/3'): answer}) as registry:
        lookup = streaming_options(f'--schema_registry_url={registry.url}', *argv).schema_lookup()
        assert lookup.id_for('order', 3) == 41
    assert lookup.url == registry.url


def test_a_registry_url_that_is_not_http_is_refused_when_the_pipeline_is_built():
    with pytest.raises(ValueError, match='must be http'):
        streaming_options('--schema_registry_url=registry:8081').schema_lookup()


def test_a_registry_that_does_not_answer_stops_the_launch_in_one_error_line(capsys):
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        url = f'http://127.0.0.1:{probe.getsockname()[1]}'  # nothing listens once closed

    def run(argv):
        check_registry_at_launch(PipelineOptions(argv))

    # the environment, not the command line: start the registry
    assert exit_code_of_run(run, [f'--schema_registry_url={url}']) == 1
    error = capsys.readouterr().err
    assert error.startswith(f'error: the schema registry at {url} did not answer')
    assert error.count('\n') == 1


def test_the_launch_check_asks_nothing_without_a_registry_or_on_dataflow():
    check_registry_at_launch(PipelineOptions([]))
    check_registry_at_launch(
        PipelineOptions(['--runner=DataflowRunner', '--schema_registry_url=http://127.0.0.1:1'])
    )


def test_the_launch_check_passes_when_the_registry_answers():
    with RegistryStandIn({('GET', '/schemas/types'): (200, ['AVRO'])}) as registry:
        check_registry_at_launch(PipelineOptions([f'--schema_registry_url={registry.url}']))
    assert registry.requests == [('GET', '/schemas/types')]
