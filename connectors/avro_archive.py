"""The Avro archive: records in Avro container files partitioned by event hour.

Layout: `<root>/dt=YYYY-MM-DD/hour=HH/<prefix>-<hour start millis>-<pane>.avro`, one file per
dataset, event hour and pane. File names are deterministic, so a retried write replaces its
own file rather than adding a second copy. Files are written under a temporary name and
renamed into place, so a reader never sees half a file.
"""
import datetime
import uuid
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

import apache_beam as beam
import fastavro
from apache_beam.io import fileio

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms import trigger, window
from apache_beam.utils.timestamp import Duration

HOUR_S = 3600


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
    `event_time_ms` is None. The transform re-windows them into
    1-hour fixed windows of event time. Bounded input: one file per hour. Unbounded input: the
    hour's records so far are written every `flush_interval_s` of processing time (early
    panes), when the watermark passes the hour (on-time pane) and for late records within
    `allowed_lateness_s` (late panes); each pane is its own file (DISCARDING panes: no record
    is written twice). Output: the paths of the files written.
    """

    def __init__(self, root: str, schema: Dict,
                 event_time_ms: Optional[Callable[[Any], int]] = None,
                 prefix: str = 'orders', flush_interval_s: float = 60.0,
                 allowed_lateness_s: float = 600.0,
                 to_mapping: Callable[[Any], Mapping] = as_mapping):
        super().__init__()
        if not root:
            raise ValueError('root must name the archive folder (a local path or a URL '
                             'Beam FileSystems understands, e.g. gs://bucket/archive)')
        if not prefix or '/' in prefix or '-' in prefix:
            raise ValueError(f"prefix must be a plain name without '/' or '-', got {prefix!r}")
        if not flush_interval_s >= 1 or not allowed_lateness_s >= 0:
            raise ValueError('flush_interval_s must be >= 1 (whole seconds) and allowed_lateness_s >= 0')
        self._root = root
        self._schema = fastavro.parse_schema(schema)
        self._event_time_ms = event_time_ms
        self._prefix = prefix
        self._flush_interval_s = flush_interval_s
        self._allowed_lateness_s = allowed_lateness_s
        self._to_mapping = to_mapping

    def expand(self, records: beam.PCollection) -> beam.PCollection[str]:
        if records.is_bounded:
            hourly = trigger.DefaultTrigger()  # one pane per hour: the whole hour
        else:
            hourly = trigger.AfterWatermark(
                early=trigger.AfterProcessingTime(int(self._flush_interval_s)),
                late=trigger.AfterCount(1))
        return (
            records
            | 'KeyByHour' >> beam.ParDo(_KeyByHour(self._root, self._event_time_ms,
                                                   self._to_mapping))
            | 'HourWindows' >> beam.WindowInto(
                window.FixedWindows(HOUR_S), trigger=hourly,
                accumulation_mode=trigger.AccumulationMode.DISCARDING,
                allowed_lateness=Duration.of(self._allowed_lateness_s))
            | 'GroupByHour' >> beam.GroupByKey()
            | 'WriteHourFile' >> beam.ParDo(_WriteHourFile(self._schema, self._prefix)))


class _KeyByHour(beam.DoFn):
    """A record in; ((hour folder, hour start millis), record mapping) at its event time out."""

    def __init__(self, root, event_time_ms, to_mapping):
        self._root = root
        self._event_time_ms = event_time_ms
        self._to_mapping = to_mapping
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
        yield beam.window.TimestampedValue(
            ((folder, hour_start), dict(self._to_mapping(record))), millis / 1000)


class _WriteHourFile(beam.DoFn):
    """((folder, hour start), records) in, the path of the Avro file written out."""

    def __init__(self, schema, prefix):
        self._schema = schema
        self._prefix = prefix
        self._files = Metrics.counter('WriteAvroArchive', 'files_written')
        self._records = Metrics.counter('WriteAvroArchive', 'records_written')

    def process(self, element: Tuple[Tuple[str, int], Iterable[Dict]],
                pane=beam.DoFn.PaneInfoParam) -> Iterable[str]:
        (folder, hour_start), records = element
        path = FileSystems.join(folder, f'{self._prefix}-{hour_start}-{pane.index:05d}.avro')
        temporary = FileSystems.join(folder, f'.{uuid.uuid4().hex}.tmp')
        count = _write_avro(temporary, self._schema, records)
        if FileSystems.exists(path):
            FileSystems.delete([path])  # a retry of this very pane: replace, don't duplicate
        FileSystems.rename([temporary], [path])
        self._files.inc()
        self._records.inc(count)
        yield path


def _write_avro(path: str, schema, records: Iterable[Dict]) -> int:
    counted = _Counted(records)
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as out:
        fastavro.writer(out, schema, counted, codec='deflate')
    return counted.count


class _Counted:
    def __init__(self, items):
        self._items = items
        self.count = 0

    def __iter__(self):
        for item in self._items:
            self.count += 1
            yield item


class ReadAvroArchive(beam.PTransform):
    """Reads one UTC day of an archive dataset as dicts.

    Input: the pipeline root. Output: a bounded PCollection of the records (dicts) of every
    `<prefix>-*.avro` file of that day, in the global window. A day without files gives an
    empty PCollection, not an error.
    """

    def __init__(self, root: str, day: datetime.date, prefix: str = 'orders',
                 reader_schema: Optional[Dict] = None):
        super().__init__()
        self._pattern = day_pattern(root, day, prefix)
        self._reader_schema = reader_schema

    def expand(self, pbegin) -> beam.PCollection[Dict]:
        return (pbegin
                | 'MatchDay' >> fileio.MatchFiles(self._pattern,
                                                  empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
                | 'OpenFiles' >> fileio.ReadMatches()
                | 'ReadRecords' >> beam.FlatMap(_read_avro, self._reader_schema))


def _read_avro(readable_file, reader_schema) -> Iterable[Dict]:
    with readable_file.open() as handle:
        yield from fastavro.reader(handle, reader_schema=reader_schema)
