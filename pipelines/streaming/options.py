"""The options of the streaming pipeline; `python -m pipelines.streaming --help` lists them."""

from typing import Optional

from apache_beam.options.pipeline_options import PipelineOptions

from connectors.kafka_config import default_brokers
from connectors.kafka_write import DEFAULT_MAX_RECORD_BYTES
from connectors.schema_registry import SchemaRegistryLookup, value_subject
from transforms.fraud import DEFAULT_SHARDS
from transforms.fraud_rules import FraudThresholds

_DEFAULTS = FraudThresholds()


class StreamingOptions(PipelineOptions):
    """Brokers, topics, reference data, fraud thresholds, windows and the archive."""

    @classmethod
    def _add_argparse_args(cls, parser):
        kafka = parser.add_argument_group('Kafka')
        kafka.add_argument(
            '--brokers', default=default_brokers(), help='Kafka brokers, host:port[,host:port...]'
        )
        kafka.add_argument('--orders_topic', default='orders', help='topic of order events')
        kafka.add_argument(
            '--alerts_topic', default='fraud.alerts', help='topic for fraud alerts (key: card_id)'
        )
        kafka.add_argument(
            '--metrics_topic',
            default='order.metrics',
            help='topic for windowed metrics (key: product_id)',
        )
        kafka.add_argument(
            '--dead_letter_topic',
            default='orders.dlq',
            help='topic for dead letters (key: the original key)',
        )
        kafka.add_argument(
            '--consumer_group',
            default='goldstream-streaming',
            help='consumer group: where the job resumes, where it commits',
        )
        kafka.add_argument(
            '--start_from',
            default='committed',
            help="committed (the group's offsets, else earliest), earliest, "
            'latest, or epoch millis',
        )
        kafka.add_argument(
            '--commit_offsets',
            choices=('durable', 'read'),
            default='durable',
            help="unbounded runs: 'durable' commits an offset once its "
            'record is archived and its alerts or dead letter are '
            'acknowledged by Kafka (nothing lost when the job is killed); '
            "'read' commits once the reading bundle is finalized "
            '(sooner; loses in-flight records on Prism when killed)',
        )
        kafka.add_argument(
            '--bounded',
            action='store_true',
            default=False,
            help='stop at the end offsets seen at start (tests, back-fills); default: unbounded',
        )
        kafka.add_argument(
            '--max_out_of_orderness_s',
            type=float,
            default=5.0,
            help='how far behind the largest event time the watermark stays',
        )
        kafka.add_argument(
            '--idle_partition_timeout_s',
            type=float,
            default=10.0,
            help='a partition quiet this long stops holding the watermark',
        )
        kafka.add_argument(
            '--max_read_time_s',
            type=float,
            default=0.25,
            help='a partition read ends its bundle after this long: shorter '
            'bundles bring alerts sooner, longer ones cost less per record',
        )
        kafka.add_argument(
            '--resume_delay_s',
            type=float,
            default=0.1,
            help='a partition with nothing to read is polled again after this',
        )
        kafka.add_argument(
            '--output_format',
            choices=('json', 'avro'),
            default='json',
            help='value format of the output topics: JSON (UTF-8) or Avro in '
            'the Confluent wire format',
        )
        kafka.add_argument(
            '--max_record_bytes',
            type=int,
            default=DEFAULT_MAX_RECORD_BYTES,
            help='largest record (key plus value) written to an output topic: '
            "under the topics' max.message.bytes (Kafka's default is "
            '1,048,588); a dead letter over it is written with its raw '
            'bytes cut to fit (the archive keeps them whole)',
        )

        schemas = parser.add_argument_group('Schemas')
        schemas.add_argument(
            '--schema_registry_url',
            default='',
            help='a Confluent-compatible Schema Registry, http(s)://host:port '
            '(several: comma-separated), whose ids the Avro orders '
            'carry; empty: the local catalogue, '
            'schemas/catalogue.json (docs/schemas.md)',
        )
        schemas.add_argument(
            '--schema_registry_subject',
            default='',
            help="the registry subject of the orders' schemas; empty: "
            '<orders_topic>-value, what Confluent serializers use',
        )

        reference = parser.add_argument_group('Reference data')
        reference.add_argument(
            '--reference_data',
            default='reference',
            help='folder with customers.(csv|jsonl) and products.(csv|jsonl)',
        )
        reference.add_argument(
            '--reference_refresh_s',
            type=float,
            default=0.0,
            help='unbounded runs re-read the reference data this often '
            '(PeriodicImpulse side input); 0 reads it once at start. '
            'Prism 2.77 stalls such pipelines (docs/runners.md), so the '
            'default is 0; use it on Flink or Dataflow',
        )

        fraud = parser.add_argument_group('Fraud rules')
        fraud.add_argument(
            '--small_amount',
            type=float,
            default=_DEFAULTS.small_amount,
            help='SMALL_THEN_LARGE: a first order under this amount',
        )
        fraud.add_argument(
            '--large_amount',
            type=float,
            default=_DEFAULTS.large_amount,
            help='SMALL_THEN_LARGE: then one over this amount',
        )
        fraud.add_argument(
            '--small_then_large_window_s',
            type=float,
            default=_DEFAULTS.small_then_large_window_s,
            help='SMALL_THEN_LARGE: within this many seconds',
        )
        fraud.add_argument(
            '--max_speed_kmh',
            type=float,
            default=_DEFAULTS.max_speed_kmh,
            help='IMPOSSIBLE_TRAVEL: speeds over this are impossible',
        )
        fraud.add_argument(
            '--min_distance_km',
            type=float,
            default=_DEFAULTS.min_distance_km,
            help='IMPOSSIBLE_TRAVEL: only distances over this count',
        )
        fraud.add_argument(
            '--velocity_count',
            type=int,
            default=_DEFAULTS.velocity_count,
            help='VELOCITY: this many orders or more on one card...',
        )
        fraud.add_argument(
            '--velocity_window_s',
            type=float,
            default=_DEFAULTS.velocity_window_s,
            help='VELOCITY: ...within this many seconds',
        )
        fraud.add_argument(
            '--card_idle_timeout_s',
            type=float,
            default=_DEFAULTS.idle_timeout_s,
            help="a card's state is cleared after this long without orders "
            '(24 h: IMPOSSIBLE_TRAVEL cannot fire on a longer gap)',
        )
        fraud.add_argument(
            '--fraud_out_of_orderness_s',
            type=float,
            default=300.0,
            help="how far behind its card's latest order (event time) an order "
            'may arrive and still be checked against every neighbour; '
            'each card keeps this much more history',
        )
        fraud.add_argument(
            '--fraud_shards',
            type=int,
            default=DEFAULT_SHARDS,
            help='state keys the cards are hashed into: one state read and '
            'write per shard and bundle instead of one per order',
        )

        windows = parser.add_argument_group('Windowed metrics')
        windows.add_argument(
            '--window_size_s',
            type=float,
            default=300.0,
            help='fixed event-time window per product (default 5 minutes)',
        )
        windows.add_argument(
            '--allowed_lateness_s',
            type=float,
            default=600.0,
            help='late orders within this count in LATE panes (10 minutes)',
        )
        windows.add_argument(
            '--early_firing_s',
            type=float,
            default=30.0,
            help='unbounded runs emit EARLY panes this often (processing time)',
        )

        archive = parser.add_argument_group('Archive')
        archive.add_argument(
            '--archive_path',
            default='archive',
            help='root of the Avro archive (dt=YYYY-MM-DD/hour=HH/...)',
        )
        archive.add_argument(
            '--archive_flush_s',
            type=float,
            default=10.0,
            help='unbounded runs write what arrived for each hour this often; '
            "offsets are committed once archived, so the group's "
            'committed offsets trail the reads by about this much',
        )

    def schema_lookup(self) -> Optional[SchemaRegistryLookup]:
        """Where the writer schemas of Avro orders come from: the registry of
        `--schema_registry_url`, or None for the local catalogue.

        Raises:
            ValueError: If the URL is not http(s).
        """
        if not self.schema_registry_url:
            return None
        subject = self.schema_registry_subject or value_subject(self.orders_topic)
        return SchemaRegistryLookup(self.schema_registry_url, {subject: 'order'})

    def fraud_thresholds(self) -> dict:
        """The CheckFraud keyword arguments these options give."""
        return {
            'small_amount': self.small_amount,
            'large_amount': self.large_amount,
            'small_then_large_window_s': self.small_then_large_window_s,
            'max_speed_kmh': self.max_speed_kmh,
            'min_distance_km': self.min_distance_km,
            'velocity_count': self.velocity_count,
            'velocity_window_s': self.velocity_window_s,
            'idle_timeout_s': self.card_idle_timeout_s,
        }
