"""GroupProgress: lag per partition, throughput in and out, and a verdict people can act on."""

import pytest

from dashboard.group_progress import LAGGING, NOT_RUNNING, OK, GroupProgress, OffsetReading

T = 'orders'


def reading(at_s, ends, committed, members=0):
    return OffsetReading(
        at_s,
        {(T, p): o for p, o in enumerate(ends)},
        {(T, p): o for p, o in enumerate(committed) if o is not None},
        members,
        'Empty',
    )


def test_lag_per_partition_counts_a_partition_without_a_commit_from_zero():
    progress = GroupProgress('g')
    progress.add(reading(0, [10, 5], [7, None]))
    assert progress.partitions() == [
        {'topic': T, 'partition': 0, 'end_offset': 10, 'committed': 7, 'lag': 3},
        {'topic': T, 'partition': 1, 'end_offset': 5, 'committed': None, 'lag': 5},
    ]
    assert progress.total_lag() == 8


def test_rates_and_counters_follow_the_offsets_and_ignore_a_reset():
    progress = GroupProgress('g')
    progress.add(reading(0, [100, 100], [100, 100]))
    progress.add(reading(2, [150, 130], [120, 110]))
    assert progress.rates() == (40.0, 15.0)
    assert (progress.orders_in, progress.orders_out) == (80, 30)
    progress.add(reading(3, [0, 130], [0, 110]))  # partition 0 re-created: counts nothing
    assert (progress.orders_in, progress.orders_out) == (80, 30)


def test_no_commit_at_all_means_not_running():
    progress = GroupProgress('goldstream-demo')
    progress.add(reading(0, [10], [None]))
    verdict = progress.verdict()
    assert verdict.code == NOT_RUNNING
    assert 'goldstream-demo' in verdict.message and 'committed no' in verdict.message


def test_offsets_still_while_orders_wait_means_not_running_after_the_stall_time():
    progress = GroupProgress('g', stall_s=30)
    progress.add(reading(0, [10], [5]))
    progress.add(reading(29, [20], [5]))
    assert progress.verdict().code == OK
    progress.add(reading(31, [20], [5]))
    assert progress.verdict().code == NOT_RUNNING
    assert 'has not committed for 31 s while 15 orders wait' in progress.verdict().message
    progress.add(reading(32, [20], [6]))  # it moves again
    assert progress.verdict().code == OK


def test_caught_up_and_still_is_ok():
    progress = GroupProgress('g', stall_s=1)
    progress.add(reading(0, [10], [10]))
    progress.add(reading(100, [10], [10]))
    assert progress.verdict() == (OK, 'The pipeline has caught up: every order is read.')


def test_lag_over_the_threshold_is_a_warning():
    progress = GroupProgress('g', lag_warning=1000)
    progress.add(reading(0, [600, 600], [100, 99]))
    assert progress.verdict().code == LAGGING
    assert '1,001 orders behind' in progress.verdict().message
    progress.add(reading(1, [600, 600], [100, 100]))
    assert progress.verdict().code == OK  # exactly at the threshold


@pytest.mark.parametrize('kwargs', [dict(lag_warning=-1), dict(stall_s=0)])
def test_wrong_thresholds_fail_when_built(kwargs):
    with pytest.raises(ValueError):
        GroupProgress('g', **kwargs)
