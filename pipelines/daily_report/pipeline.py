"""The daily report: one UTC day of orders in; JSON, CSV and HTML figures out.

  python -m pipelines.daily_report --date=2026-11-18 --archive_path=archive \\
      --reference_data=reference --reports_path=reports
  python -m pipelines.daily_report --date=2026-11-18 --source=kafka --brokers=127.0.0.1:9092 \\
      --orders_topic=orders --reference_data=reference --reports_path=reports
  python -m pipelines.daily_report --from=2026-11-10 --to=2026-11-18 --archive_path=archive \\
      --reference_data=reference --rates_file=rates.json

Two sources give the same figures:

* `--source=archive` (the default) reads `<archive_path>/dt=<date>/hour=*/orders-*.avro`
  (the order v2 fields) and `deadletters-*.avro` (`dead_letter.v2.avsc`, v1 in older
  files), which the streaming pipeline writes, and types the orders again with `validate_order`
  (`report_figures.ArchivedOrders`).
* `--source=kafka` reads `--orders_topic` on `--brokers`, bounded: each partition from the
  first offset whose Kafka timestamp is at or after the day's start less `--kafka_margin_s`,
  up to the first offset whose timestamp is at or after the day's end plus the margin (or
  the end offset when the read starts, if there is none yet); offsets are not committed.
  The records go through the streaming pipeline's `IngestOrders`, then
  `report_kafka_source.IngestKafkaDay` keeps the orders whose event time is in the day and
  the dead letters (malformed or invalid records) whose Kafka timestamp is in the day. The
  margin (default `--allowed_lateness_s` + `--max_out_of_orderness_s`, 605 s: the lateness
  the streaming pipeline still archives) lets an order produced after midnight with an event
  time before it count in its own day. Orders read only because of the margin, or whose
  event time is in another day, are not dead letters: they belong to another day's report
  (counted as `DailyReport/orders_of_other_days`, and `dead_letters_of_other_days` for
  malformed records). "At most one day in the future" is judged at the end of the day.

Over a topic and the archive an unbounded streaming run wrote from it, the two sources
differ where the stream was late or the job restarted: the Kafka source counts the orders
its margin reaches (the archive keeps late orders however late), places a dead letter near
midnight by its Kafka timestamp where the archive placed it by the event time of the stream
around it, and the archive may hold an order twice after a restart (docs/delivery.md).

Then both run the streaming pipeline's transforms: `EnrichOrders` (reference data read
once), `CheckFraud` (the same thresholds), and `CountPerWindow` with hour and day windows.
Only sources, sinks and windowing differ. A card's fraud history starts at the day's first
order (orders of the previous day are not used).

Output, in `<reports_path>/<date>/`: `report.json`, `summary.csv`, one CSV per table
(`<table>.csv`, columns as in the JSON rows) and `report.html` (self-contained, inline SVG).

`report.json` (format 2). Revenue is price x quantity + tax, summed exactly and rounded to
cents, and never across currencies: per currency, or, with `--rates_file`, of every amount
converted into the file's currency (`report_currency`); the tables with amounts then hold
that one currency. `<currency>` below is the order's currency, or the report currency::

    {
      "format": 2,
      "date": "2026-11-18",
      "empty": false,              # true: no order, alert or dead letter that day
      "notes": ["..."],            # sentences for people: an empty day, no previous report...
      "currency": null,            # the report currency of --rates_file, or null
      "made": {"at": "2026-11-19T02:00:41Z", "source": "archive /data/archive",
               "runner": "DirectRunner"},
      "summary": {"orders": 2940, "units": 8123, "unique_customers": 498,
                  "fraud_alerts": 9, "dead_letters": 60},
                                   # + "revenue", "average_order_value" with --rates_file
      "revenue_per_currency": [    # each currency of the day, its own amounts, by code
        {"currency": "EUR", "orders": 1056, "units": 2301, "revenue": 155740.94,
         "average_order_value": 147.48}],      # revenue / orders
      "revenue_per_hour": [        # 24 rows per <currency>, hour 0..23, zeros included
        {"currency": "EUR", "hour": 0, "start": "2026-11-18T00:00:00Z", "orders": 0,
         "units": 0, "revenue": 0.0}],         # (an empty day: 24 rows, currency null)
      "top_products": [            # per <currency>: at most 10, by revenue, ties by id
        {"currency": "EUR", "rank": 1, "product_id": "prod-0003", "name": "...",
         "orders": 120, "units": 300, "revenue": 4567.89}],   # name null: unknown product
      "top_customers": [           # per <currency>, as top_products
        {"currency": "EUR", "rank": 1, "customer_id": "cust-00042", "name": "...",
         "orders": 9, "units": 20, "revenue": 999.99}],
      "revenue_per_category": [    # per <currency>, by revenue, ties by category;
        {"currency": "EUR", "category": "books", "orders": 300, "units": 800,
         "revenue": 12345.67}],    # unknown products under "(unknown product)"
      "alerts_per_rule": [         # every rule, zeros included, by rule name
        {"rule": "IMPOSSIBLE_TRAVEL", "alerts": 3}],
      "alerts": [                  # the day's alerts (the same CheckFraud), by time
        {"time": "2026-11-18T08:19:34.901Z", "rule": "SMALL_THEN_LARGE",
         "card_id": "card-000050", "order_ids": ["ord-5-00000228", "ord-5-00000234"],
         "alert_id": "..."}],
      "dead_letters_per_reason": [ # by count descending, ties by stage then reason
        {"stage": "decode", "reason": "BAD_JSON", "meaning": "The record was text but ...",
         "dead_letters": 7}],
      "headlines": [               # each summary figure, then revenue and average order
        {"figure": "orders", "currency": null, "value": 2940,   # value per <currency>
         "previous": 2800, "change_pct": 5.0}]  # previous: the day before's report.json
    }                                           # under --reports_path (null: none)

`--from` and `--to` (instead of `--date`) make each day of a range, one pipeline after the
other, so each day's comparison reads the report made just before it. A local
`--archive_path` that does not exist is an error (a missing day folder under it is an empty
day; a remote one is not checked while the graph is built); `main`
prints a wrong option or path as one `error:` line and exits 2.

An archived order that fails re-validation or lies outside the day is reported as a dead
letter (`report_figures.ArchivedOrders`), never dropped: the archive's folder says it is of
the day.
"""

import datetime
from typing import List, NamedTuple, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from connectors.avro_archive import ReadAvroArchive
from pipelines.daily_report.comparison import previous_report_path
from pipelines.daily_report.currency import load_rates
from pipelines.daily_report.figures import ArchivedOrders, ComputeReportFigures, ReportContext
from pipelines.daily_report.kafka_source import ReadKafkaDay
from pipelines.daily_report.options import (
    SOURCE_ARCHIVE,
    SOURCE_KAFKA,
    DailyReportOptions,
    ReportSettings,
    report_settings,
)
from pipelines.daily_report.writers import WriteReport
from pipelines.kafka_security_options import KafkaSecurityOptions, check_kafka_at_launch
from pipelines.options_help import exit_code_of_run, exit_with_help_if_asked, reject_unknown_options
from pipelines.preflight import check_input_topic, check_reference_data
from pipelines.runner_setup import run_and_wait, with_local_runners
from pipelines.streaming.options import StreamingOptions
from pipelines.streaming.pipeline import DEAD_LETTERS_DATASET, ORDERS_DATASET
from transforms.enrich import EnrichOrders
from transforms.fraud import CheckFraud
from transforms.records import DEAD_LETTER, VALID


class DailyReportOutputs(NamedTuple):
    """What `build` returns, for tests and for callers that add steps."""

    report: beam.PCollection
    files: beam.PCollection


def build(pipeline: beam.Pipeline, options: PipelineOptions) -> DailyReportOutputs:
    """Adds the daily report's steps to `pipeline`; returns the report dict and file paths.

    Reads the rates file now, while the graph is built; the previous day's `report.json`
    (for the comparison) is read when the pipeline runs.

    Raises:
        ValueError: If `--date` is missing or malformed, a threshold, `--source`,
            `--kafka_margin_s` or the rates file is invalid.
    """
    opts = report_settings(options)
    day = opts.day
    if opts.source == SOURCE_KAFKA:
        orders, dead_letters = _read_kafka(pipeline, opts)
    else:
        orders, dead_letters = _read_archive(pipeline, opts)
    enriched = orders | 'EnrichOrders' >> EnrichOrders(opts.reference_data, refresh_interval_s=None)
    alerts = orders | 'CheckFraud' >> CheckFraud(**opts.fraud_thresholds)
    context = ReportContext(
        rates=load_rates(opts.rates_file),
        previous_report=previous_report_path(opts.reports_path, day),
        source=source_description(opts),
        runner=runner_name(options),
    )
    report = (enriched, alerts, dead_letters) | 'ComputeReportFigures' >> ComputeReportFigures(
        day, context=context
    )
    files = report | 'WriteReport' >> WriteReport(opts.reports_path)
    return DailyReportOutputs(report, files)


def source_description(opts: ReportSettings) -> str:
    """Where the report's day is read from, for the report's footer."""
    if opts.source == SOURCE_KAFKA:
        assert opts.kafka is not None  # set with the Kafka source
        return f'kafka topic {opts.kafka.topic} on {opts.kafka.brokers}'
    return f'archive {opts.archive_path}'


def runner_name(options: PipelineOptions) -> str:
    """The runner's name as given (DirectRunner when none is)."""
    runner = options.view_as(StandardOptions).runner or 'DirectRunner'
    return runner if isinstance(runner, str) else type(runner).__name__


def _read_archive(
    pipeline: beam.Pipeline, opts: ReportSettings
) -> Tuple[beam.PCollection, beam.PCollection]:
    """The day's orders and dead letters from the Avro archive."""
    archived = pipeline | 'ReadOrders' >> ReadAvroArchive(
        opts.archive_path, opts.day, prefix=ORDERS_DATASET
    )
    archived_dead_letters = pipeline | 'ReadDeadLetters' >> ReadAvroArchive(
        opts.archive_path, opts.day, prefix=DEAD_LETTERS_DATASET
    )
    typed = archived | 'ArchivedOrders' >> ArchivedOrders(opts.day)
    dead_letters = (archived_dead_letters, typed[DEAD_LETTER]) | 'AllDeadLetters' >> beam.Flatten()
    return typed[VALID], dead_letters


def _read_kafka(
    pipeline: beam.Pipeline, opts: ReportSettings
) -> Tuple[beam.PCollection, beam.PCollection]:
    """The day's orders and dead letters from a bounded read of the orders topic."""
    kafka = opts.kafka
    assert kafka is not None  # set with the Kafka source
    day = pipeline | 'ReadKafkaDay' >> ReadKafkaDay(
        kafka.brokers, kafka.topic, opts.day, kafka.margin_s, kafka.security
    )
    return day[VALID], day[DEAD_LETTER]


def check_sources(opts: ReportSettings) -> None:
    """Fails fast on a local archive root that is not there.

    A missing day folder under an existing archive is an empty day; a missing archive
    root is a wrong path, and reporting it as "no orders" would hide the mistake. A remote
    archive (`gs://...`, any path with a scheme) is not looked at here: building the
    pipeline must not need the network or credentials (the offline Dataflow job
    description builds it).

    Raises:
        ValueError: If `--source=archive` and a local `--archive_path` does not exist.
    """
    if (
        opts.source == SOURCE_ARCHIVE
        and '://' not in opts.archive_path
        and not FileSystems.exists(opts.archive_path)
    ):
        raise ValueError(
            f'--archive_path {opts.archive_path} does not exist: point it at the '
            'folder the streaming pipeline archives into (it holds dt=YYYY-MM-DD '
            'folders), or read the day from Kafka with --source=kafka'
        )


def pipeline_options(argv=None) -> PipelineOptions:
    """Parses the command line for one day; a batch pipeline; local runners need no download.

    Raises:
        ValueError: If an option is missing or wrong, or the archive is not there.
    """
    exit_with_help_if_asked(
        argv,
        __doc__,
        DailyReportOptions,
        StreamingOptions,
        KafkaSecurityOptions,
        prog='python -m pipelines.daily_report',
    )
    reject_unknown_options(argv)
    options = PipelineOptions(argv)
    check_sources(report_settings(options))  # fail fast on a bad --date, source or path
    options.view_as(StandardOptions).streaming = False
    return with_local_runners(options)


def days_options(argv=None) -> List[PipelineOptions]:
    """The options of each day asked for (`--date`, or `--from` to `--to`), in day order.

    Raises:
        ValueError: As `pipeline_options`, or for a bad range.
    """
    exit_with_help_if_asked(
        argv,
        __doc__,
        DailyReportOptions,
        StreamingOptions,
        KafkaSecurityOptions,
        prog='python -m pipelines.daily_report',
    )
    reject_unknown_options(argv)
    days = PipelineOptions(argv).view_as(DailyReportOptions).report_days()
    return [_one_day(argv, day) for day in days]


def _one_day(argv, day: datetime.date) -> PipelineOptions:
    options = PipelineOptions(argv)
    report = options.view_as(DailyReportOptions)
    report.date, report.from_date, report.to_date = day.isoformat(), None, None
    check_sources(report_settings(options))
    options.view_as(StandardOptions).streaming = False
    return with_local_runners(options)


def run(argv=None) -> List[beam.runners.runner.PipelineResult]:
    """Builds and runs the report of each day asked for, one after the other (so each
    day's comparison reads the day before); waits for each to finish.

    Raises:
        KafkaAccessError: `--source=kafka` and the brokers cannot be used with the security
            options (checked before the first day runs, except on Dataflow).
        ValueError: an option is wrong.
    """
    days = days_options(argv)
    settings = report_settings(days[0])
    if settings.kafka is not None:
        check_kafka_at_launch(days[0], settings.kafka.brokers)
        check_input_topic(
            days[0], settings.kafka.brokers, settings.kafka.topic, settings.kafka.security
        )
    check_reference_data(days[0], settings.reference_data)
    return [run_and_wait(options, build) for options in days]


def main(argv=None) -> int:
    """The command line (pipelines/command_line.py): runs the report; a wrong option, date
    or path, missing reference data, a topic that does not exist, or a Kafka that refuses the
    security options (a wrong password, CA or port), is one line on stderr and exit code 2;
    no broker answering is one line and exit code 1; not a traceback."""
    return exit_code_of_run(run, argv)
