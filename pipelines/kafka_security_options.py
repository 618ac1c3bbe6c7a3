"""The Kafka security options of the pipelines, as Beam PipelineOptions.

`KafkaSecurityOptions` is the shared definition of `connectors/kafka_security.py`
(`--security_protocol`, `--sasl_mechanism`, `--sasl_username`, `--sasl_password_env`,
`--sasl_password_file`, `--ssl_cafile`, `--ssl_certfile`, `--ssl_keyfile`, each defaulting
to its `GOLDSTREAM_KAFKA_*` environment variable) in one PipelineOptions class, which the
streaming pipeline and the daily report both read with `view_as` (Beam parses every options
class over every command line, so the options exist once). The options hold the password's
variable name or file path, never the password: Beam logs, pickles and sends pipeline
options to the runner. See docs/security.md.
"""

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from connectors.kafka_access_check import check_kafka_access
from connectors.kafka_security import KafkaSecurity, add_arguments, from_arguments


class KafkaSecurityOptions(PipelineOptions):
    """How the pipeline's Kafka clients authenticate and encrypt."""

    @classmethod
    def _add_argparse_args(cls, parser):
        add_arguments(parser)


def kafka_security(options: PipelineOptions) -> KafkaSecurity:
    """The security settings the options give (the password stays where they name it).

    Raises:
      ValueError: settings that do not fit together, or a password variable that is not set
        or a file that cannot be read (checked once here, read again on the workers).
    """
    return from_arguments(options.view_as(KafkaSecurityOptions))


def check_kafka_at_launch(options: PipelineOptions, brokers: str) -> None:
    """Fails before the job starts when the brokers cannot be used with these settings.

    Skipped on Dataflow, whose workers reach Kafka from their own network, not the
    launcher's (docs/runners.md, "Dataflow").

    Raises:
      KafkaAccessError: one line naming what to check (connectors/kafka_access_check.py).
      ValueError: as `kafka_security`.
    """
    runner = options.view_as(StandardOptions).runner or ''
    if 'dataflow' in runner.lower():
        return
    check_kafka_access(brokers, kafka_security(options))
