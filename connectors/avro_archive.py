"""The Avro archive: records in Avro container files partitioned by event hour.

Layout: `<root>/dt=YYYY-MM-DD/hour=HH/<prefix>-<hour start millis>-<pane>-<digest>.avro`, one
file per dataset, event hour and pane. The digest is a hash of the file's records, so a
retried write replaces its own file rather than adding a second copy, and a restarted job
(whose panes count from 0 again) never overwrites the files of the job before it. Files are
written under a temporary name and renamed into place, so a reader never sees half a file.
"""

import datetime
import hashlib
import io
import uuid
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, cast

import apache_beam as beam
import fastavro
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms import trigger, window

from connectors.kafka_commit import STORED, Acknowledged, Origin, acknowledged_of

HOUR_S = 3600
KEEP_LATE_S = 10 * 365 * 24 * HOUR_S
"""Allowed lateness of the archive's hours: ten years, so no late record is dropped (an hour
keeps only its trigger's state once its panes are written)."""


class ArchivedFile(NamedTuple):
    """One file `WriteAvroArchive` wrote: its path, how many records, and (with
    `origin_of`) the Kafka offsets now stored, as ``Acknowledged`` marks of kind STORED."""

    path: str
    records: int
    acknowledged: Tuple[Acknowledged, ...]


def hour_folder(root: str, event_time_ms: int) -> str:
    """`<root>/dt=YYYY-MM-DD/hour=HH` of the UTC hour holding `event_time_ms`."""
    moment = datetime.datetime.fromtimestamp(event_time_ms / 1000, tz=datetime.timezone.utc)
    return FileSystems.join(root, f'dt={moment:%Y-%m-%d}', f'hour={moment:%H}')


def day_pattern(root: str, day: datetime.date, prefix: str) -> str:
    """The glob of every archive file of `prefix` for one UTC day."""
    return FileSystems.join(root, f'dt={day:%Y-%m-%d}', 'hour=*', f'{prefix}-*.avro')


def as_mapping(record: Any) -> Mapping:
    """A NamedTuple or a mapping as a mapping (what fastavro writes)."""
    return record._asdict() if hasattr(record, '_asdict') else record


class WriteAvroArchive(beam.PTransform):
    """Archives records as Avro files per event hour.

    Input: records (NamedTuples or dicts matching `schema`), bounded or unbounded, in any
    windowing; each is placed by `event_time_ms(record)`, or by its element timestamp when
    `event_time_ms` is None. Bounded input: one file per hour. Unbounded input: the hour's
    records so far every `flush_interval_s` of processing time (early panes), when the
    watermark passes the hour (on-time pane) and then one file per late record, however late
    (`KEEP_LATE_S`): the archive drops nothing. Each pane is its own file. Output: an
    ``ArchivedFile`` per file written; with `origin_of` (a record -> (topic, partition,
    offset)), it lists the offsets the file made durable, for
    ``connectors.kafka_commit.CommitDurableOffsets``.
    """

    def __init__(
        self,
        root: str,
        schema: Dict,
        event_time_ms: Optional[Callable[[Any], int]] = None,
        prefix: str = 'orders',
        flush_interval_s: float = 60.0,
        to_mapping: Callable[[Any], Mapping] = as_mapping,
        origin_of: Optional[Callable[[Any], Origin]] = None,
    ):
        super().__init__()
        if not root:
            raise ValueError(
                'root must name the archive folder (a local path or a URL '
                'Beam FileSystems understands, e.g. gs://bucket/archive)'
            )
        if not prefix or '/' in prefix or '-' in prefix:
            raise ValueError(f"prefix must be a plain name without '/' or '-', got {prefix!r}")
        if not flush_interval_s >= 1:
            raise ValueError('flush_interval_s must be >= 1 (whole seconds)')
        self._root = root
        self._schema = fastavro.parse_schema(schema)
        self._event_time_ms = event_time_ms
        self._prefix = prefix
        self._flush_interval_s = flush_interval_s
        self._to_mapping = to_mapping
        self._origin_of = origin_of

    def expand(self, records: beam.PCollection) -> beam.PCollection[ArchivedFile]:
        if records.is_bounded:
            # One pane per hour: the whole input.
            flushes: trigger.TriggerFn = trigger.DefaultTrigger()
        else:
            # Early panes every flush interval, the on-time pane when the watermark passes
            # the hour, then a pane per late record. (A processing-time trigger in the
            # global window stalled the portable Flink runner now and then at start-up.)
            flushes = trigger.AfterWatermark(
                early=trigger.AfterProcessingTime(int(self._flush_interval_s)),
                late=trigger.AfterCount(1),
            )
        return (
            records
            | 'KeyByHour'
            >> beam.ParDo(
                _KeyByHour(self._root, self._event_time_ms, self._to_mapping, self._origin_of)
            )
            | 'Flushes'
            >> beam.WindowInto(
                window.FixedWindows(HOUR_S),
                trigger=flushes,
                accumulation_mode=trigger.AccumulationMode.DISCARDING,
                allowed_lateness=KEEP_LATE_S,
            )
            | 'GroupByHour' >> beam.GroupByKey()
            | 'WriteHourFile' >> beam.ParDo(_WriteHourFile(self._schema, self._prefix))
        )


class _KeyByHour(beam.DoFn):
    """A record in; ((hour folder, hour start millis), (record mapping, origin)) out."""

    def __init__(self, root, event_time_ms, to_mapping, origin_of):
        self._root = root
        self._event_time_ms = event_time_ms
        self._to_mapping = to_mapping
        self._origin_of = origin_of
        self._folders: Dict[int, str] = {}  # hour start millis -> folder: few hours, many records

    def process(self, record, timestamp=beam.DoFn.TimestampParam):
        if self._event_time_ms is None:
            millis = timestamp.micros // 1000
        else:
            millis = int(self._event_time_ms(record))
        hour_start = millis - millis % (HOUR_S * 1000)
        folder = self._folders.get(hour_start)
        if folder is None:
            if len(self._folders) > 1000:
                self._folders.clear()
            folder = self._folders[hour_start] = hour_folder(self._root, hour_start)
        origin = None if self._origin_of is None else tuple(self._origin_of(record))
        yield window.TimestampedValue(
            ((folder, hour_start), (dict(self._to_mapping(record)), origin)), millis / 1000
        )


class _WriteHourFile(beam.DoFn):
    """((folder, hour start), [(record, origin)]) in, the ``ArchivedFile`` written out."""

    def __init__(self, schema, prefix):
        self._schema = schema
        self._prefix = prefix
        self._files = Metrics.counter('WriteAvroArchive', 'files_written')
        self._records = Metrics.counter('WriteAvroArchive', 'records_written')

    def process(
        self,
        element: Tuple[Tuple[str, int], Iterable[Tuple[Dict, Optional[Origin]]]],
        pane=beam.DoFn.PaneInfoParam,
    ) -> Iterable[ArchivedFile]:
        (folder, hour_start), entries = element
        entries = list(entries)
        records = [record for record, _ in entries]
        origins = [origin for _, origin in entries if origin is not None]
        digest = _digest(self._schema, records)
        path = FileSystems.join(
            folder, f'{self._prefix}-{hour_start}-{pane.index:05d}-{digest}.avro'
        )
        temporary = FileSystems.join(folder, f'.{uuid.uuid4().hex}.tmp')
        _write_avro(temporary, self._schema, records)
        if FileSystems.exists(path):
            FileSystems.delete([path])  # a retry of this very pane: replace, don't duplicate
        FileSystems.rename([temporary], [path])
        self._files.inc()
        self._records.inc(len(records))
        yield ArchivedFile(path, len(records), tuple(acknowledged_of(STORED, origins)))


def _digest(schema, records: List[Dict]) -> str:
    """12 hex digits that depend only on the set of records (not their order)."""
    encoded = []
    for record in records:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, schema, record)
        encoded.append(out.getvalue())
    digest = hashlib.sha256()
    for item in sorted(encoded):
        digest.update(len(item).to_bytes(4, 'big'))
        digest.update(item)
    return digest.hexdigest()[:12]


def _write_avro(path: str, schema, records: List[Dict]) -> None:
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as out:
        fastavro.writer(out, schema, records, codec='deflate')


class ReadAvroArchive(beam.PTransform):
    """Reads one UTC day of an archive dataset as dicts.

    Input: the pipeline root. Output: a bounded PCollection of the records (dicts) of every
    `<prefix>-*.avro` file of that day, in the global window. A day without files gives an
    empty PCollection, not an error.
    """

    def __init__(
        self,
        root: str,
        day: datetime.date,
        prefix: str = 'orders',
        reader_schema: Optional[Dict] = None,
    ):
        super().__init__()
        self._pattern = day_pattern(root, day, prefix)
        self._reader_schema = reader_schema

    def expand(self, pbegin) -> beam.PCollection[Dict]:
        return (
            pbegin
            | 'MatchDay'
            >> fileio.MatchFiles(
                self._pattern, empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW
            )
            | 'OpenFiles' >> fileio.ReadMatches()
            | 'ReadRecords' >> beam.FlatMap(_read_avro, self._reader_schema)
        )


def _read_avro(readable_file, reader_schema) -> Iterable[Dict]:
    with readable_file.open() as handle:
        # A record schema reads as dicts; fastavro's types allow any Avro value.
        yield from cast(Iterable[Dict], fastavro.reader(handle, reader_schema=reader_schema))
