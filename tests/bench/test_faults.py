"""bench.faults' table: the fault run's own table, with the runner, the rate and two
columns of the benchmark's."""

from bench import faults
from pipelines.faults.cycles import CycleResult, FaultReport
from pipelines.faults.tally import DeliveryTally


def tally(produced, lost=0):
    return DeliveryTally(produced, produced - lost - 1, 1, lost, 0, 3, 3, 3, 0, 0)


def report(*, settled_second=True):
    cycles = (
        CycleResult(1, tally(100), 4.24, 2, 50, 1.5, 0, True),
        CycleResult(2, tally(100, lost=2), 6.0, 2, 60, 2.5, 2, settled_second),
    )
    return FaultReport(cycles, None, tally(200, lost=2), archive_gone=1, settled=settled_second)


def test_every_row_fills_every_column():
    rows = faults.runner_rows('DirectRunner', 500, report())
    assert [len(row) for row in rows] == [len(faults.COLUMNS)] * 3
    assert [row[:3] for row in rows] == [
        ['DirectRunner', 500, 1],
        ['DirectRunner', 500, 2],
        ['DirectRunner', 500, 'total'],
    ]


def test_a_cycle_row_has_its_counts_recovery_and_load():
    first = dict(zip(faults.COLUMNS, faults.runner_rows('Flink[local]', 200, report())[0]))
    assert first['produced'] == 100 and first['lost'] == 0 and first['recovery s'] == 4.2
    assert first['alerts delivered'] == '3 of 3' and first['load (1 min)'] == 1.5
    assert first['archived, then gone'] == ''


def test_the_total_row_has_what_was_lost_and_archived_then_gone():
    total = dict(zip(faults.COLUMNS, faults.runner_rows('DirectRunner', 500, report())[-1]))
    assert total['lost'] == 2 and total['lost at the end'] == 2
    assert total['archived, then gone'] == 1


def test_a_cycle_that_did_not_settle_says_so():
    rows = faults.runner_rows('DirectRunner', 500, report(settled_second=False))
    assert rows[1][2] == '2 (not settled)'
