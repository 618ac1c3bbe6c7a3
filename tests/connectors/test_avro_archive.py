"""The Avro archive: files per event hour, read back per day, nothing lost or doubled."""

import datetime
import pathlib
import re

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from connectors.avro_archive import ReadAvroArchive, WriteAvroArchive, hour_folder
from connectors.kafka_commit import STORED, Acknowledged
from schemas import load_schema

SCHEMA = load_schema('order.v2.avsc')
HOUR_MS = 3_600_000
DAY_START_MS = 1_794_960_000_000  # 2026-11-18T00:00:00Z


def order(n, event_ms):
    return {
        'order_id': f'o-{n}',
        'customer_id': 'c-1',
        'product_id': 'p-1',
        'quantity': 1,
        'price': 10.0,
        'currency': 'EUR',
        'card_id': 'card-1',
        'lat': 1.0,
        'lon': 2.0,
        'timestamp': event_ms,
        'tax': 0.5,
        'version': 2,
    }


# three orders in hour 00, two in hour 13 of 2026-11-18, one on the next day at 00
SAMPLE_ORDERS = [
    order(0, DAY_START_MS + 1),
    order(1, DAY_START_MS + 59 * 60_000),
    order(2, DAY_START_MS + HOUR_MS - 1),
    order(3, DAY_START_MS + 13 * HOUR_MS),
    order(4, DAY_START_MS + 13 * HOUR_MS + 5),
    order(5, DAY_START_MS + 24 * HOUR_MS),
]


def event_time(record):
    return record['timestamp']


def test_hour_folder_is_the_utc_hour_of_the_event():
    assert hour_folder('/a', DAY_START_MS + 13 * HOUR_MS + 5) == '/a/dt=2026-11-18/hour=13'
    assert hour_folder('/a', DAY_START_MS - 1) == '/a/dt=2026-11-17/hour=23'


def written_names(files):
    """Each written file as (folder relative to the root, name without its digest, records)."""
    return sorted(
        (str(pathlib.Path(f.path).parent), f.path.rsplit('-', 1)[0].rsplit('/', 1)[1], f.records)
        for f in files
    )


def test_written_files_follow_the_layout_and_read_back_per_day(tmp_path):
    root = str(tmp_path / 'archive')
    with TestPipeline() as pipeline:
        files = (
            pipeline
            | 'CreateOrders' >> beam.Create(SAMPLE_ORDERS)
            | 'Archive' >> WriteAvroArchive(root, SCHEMA, event_time)
        )
        listed = (
            files
            | beam.WindowInto(beam.window.GlobalWindows())
            | beam.combiners.ToList()
            | beam.Map(written_names)
        )
        assert_that(
            listed,
            equal_to(
                [
                    [
                        (f'{root}/dt=2026-11-18/hour=00', f'orders-{DAY_START_MS}-00000', 3),
                        (
                            f'{root}/dt=2026-11-18/hour=13',
                            f'orders-{DAY_START_MS + 13 * HOUR_MS}-00000',
                            2,
                        ),
                        (
                            f'{root}/dt=2026-11-19/hour=00',
                            f'orders-{DAY_START_MS + 24 * HOUR_MS}-00000',
                            1,
                        ),
                    ]
                ]
            ),
        )

    names = sorted(p.name for p in pathlib.Path(root).rglob('*.avro'))
    assert all(re.fullmatch(r'orders-\d+-00000-[0-9a-f]{12}\.avro', name) for name in names)
    leftovers = [p for p in pathlib.Path(root).rglob('*') if p.name.endswith('.tmp')]
    assert leftovers == []
    with TestPipeline() as pipeline:
        day = pipeline | 'ReadDay' >> ReadAvroArchive(root, datetime.date(2026, 11, 18))
        assert_that(day, equal_to(SAMPLE_ORDERS[:5]))


def archive(root, orders, **kwargs):
    with TestPipeline() as pipeline:
        _ = pipeline | beam.Create(orders) | WriteAvroArchive(root, SCHEMA, event_time, **kwargs)


def test_a_second_job_never_overwrites_the_files_of_the_first(tmp_path):
    # A restarted job counts panes from 0 again: the digest of the records tells its files
    # apart, and the same records (a retried pane) give the same name, in any order.
    root = str(tmp_path / 'archive')
    archive(root, SAMPLE_ORDERS[:2])
    archive(root, SAMPLE_ORDERS[1::-1])
    assert len(list(pathlib.Path(root).rglob('*.avro'))) == 1
    archive(root, SAMPLE_ORDERS[2:3])
    with TestPipeline() as pipeline:
        day = pipeline | 'ReadDay' >> ReadAvroArchive(root, datetime.date(2026, 11, 18))
        assert_that(day, equal_to(SAMPLE_ORDERS[:3]))


def origin(record):
    return 'orders', int(record['order_id'][2:]) % 2, int(record['order_id'][2:])


def test_each_file_lists_the_kafka_offsets_it_stored(tmp_path):
    with TestPipeline() as pipeline:
        files = (
            pipeline
            | beam.Create(SAMPLE_ORDERS)
            | WriteAvroArchive(str(tmp_path), SCHEMA, event_time, origin_of=origin)
        )
        marks = files | beam.FlatMap(lambda f: f.acknowledged)
        assert_that(
            marks,
            equal_to(
                [
                    Acknowledged('orders', 0, STORED, ((0, 1), (2, 3))),
                    Acknowledged('orders', 1, STORED, ((1, 2),)),
                    Acknowledged('orders', 0, STORED, ((4, 5),)),
                    Acknowledged('orders', 1, STORED, ((3, 4),)),
                    Acknowledged('orders', 1, STORED, ((5, 6),)),
                ]
            ),
        )


def test_a_day_without_files_reads_as_empty(tmp_path):
    with TestPipeline() as pipeline:
        day = pipeline | 'ReadDay' >> ReadAvroArchive(str(tmp_path), datetime.date(2026, 1, 1))
        assert_that(day, equal_to([]))


@pytest.mark.parametrize(
    'kwargs, message',
    [
        ({'root': ''}, 'root must name the archive folder'),
        ({'prefix': 'dead-letters'}, 'prefix must be a plain name'),
        ({'flush_interval_s': 0}, 'flush_interval_s must be >= 1'),
    ],
)
def test_bad_arguments_are_refused_when_built(kwargs, message):
    arguments = {'root': '/tmp/a', 'schema': SCHEMA, 'event_time_ms': event_time}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        WriteAvroArchive(**arguments)
