"""The options of the daily report; `python -m pipelines.daily_report --help` lists them.

`DailyReportOptions` adds `--date` and `--reports_path`. The report shares the rest with the
streaming pipeline by composition: `--archive_path`, `--reference_data` and the fraud
thresholds (`--small_amount` ... `--card_idle_timeout_s`) are `StreamingOptions`' own, read
with `options.view_as(StreamingOptions)`, so one set of settings runs both pipelines alike
(Beam parses every options class over every command line: defining them twice would clash).
`report_settings` gathers what the report uses.
"""
import datetime
from typing import Any, Dict, NamedTuple

from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.streaming_options import StreamingOptions


class DailyReportOptions(PipelineOptions):
    """The day to report on and where to write the report (the rest: `StreamingOptions`)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        report = parser.add_argument_group('Daily report (also: --archive_path, '
                                           '--reference_data and the fraud thresholds)')
        # Not argparse-required: every PipelineOptions class parses every command line, so a
        # required flag here would break other pipelines; `report_day` checks it instead.
        report.add_argument('--date', default=None,
                            help='the UTC day to report on, YYYY-MM-DD (required)')
        report.add_argument('--reports_path', default='reports',
                            help='reports are written to <reports_path>/YYYY-MM-DD/ (any Beam '
                                 'filesystem: a local folder, gs://..., ...)')

    def report_day(self) -> datetime.date:
        """The `--date` option as a date.

        Raises:
            ValueError: If it is missing or not YYYY-MM-DD.
        """
        if not self.date:
            raise ValueError('--date is required: the UTC day to report on, YYYY-MM-DD')
        try:
            return datetime.date.fromisoformat(self.date)
        except (TypeError, ValueError):
            raise ValueError(f'--date must be YYYY-MM-DD, got {self.date!r}') from None


class ReportSettings(NamedTuple):
    """Everything the daily report reads from its options."""
    day: datetime.date
    archive_path: str
    reference_data: str
    reports_path: str
    fraud_thresholds: Dict[str, Any]


def report_settings(options: PipelineOptions) -> ReportSettings:
    """The daily report's settings from parsed options.

    Raises:
        ValueError: If `--date` is missing or not YYYY-MM-DD.
    """
    report = options.view_as(DailyReportOptions)
    shared = options.view_as(StreamingOptions)
    return ReportSettings(report.report_day(), shared.archive_path, shared.reference_data,
                          report.reports_path, shared.fraud_thresholds())
