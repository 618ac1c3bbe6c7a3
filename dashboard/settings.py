"""The dashboard's command line: what to watch, where to serve, how to reach Kafka.

  python -m dashboard --brokers 127.0.0.1:9092 --group goldstream-demo --port 8050

Topic names default to the streaming pipeline's; the security options are those of every
goldstream Kafka client (`connectors.kafka_security`). The options follow the rules of every
goldstream command (pipelines/command_line.py): underscores, defaults in `--help`, a wrong or
unknown option one `error:` line and exit code 2.
"""

import dataclasses
from typing import Dict, List, Optional

from connectors.kafka_config import checked_topics, default_brokers
from connectors.kafka_security import KafkaSecurity, add_arguments, from_arguments
from dashboard.record_kinds import ALERT, DEAD_LETTER, METRIC, ORDER
from pipelines.command_line import CommandParser


@dataclasses.dataclass(frozen=True)
class DashboardSettings:
    """What the dashboard watches and serves; checked when built.

    Attributes:
      brokers: `host:port[,host:port...]`.
      group: The streaming job's consumer group, whose lag is shown.
      orders_topic, alerts_topic, metrics_topic, dead_letter_topic: The pipeline's topics.
      host, port: Where the page is served (port 0: any free port).
      lag_warning: Total lag (records) over which the page warns.
      stall_s: Seconds of unmoving group offsets, while orders wait, before "not running".
      refresh_s: Seconds between reads of offsets (and retries when the broker is down).
      lookback_s: How far back the output topics are read at start, seconds.
      browse_limit: Default number of records the topic browser shows.
      security: How to connect to Kafka.

    Raises:
      ValueError: a topic name, port or duration that cannot be.
    """

    brokers: str = dataclasses.field(default_factory=default_brokers)
    group: str = 'goldstream-streaming'
    orders_topic: str = 'orders'
    alerts_topic: str = 'fraud.alerts'
    metrics_topic: str = 'order.metrics'
    dead_letter_topic: str = 'orders.dlq'
    host: str = '127.0.0.1'
    port: int = 8050
    lag_warning: int = 1000
    stall_s: float = 30.0
    refresh_s: float = 1.0
    lookback_s: float = 3600.0
    browse_limit: int = 20
    security: KafkaSecurity = dataclasses.field(default_factory=KafkaSecurity)

    def __post_init__(self) -> None:
        checked_topics(list(self.topics().values()))
        if not self.brokers.strip():
            raise ValueError('--brokers is empty: give host:port, e.g. 127.0.0.1:9092')
        if not 0 <= self.port < 65536:
            raise ValueError(f'--port {self.port} is not a TCP port (0 picks a free one)')
        if self.lag_warning < 0:
            raise ValueError(f'--lag_warning must be >= 0, got {self.lag_warning}')
        for name in ('stall_s', 'refresh_s'):
            if getattr(self, name) <= 0:
                raise ValueError(f'--{name} must be > 0')
        if self.lookback_s < 0:
            raise ValueError('--lookback_s must be >= 0')
        if not 1 <= self.browse_limit <= 1000:
            raise ValueError('--browse_limit must be between 1 and 1000')

    def topics(self) -> Dict[str, str]:
        """kind -> topic, for the four kinds."""
        return {
            ORDER: self.orders_topic,
            ALERT: self.alerts_topic,
            METRIC: self.metrics_topic,
            DEAD_LETTER: self.dead_letter_topic,
        }

    def output_topics(self) -> Dict[str, str]:
        """kind -> topic, for what the pipeline writes."""
        return {
            ALERT: self.alerts_topic,
            METRIC: self.metrics_topic,
            DEAD_LETTER: self.dead_letter_topic,
        }

    def kind_of(self, topic: str) -> Optional[str]:
        """The kind of one of the four topics; None for any other topic."""
        return next((kind for kind, name in self.topics().items() if name == topic), None)


def parser() -> CommandParser:
    """The command line of `python -m dashboard`."""
    defaults = DashboardSettings()
    result = CommandParser('python -m dashboard', __doc__)
    result.add_argument(
        '--brokers',
        default=defaults.brokers,
        help='Kafka bootstrap servers, host:port[,...] (default %(default)s)',
    )
    result.add_argument(
        '--group',
        default=defaults.group,
        help="the streaming job's consumer group (its --consumer_group), whose "
        'lag the page shows (default %(default)s)',
    )
    for kind, flag, default in (
        ('orders', '--orders_topic', defaults.orders_topic),
        ('alerts', '--alerts_topic', defaults.alerts_topic),
        ('metrics', '--metrics_topic', defaults.metrics_topic),
        ('dead letters', '--dead_letter_topic', defaults.dead_letter_topic),
    ):
        result.add_argument(flag, default=default, help=f'the {kind} topic (default %(default)s)')
    result.add_argument(
        '--host', default=defaults.host, help='address to serve the page on (default %(default)s)'
    )
    result.add_argument(
        '--port',
        type=int,
        default=defaults.port,
        help='port to serve the page on; 0 picks a free one (default %(default)s)',
    )
    result.add_argument(
        '--lag_warning',
        type=int,
        default=defaults.lag_warning,
        help='total lag in records over which the page warns (default %(default)s)',
    )
    result.add_argument(
        '--stall_s',
        type=float,
        default=defaults.stall_s,
        help='seconds of unmoving group offsets, while orders wait, before the '
        'page says the pipeline is not running (default %(default)s)',
    )
    result.add_argument(
        '--refresh_s',
        type=float,
        default=defaults.refresh_s,
        help='seconds between offset reads (default %(default)s)',
    )
    result.add_argument(
        '--lookback_s',
        type=float,
        default=defaults.lookback_s,
        help='how far back to read the output topics at start, seconds (default %(default)s)',
    )
    result.add_argument(
        '--browse_limit',
        type=int,
        default=defaults.browse_limit,
        help='records the topic browser shows by default (default %(default)s)',
    )
    add_arguments(result)
    return result


def parse_settings(argv: Optional[List[str]] = None) -> DashboardSettings:
    """Parses the command line; a wrong or unknown option exits 2 with one `error:` line."""
    command_line = parser()
    args = command_line.parse_args(argv)
    try:
        return DashboardSettings(
            brokers=args.brokers,
            group=args.group,
            orders_topic=args.orders_topic,
            alerts_topic=args.alerts_topic,
            metrics_topic=args.metrics_topic,
            dead_letter_topic=args.dead_letter_topic,
            host=args.host,
            port=args.port,
            lag_warning=args.lag_warning,
            stall_s=args.stall_s,
            refresh_s=args.refresh_s,
            lookback_s=args.lookback_s,
            browse_limit=args.browse_limit,
            security=from_arguments(args),
        )
    except ValueError as error:
        command_line.fail(str(error))
