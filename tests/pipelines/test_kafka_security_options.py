"""Every goldstream command takes the same Kafka security options, from one definition, and
neither --help, the pipeline options nor the pipeline sent to a runner carry the password."""

import argparse
import base64
import bz2
import zlib

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability import common_urns
from apache_beam.portability.api import beam_runner_api_pb2

from connectors.kafka_security import OPTION_NAMES
from dashboard.settings import parse_settings
from pipelines import demo
from pipelines.daily_report import pipeline as daily_report
from pipelines.generator import cli as generator
from pipelines.kafka_security_options import check_kafka_at_launch, kafka_security
from pipelines.streaming import pipeline as streaming

SECRET = 'Pa55-in-env-only'
SASL = [
    '--security_protocol=SASL_SSL',
    '--sasl_mechanism=SCRAM-SHA-512',
    '--sasl_username=goldstream',
    '--sasl_password_env=GOLDSTREAM_TEST_PW',
]


@pytest.fixture(autouse=True)
def password_in_the_environment(monkeypatch):
    monkeypatch.setenv('GOLDSTREAM_TEST_PW', SECRET)
    monkeypatch.setenv('GOLDSTREAM_KAFKA_SASL_PASSWORD_ENV', 'GOLDSTREAM_TEST_PW')


def help_of(command) -> None:
    """Runs a command with --help: a pipeline module (Beam options) or a plain command."""
    with pytest.raises(SystemExit) as stopped:
        command(['--help'])
    assert stopped.value.code == 0


@pytest.mark.parametrize(
    'command',
    [
        streaming.pipeline_options,
        daily_report.pipeline_options,
        generator.main,
        demo.parse_args,
        parse_settings,
    ],
    ids=['streaming', 'daily_report', 'generator', 'demo', 'dashboard'],
)
def test_every_command_lists_the_same_security_options_and_no_password(command, capsys):
    help_of(command)
    shown = capsys.readouterr().out
    for name in OPTION_NAMES:
        assert f'--{name}' in shown and f'--{name.replace("_", "-")}' not in shown, name
    assert SECRET not in shown


def test_the_pipeline_options_hold_where_the_password_is_never_the_password():
    options = PipelineOptions([*SASL, '--brokers=127.0.0.1:9094'])
    everything = repr(options.get_all_options()) + repr(options.display_data())
    assert 'GOLDSTREAM_TEST_PW' in everything and SECRET not in everything
    assert kafka_security(options).client_config()['sasl_plain_password'] == SECRET


def test_the_streaming_pipeline_a_runner_receives_carries_no_password():
    options = streaming.pipeline_options([*SASL, '--bounded', '--brokers=127.0.0.1:9094'])
    pipeline = beam.Pipeline(options=options)
    streaming.build(pipeline, options)
    proto = pipeline.to_runner_api()
    pickled = b''.join(pickled_dofns(proto))
    assert b'GOLDSTREAM_TEST_PW' in pickled  # the sources and sinks know where to look
    assert SECRET.encode() not in pickled + proto.SerializeToString()


def pickled_dofns(proto):
    """The raw pickles of the pipeline's DoFns (Beam compresses and base64-encodes them)."""
    for transform in proto.components.transforms.values():
        if transform.spec.urn == common_urns.primitives.PAR_DO.urn:
            payload = beam_runner_api_pb2.ParDoPayload.FromString(transform.spec.payload)
            compressed = base64.b64decode(payload.do_fn.payload)
            try:
                yield zlib.decompress(compressed)
            except zlib.error:
                yield bz2.decompress(compressed)


def test_a_password_variable_that_is_not_set_fails_at_launch_naming_it(monkeypatch):
    monkeypatch.delenv('GOLDSTREAM_TEST_PW')
    with pytest.raises(ValueError, match='GOLDSTREAM_TEST_PW .*is not set'):
        kafka_security(PipelineOptions(SASL))


def test_dataflow_launches_do_not_check_kafka_from_the_launcher():
    # Port 1: nothing listens; a local runner would fail here, Dataflow's workers connect.
    check_kafka_at_launch(PipelineOptions(['--runner=DataflowRunner', *SASL]), '127.0.0.1:1')


def test_the_generator_and_the_demo_share_the_definition():
    parsed = [generator.build_parser().parse_args(SASL), demo.parse_args(SASL)]
    for args in parsed:
        assert isinstance(args, argparse.Namespace)
        assert (args.security_protocol, args.sasl_password_env) == (
            'SASL_SSL',
            'GOLDSTREAM_TEST_PW',
        )
