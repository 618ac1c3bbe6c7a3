"""The options of the daily report; `python -m pipelines.daily_report --help` lists them.

`DailyReportOptions` adds `--date` (or a range, `--from` and `--to`), `--reports_path`,
`--source`, `--kafka_margin_s` and `--rates_file`. The
report shares the rest with the streaming pipeline by composition: `--archive_path`,
`--reference_data`, the fraud thresholds (`--small_amount` ... `--card_idle_timeout_s`) and,
for `--source=kafka`, `--brokers`, `--orders_topic`, `--allowed_lateness_s` and
`--max_out_of_orderness_s` are `StreamingOptions`' own, read with
`options.view_as(StreamingOptions)`, and the Kafka security options (`--security_protocol`,
`--sasl_username`, `--sasl_password_file`, ...) are `KafkaSecurityOptions`', so one set of
settings runs both pipelines alike (Beam parses every options class over every command line:
defining them twice would clash).
`report_settings` gathers what the report uses.
"""

import datetime
from typing import Any, Dict, List, NamedTuple, Optional

from apache_beam.options.pipeline_options import PipelineOptions

from connectors.kafka_security import KafkaSecurity
from pipelines.daily_report.days import days_between
from pipelines.kafka_security_options import kafka_security
from pipelines.streaming.options import StreamingOptions

SOURCE_ARCHIVE = 'archive'
"""`--source`: the streaming pipeline's Avro archive of the day (the default)."""
SOURCE_KAFKA = 'kafka'
"""`--source`: a bounded read of the orders topic over the day's range of Kafka timestamps."""
SOURCES = (SOURCE_ARCHIVE, SOURCE_KAFKA)


class DailyReportOptions(PipelineOptions):
    """The day to report on and where to write the report (the rest: `StreamingOptions`)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        report = parser.add_argument_group(
            'Daily report (also: --archive_path, '
            '--reference_data, the fraud thresholds, and for '
            '--source=kafka --brokers and --orders_topic)'
        )
        # Not argparse-required: every PipelineOptions class parses every command line, so a
        # required flag here would break other pipelines; `report_day` checks it instead.
        report.add_argument(
            '--date', default=None, help='the UTC day to report on, YYYY-MM-DD (required)'
        )
        report.add_argument(
            '--from',
            dest='from_date',
            default=None,
            help='with --to instead of --date: report every UTC day from this '
            'one (YYYY-MM-DD) to --to, both included, in order (so each '
            'day is compared with the one before)',
        )
        report.add_argument(
            '--to', dest='to_date', default=None, help='the last day of a --from range, YYYY-MM-DD'
        )
        report.add_argument(
            '--rates_file',
            default=None,
            help='a JSON file {"currency": "EUR", "rates": {"USD": 0.92, ...}} '
            '(1 USD = 0.92 EUR): every amount is converted into its '
            'currency; without it, amounts are reported per currency and '
            'never added up across currencies',
        )
        report.add_argument(
            '--reports_path',
            default='reports',
            help='reports are written to <reports_path>/YYYY-MM-DD/ (any Beam '
            'filesystem: a local folder, gs://..., ...)',
        )
        report.add_argument(
            '--source',
            choices=SOURCES,
            default=SOURCE_ARCHIVE,
            help='where the day is read from: archive (<archive_path>/dt=<date>, '
            'which the streaming pipeline writes) or kafka (a bounded read '
            'of --orders_topic on --brokers: the records whose Kafka '
            'timestamp is in the day, widened by --kafka_margin_s)',
        )
        report.add_argument(
            '--kafka_margin_s',
            type=float,
            default=None,
            help='--source=kafka: also read records up to this many seconds of '
            'Kafka time before and after the day, so orders whose record '
            'time and event time straddle midnight are counted in the day '
            'of their event time (default: --allowed_lateness_s + '
            '--max_out_of_orderness_s, the lateness the streaming '
            'pipeline still archives; 605 s)',
        )

    def report_day(self) -> datetime.date:
        """The `--date` option as a date.

        Raises:
            ValueError: If it is missing or not YYYY-MM-DD.
        """
        if not self.date:
            raise ValueError(
                '--date is required: the UTC day to report on, YYYY-MM-DD '
                '(or --from and --to for a range of days)'
            )
        return _parse_day('--date', self.date)

    def report_days(self) -> List[datetime.date]:
        """The days asked for: `--date` alone, or every day from `--from` to `--to`.

        Raises:
            ValueError: If neither or both ways are given, only one end of a range, a day is
                not YYYY-MM-DD, or the range ends before it starts.
        """
        ranged = self.from_date is not None or self.to_date is not None
        if ranged and self.date:
            raise ValueError('give either --date or --from and --to, not both')
        if not ranged:
            return [self.report_day()]
        if self.from_date is None or self.to_date is None:
            raise ValueError('a range needs both --from and --to (YYYY-MM-DD, both included)')
        return days_between(_parse_day('--from', self.from_date), _parse_day('--to', self.to_date))


def _parse_day(flag: str, text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f'{flag} must be YYYY-MM-DD, got {text!r}') from None


class KafkaSourceSettings(NamedTuple):
    """Where `--source=kafka` reads: the orders topic and the margin around the day, and how
    to connect (the password stays where the options name it)."""

    brokers: str
    topic: str
    margin_s: float
    security: KafkaSecurity = KafkaSecurity()


class ReportSettings(NamedTuple):
    """Everything the daily report reads from its options."""

    day: datetime.date
    archive_path: str
    reference_data: str
    reports_path: str
    fraud_thresholds: Dict[str, Any]
    source: str = SOURCE_ARCHIVE
    kafka: Optional[KafkaSourceSettings] = None  # only with --source=kafka
    rates_file: Optional[str] = None


def report_settings(options: PipelineOptions) -> ReportSettings:
    """The daily report's settings from parsed options.

    Raises:
        ValueError: If `--date` is missing or not YYYY-MM-DD, `--source` is unknown or
            `--kafka_margin_s` is negative.
    """
    report = options.view_as(DailyReportOptions)
    shared = options.view_as(StreamingOptions)
    if report.source not in SOURCES:
        raise ValueError(f'--source must be one of {", ".join(SOURCES)}, got {report.source!r}')
    kafka = None
    if report.source == SOURCE_KAFKA:
        margin_s = report.kafka_margin_s
        if margin_s is None:
            margin_s = shared.allowed_lateness_s + shared.max_out_of_orderness_s
        if not margin_s >= 0:
            raise ValueError(f'--kafka_margin_s must be 0 or more seconds, got {margin_s!r}')
        kafka = KafkaSourceSettings(
            shared.brokers, shared.orders_topic, float(margin_s), kafka_security(options)
        )
    return ReportSettings(
        report.report_day(),
        shared.archive_path,
        shared.reference_data,
        report.reports_path,
        shared.fraud_thresholds(),
        report.source,
        kafka,
        report.rates_file,
    )
