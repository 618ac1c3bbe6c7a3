"""The durable prefix: an offset is committed once it is both stored and delivered."""

from connectors.kafka_commit import (
    DELIVERED,
    STORED,
    Acknowledged,
    PartitionProgress,
    acknowledged_of,
    add_runs,
    covered_until,
    runs_of,
)


def test_offsets_become_merged_runs_in_any_order_with_repeats():
    assert runs_of([5, 3, 4, 4, 9, 10, 1]) == ((1, 2), (3, 6), (9, 11))
    assert runs_of([]) == ()


def test_runs_add_up_and_overlaps_merge():
    assert add_runs([(0, 3), (8, 9)], [(3, 5), (7, 8), (1, 2)]) == [(0, 5), (7, 9)]


def test_covered_until_is_the_first_offset_missing():
    runs = [(0, 3), (5, 9)]
    assert covered_until(runs, 0) == 3
    assert covered_until(runs, 3) == 3
    assert covered_until(runs, 6) == 9


def test_origins_without_a_kafka_position_are_not_marked():
    marks = acknowledged_of(STORED, [('t', 1, 4), ('t', 0, 2), (None, None, None), ('t', 1, 5)])
    assert marks == [
        Acknowledged('t', 0, STORED, ((2, 3),)),
        Acknowledged('t', 1, STORED, ((4, 6),)),
    ]


def test_the_prefix_moves_only_over_offsets_both_stored_and_delivered():
    progress = PartitionProgress(10, (), ())
    progress = progress.with_marks(STORED, [(10, 20)]).advanced()
    assert progress.next_offset == 10  # archived, alerts not yet acknowledged
    progress = progress.with_marks(DELIVERED, [(10, 14), (15, 30)]).advanced()
    assert progress.next_offset == 14  # 14 is not delivered yet
    assert progress.stored == ((14, 20),) and progress.delivered == ((15, 30),)
    progress = progress.with_marks(DELIVERED, [(14, 15)]).advanced()
    assert progress.next_offset == 20  # 20.. delivered but not stored
    progress = progress.with_marks(STORED, [(20, 40)]).advanced()
    assert progress.next_offset == 30
    assert progress == PartitionProgress(30, ((30, 40),), ())


def test_a_mark_received_twice_changes_nothing():
    once = PartitionProgress(0, (), ()).with_marks(STORED, [(0, 5)]).with_marks(DELIVERED, [(0, 3)])
    twice = once.with_marks(STORED, [(0, 5)]).with_marks(DELIVERED, [(0, 3)])
    assert once.advanced() == twice.advanced() == PartitionProgress(3, ((3, 5),), ())
