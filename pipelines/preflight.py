"""What a pipeline command checks before it builds a pipeline, besides Kafka access
(pipelines/kafka_security_options.py) and the schema registry: that the topic it reads
exists and that the reference data is there. A runner would find out too, but only from a
worker, as an error buried in hundreds of lines of tracebacks (docs/errors.md).

Both are skipped where the launcher cannot see what the workers will: on Dataflow (its
workers reach Kafka from their own network) and for a remote `--reference_data`
(`gs://...`: building a pipeline must not need credentials).
"""

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from connectors.kafka_security import KafkaSecurity
from connectors.kafka_topics import missing_topics
from pipelines.command_line import UsageError
from transforms.reference_data import CUSTOMERS, PRODUCTS, ReferenceDataError, reference_file


def on_dataflow(options: PipelineOptions) -> bool:
    """Whether the options run the pipeline on Dataflow."""
    return 'dataflow' in (options.view_as(StandardOptions).runner or '').lower()


def check_input_topic(
    options: PipelineOptions, brokers: str, topic: str, security: KafkaSecurity
) -> None:
    """Fails when the topic the pipeline reads (`--orders_topic`) does not exist.

    Raises:
        UsageError: naming the topic, the brokers and the option to check.
    """
    if on_dataflow(options) or not missing_topics(brokers, [topic], security):
        return
    raise UsageError(
        f'topic {topic!r} does not exist on {brokers}; check --orders_topic '
        f'(python -m pipelines.generator writes to orders)'
    )


def check_reference_data(options: PipelineOptions, path: str) -> None:
    """Fails when a local `--reference_data` folder lacks the customers or products file.

    Raises:
        UsageError: naming the folder, the files looked for, and how to write them.
    """
    if on_dataflow(options) or '://' in path:
        return
    for table in (CUSTOMERS, PRODUCTS):
        try:
            reference_file(path, table)
        except ReferenceDataError as error:
            raise UsageError(
                f'--reference_data {path}: {error}; python -m pipelines.generator '
                f'writes both files (its --reference_data)'
            ) from None
