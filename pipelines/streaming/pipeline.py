"""The streaming pipeline: Kafka orders in; fraud alerts, metrics, dead letters and an archive out.

  python -m pipelines.streaming --runner=DirectRunner --reference_data=reference
  python -m pipelines.streaming --runner=FlinkRunner --flink_master=[local] --bounded

Unbounded by default (`--bounded` stops at the end offsets seen at start). The DirectRunner
and Prism use the Prism that `./run_local.sh setup` built; Flink the job server it assembled.
"""

import time
from typing import Any, Callable, Dict, NamedTuple, Optional

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.transforms.window import GlobalWindows

from connectors.avro_archive import WriteAvroArchive
from connectors.kafka_commit import CommitDurableOffsets
from connectors.kafka_config import KafkaConnection
from connectors.kafka_read import ReadFromKafka
from connectors.kafka_record import KafkaRecord
from connectors.kafka_write import (
    DEFAULT_MAX_RECORD_BYTES,
    REQUEST_OVERHEAD_BYTES,
    WriteToKafka,
)
from connectors.order_codec import OrderDecoder, decode_order
from connectors.schema_catalogue import SchemaLookup
from pipelines.kafka_security_options import (
    KafkaSecurityOptions,
    check_kafka_at_launch,
    kafka_security,
)
from pipelines.options_help import exit_code_of_run, exit_with_help_if_asked, reject_unknown_options
from pipelines.preflight import check_input_topic, check_reference_data
from pipelines.runner_setup import run_and_wait, with_local_runners
from pipelines.streaming import output_encoding
from pipelines.streaming.options import StreamingOptions
from schemas import load_schema
from transforms.dead_letter_fit import FitDeadLetter
from transforms.enrich import EnrichOrders
from transforms.fraud import CheckFraud
from transforms.order_ingest import IngestOrders
from transforms.records import DEAD_LETTER, VALID, Alert, MetricRow
from transforms.validation_rules import MIN_EVENT_TIME_MS, parse_event_time
from transforms.windowed_counts import CountPerWindow

MAX_FUTURE_MS = 24 * 3600 * 1000  # a timestamp at most 1 day in the future (schemas/order.v2.avsc)
ORDERS_DATASET = 'orders'
DEAD_LETTERS_DATASET = 'deadletters'


class StreamingOutputs(NamedTuple):
    """What `build` returns, for tests and for callers that add steps."""

    orders: beam.PCollection
    dead_letters: beam.PCollection
    alerts: beam.PCollection
    metrics: beam.PCollection
    archived_files: beam.PCollection


def order_event_time_ms(
    record: KafkaRecord, decode: Callable[[bytes], dict] = decode_order
) -> Optional[int]:
    """The event time of a raw order record: its `timestamp` field, if it can be trusted.

    None for a record that is not a readable order or whose timestamp is before 1970 or more
    than a day in the future (ValidateOrders rejects all of them): ReadFromKafka then stamps
    it with the current watermark, so a bad record never moves event time, and no element
    gets a negative timestamp, which Prism cannot hold (docs/poison_pills.md). `decode` reads
    the value (the project's catalogue by default; see `OrderEventTime`).
    """
    try:
        # A record without a value (a tombstone) fails here with TypeError, as any bad one.
        millis = parse_event_time(decode(record.value)['timestamp'])  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None
    if millis < MIN_EVENT_TIME_MS or millis > time.time() * 1000 + MAX_FUTURE_MS:
        return None
    return millis


class OrderEventTime:
    """`order_event_time_ms` for Avro orders whose schemas come from `catalogue` (a schema
    registry), with a decoder of its own made on first use. Picklable: ReadFromKafka's
    workers get the catalogue, not the decoder. DecodeEvents decodes such a record again,
    with its own decoder: only the project's catalogue shares one (`shared_order_decoder`)."""

    def __init__(self, catalogue: SchemaLookup):
        self._catalogue = catalogue
        self._decoder: Optional[OrderDecoder] = None

    def __getstate__(self) -> dict:
        return {'_catalogue': self._catalogue, '_decoder': None}

    def __call__(self, record: KafkaRecord) -> Optional[int]:
        if self._decoder is None:
            self._decoder = OrderDecoder(self._catalogue)
        return order_event_time_ms(record, self._decoder.decode)


def order_archive_record(order) -> dict:
    """An accepted Order as the archive stores it: the v2 order fields."""
    fields = order._asdict()
    fields.pop('event_time_ms')
    timestamp = fields['timestamp']
    is_millis = timestamp.removeprefix('-').isdigit()  # epoch millis stay a number
    fields['timestamp'] = int(timestamp) if is_millis else timestamp
    return fields


def event_time_of(order) -> int:
    return order.event_time_ms


def build(pipeline: beam.Pipeline, options: PipelineOptions) -> StreamingOutputs:
    """Adds the streaming pipeline's steps to `pipeline`; returns its outputs."""
    opts = options.view_as(StreamingOptions)
    servers = opts.brokers
    security = kafka_security(options)
    start_from = int(opts.start_from) if opts.start_from.isdigit() else opts.start_from
    durable = not opts.bounded and opts.commit_offsets == 'durable'
    catalogue = opts.schema_lookup()  # None: the local catalogue
    records = pipeline | 'ReadOrders' >> ReadFromKafka(
        servers,
        [opts.orders_topic],
        group_id=opts.consumer_group,
        start_from=start_from,
        stop_at='end' if opts.bounded else None,
        commit_offsets=None if not durable else False,
        commit_start=durable,
        event_time_ms=order_event_time_ms if catalogue is None else OrderEventTime(catalogue),
        max_out_of_orderness_s=opts.max_out_of_orderness_s,
        idle_timeout_s=opts.idle_partition_timeout_s,
        max_read_time_s=opts.max_read_time_s,
        resume_delay_s=opts.resume_delay_s,
        poll_timeout_ms=100,
        security=security,
        replay_s=replay_seconds(opts) if durable else 0.0,
    )
    if durable:
        # Replayed records (read again after a restart, before the committed offsets) only
        # rebuild the cards' histories: their other outputs were durable before the crash.
        def replayed_or_not(record, unused_count) -> int:
            return int(record.replayed)

        split = beam.Partition(replayed_or_not, 2)  # type: ignore[arg-type]  # Beam wraps it
        records, replayed = records | 'SplitReplayed' >> split
    ingested = records | 'IngestOrders' >> IngestOrders(catalogue)
    orders, dead_letters = ingested[VALID], ingested[DEAD_LETTER]
    to_check = orders
    if durable:
        replayed_orders = (replayed | 'IngestReplayed' >> IngestOrders(catalogue))[VALID]
        # Two inputs, not one flattened: CheckFraud merges them right before its state step,
        # so that Prism does not run the flatten as a stage of its own (docs/runners.md).
        to_check = (
            orders,
            replayed_orders
            | 'ForgetOrigin' >> beam.Map(lambda order: order._replace(source_topic=None)),
        )

    refresh_s = None if opts.bounded or not opts.reference_refresh_s else opts.reference_refresh_s
    enriched = orders | 'EnrichOrders' >> EnrichOrders(
        opts.reference_data, refresh_interval_s=refresh_s
    )
    checked = to_check | 'CheckFraud' >> CheckFraud(
        max_out_of_orderness_s=opts.fraud_out_of_orderness_s,
        shards=opts.fraud_shards,
        acknowledge=durable,
        **opts.fraud_thresholds(),
    )
    alerts = (
        (checked | 'OnlyAlerts' >> beam.Filter(lambda item: isinstance(item, Alert)))
        if durable
        else checked
    )
    metrics = (
        enriched
        | 'CountPerWindow'
        >> CountPerWindow(
            size_s=opts.window_size_s,
            allowed_lateness_s=0.0 if opts.bounded else opts.allowed_lateness_s,
            early_firing_s=None if opts.bounded else opts.early_firing_s,
        )
        | 'ToMetricRows' >> beam.Map(MetricRow.from_window_count)
    )

    archived_orders = orders | 'ArchiveOrders' >> WriteAvroArchive(
        opts.archive_path,
        load_schema('order.v2.avsc'),
        event_time_of,
        prefix=ORDERS_DATASET,
        flush_interval_s=opts.archive_flush_s,
        to_mapping=order_archive_record,
        origin_of=order_origin if durable else None,
    )
    archived_dead_letters = dead_letters | 'ArchiveDeadLetters' >> WriteAvroArchive(
        opts.archive_path,
        load_schema('dead_letter.v2.avsc'),
        prefix=DEAD_LETTERS_DATASET,
        flush_interval_s=opts.archive_flush_s,
        origin_of=dead_letter_origin if durable else None,
    )
    archived = (archived_orders, archived_dead_letters) | 'ArchivedFiles' >> beam.Flatten()

    fmt = opts.output_format
    sized = sink_size_settings(opts.max_record_bytes)
    delivered_alerts = checked | 'WriteAlerts' >> WriteToKafka(
        servers,
        opts.alerts_topic,
        output_encoding.value_encoder('alert', fmt),
        output_encoding.card_key,
        security=security,
        **sized,
    )
    _ = metrics | 'WriteMetrics' >> WriteToKafka(
        servers,
        opts.metrics_topic,
        output_encoding.value_encoder('metric', fmt),
        output_encoding.product_key,
        security=security,
        **sized,
    )
    dead_letter_value = output_encoding.value_encoder('dead_letter', fmt)
    delivered_dead_letters = dead_letters | 'WriteDeadLetters' >> WriteToKafka(
        servers,
        opts.dead_letter_topic,
        dead_letter_value,
        output_encoding.original_key,
        fit_fn=FitDeadLetter(dead_letter_value),
        security=security,
        origin_of=dead_letter_origin if durable else None,
        **sized,
    )
    if durable:
        stored = (
            archived
            | 'StoredOffsets' >> beam.FlatMap(lambda file: file.acknowledged)
            | 'StoredUntriggered' >> beam.WindowInto(GlobalWindows())
        )
        _ = (
            stored,
            delivered_alerts,
            delivered_dead_letters,
        ) | 'CommitDurableOffsets' >> CommitDurableOffsets(
            KafkaConnection.of(servers, security=security), opts.consumer_group
        )
    return StreamingOutputs(orders, dead_letters, alerts, metrics, archived)


def replay_seconds(opts: StreamingOptions) -> float:
    """How much a restarted job reads again before its committed offsets: what CheckFraud's
    rules look back (SMALL_THEN_LARGE and VELOCITY windows) and the orders' out-of-orderness,
    so a card's recent history is rebuilt (docs/delivery.md: IMPOSSIBLE_TRAVEL's longer
    look-back is not)."""
    thresholds = opts.fraud_thresholds()
    return (
        max(thresholds['small_then_large_window_s'], thresholds['velocity_window_s'])
        + opts.fraud_out_of_orderness_s
    )


def order_origin(order) -> tuple:
    return order.source


def dead_letter_origin(dead_letter) -> tuple:
    return dead_letter.topic, dead_letter.partition, dead_letter.offset


def sink_size_settings(max_record_bytes: int) -> dict:
    """WriteToKafka settings for records of up to `max_record_bytes`: a limit above the
    producer's default request size raises that too."""
    settings: Dict[str, Any] = {'max_record_bytes': max_record_bytes}
    if max_record_bytes > DEFAULT_MAX_RECORD_BYTES:
        settings['client_options'] = {'max_request_size': max_record_bytes + REQUEST_OVERHEAD_BYTES}
    return settings


def pipeline_options(argv=None) -> PipelineOptions:
    """Parses the command line; unbounded runs are streaming; local runners need no download."""
    exit_with_help_if_asked(
        argv, __doc__, StreamingOptions, KafkaSecurityOptions, prog='python -m pipelines.streaming'
    )
    reject_unknown_options(argv)
    options = PipelineOptions(argv)
    opts = options.view_as(StreamingOptions)
    options.view_as(StandardOptions).streaming = not opts.bounded
    return with_local_runners(options)


def run(argv=None) -> beam.runners.runner.PipelineResult:
    """Builds and runs the pipeline; waits for it to finish (unbounded: until cancelled).

    Raises:
        KafkaAccessError: the brokers cannot be used with the security options (checked
            before the job starts, except on Dataflow).
        SchemaRegistryUnavailableError: `--schema_registry_url` does not answer (checked
            likewise).
        ValueError: an option is wrong, the reference data is missing or `--orders_topic`
            does not exist (pipelines/preflight.py).
    """
    options = pipeline_options(argv)
    opts = options.view_as(StreamingOptions)
    check_kafka_at_launch(options, opts.brokers)
    check_input_topic(options, opts.brokers, opts.orders_topic, kafka_security(options))
    check_reference_data(options, opts.reference_data)
    check_registry_at_launch(options)
    return run_and_wait(options, build)


def check_registry_at_launch(options: PipelineOptions) -> None:
    """Fails before the job starts when the schema registry of the options does not answer.

    Skipped without `--schema_registry_url`, and on Dataflow, whose workers reach the
    registry from their own network, as for Kafka (`check_kafka_at_launch`).
    """
    lookup = options.view_as(StreamingOptions).schema_lookup()
    runner = options.view_as(StandardOptions).runner or ''
    if lookup is not None and 'dataflow' not in runner.lower():
        lookup.check_reachable()


def main(argv=None) -> int:
    """The command line (pipelines/command_line.py): a wrong option, missing reference data,
    a topic that does not exist or a Kafka that refuses these settings (a wrong password, CA
    or port) is one `error:` line on stderr and exit code 2; no broker or schema registry
    answering is one line and exit code 1; not a traceback."""
    return exit_code_of_run(run, argv)
