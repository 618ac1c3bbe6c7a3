"""Counting a fault run's outcome from given inputs: lost, duplicated, alerts and their ids."""

from pipelines.faults.cycles import CycleResult, FaultReport, cycle_config
from pipelines.faults.tally import ProducedRecord, alert_id_mismatches, archived_ids_gone, tally
from pipelines.generator.config import TrafficConfig
from pipelines.generator.ground_truth import ExpectedAlert
from transforms.fraud_rules import alert_id

TOPIC = 'run.orders'
SAMPLE_PRODUCED = [
    ProducedRecord(TOPIC, 0, 0, 'gen-1-00000000', 'ord-1-00000000'),
    ProducedRecord(TOPIC, 0, 1, 'gen-1-00000001', None),  # malformed: must be dead-lettered
    ProducedRecord(TOPIC, 1, 0, 'gen-1-00000002', 'ord-1-00000002'),
    ProducedRecord(TOPIC, 1, 1, 'gen-1-00000003', 'ord-1-00000003'),
    ProducedRecord(TOPIC, 2, 0, None, None),  # a probe, not of the plan
]
ORDERS = ('ord-1-00000000', 'ord-1-00000002')
SAMPLE_ALERT = ExpectedAlert('VELOCITY', 'card-1', ORDERS, alert_id('VELOCITY', ORDERS), 0, False)
OTHER_ORDERS = ('ord-1-00000002', 'ord-1-00000003')
OTHER_ALERT = ExpectedAlert(
    'SMALL_THEN_LARGE', 'card-2', OTHER_ORDERS, alert_id('SMALL_THEN_LARGE', OTHER_ORDERS), 0, False
)


def alert_record(alert: ExpectedAlert, alert_id_value=None) -> dict:
    return {
        'alert_id': alert_id_value or alert.alert_id,
        'rule': alert.rule,
        'card_id': alert.card_id,
        'order_ids': list(alert.order_ids),
    }


def test_every_record_delivered_once_is_complete():
    counts = tally(
        SAMPLE_PRODUCED,
        ['ord-1-00000000', 'ord-1-00000002', 'ord-1-00000003'],
        [(TOPIC, 0, 1), (TOPIC, 2, 0)],
        [alert_record(SAMPLE_ALERT)],
        [SAMPLE_ALERT],
    )
    assert (
        counts.produced,
        counts.archived,
        counts.dead_lettered,
        counts.lost,
        counts.duplicated,
    ) == (5, 3, 2, 0, 0)
    assert (counts.alerts_expected, counts.alerts_delivered, counts.alerts_missing) == (1, 1, 0)
    assert counts.complete


def test_a_record_neither_archived_nor_dead_lettered_is_lost():
    counts = tally(SAMPLE_PRODUCED, ['ord-1-00000000'], [(TOPIC, 2, 0)], [], [])
    assert counts.lost == 3
    assert counts.lost_sample == ((TOPIC, 0, 1), (TOPIC, 1, 0), (TOPIC, 1, 1))
    assert not counts.complete


def test_an_order_archived_under_another_id_or_a_dead_letter_of_another_offset_counts_nothing():
    counts = tally(
        SAMPLE_PRODUCED[:2], ['ord-9-00000000'], [(TOPIC, 0, 5), ('other', 0, 1)], [], []
    )
    assert (counts.archived, counts.dead_lettered, counts.lost) == (0, 0, 2)


def test_a_record_archived_twice_or_archived_and_dead_lettered_is_duplicated_not_lost():
    counts = tally(
        SAMPLE_PRODUCED,
        ['ord-1-00000000', 'ord-1-00000000', 'ord-1-00000002', 'ord-1-00000003'],
        [(TOPIC, 0, 1), (TOPIC, 0, 1), (TOPIC, 2, 0), (TOPIC, 1, 1)],
        [],
        [],
    )
    assert (counts.lost, counts.duplicated) == (0, 3)
    assert (counts.archived, counts.dead_lettered) == (3, 3)


def test_a_missing_alert_is_named():
    counts = tally([], [], [], [alert_record(SAMPLE_ALERT)], [SAMPLE_ALERT, OTHER_ALERT])
    assert (counts.alerts_delivered, counts.alerts_missing) == (1, 1)
    assert counts.missing_alerts == (OTHER_ALERT.alert_id,)
    assert not counts.complete


def test_a_repeated_alert_under_the_same_id_is_a_repeat_not_a_mismatch():
    counts = tally([], [], [], [alert_record(SAMPLE_ALERT)] * 3, [SAMPLE_ALERT])
    assert (counts.alert_records, counts.alert_repeats, counts.alert_id_mismatches) == (3, 2, 0)
    assert counts.complete


def test_an_alert_repeated_under_another_id_is_a_mismatch():
    records = [alert_record(SAMPLE_ALERT), alert_record(SAMPLE_ALERT, 'f' * 32)]
    assert alert_id_mismatches(records) == 1
    assert not tally([], [], [], records, [SAMPLE_ALERT]).complete


def test_an_alert_whose_id_is_not_the_hash_of_its_rule_and_orders_is_a_mismatch():
    assert alert_id_mismatches([alert_record(SAMPLE_ALERT, 'f' * 32)]) == 1
    assert alert_id_mismatches([alert_record(SAMPLE_ALERT), alert_record(OTHER_ALERT)]) == 0


def test_archived_ids_gone_counts_distinct_orders_no_longer_archived():
    assert archived_ids_gone(['a', 'b', 'b', 'c'], ['a', 'd']) == 2
    assert archived_ids_gone([], ['a']) == 0


def test_the_tally_as_a_dict_and_a_line():
    counts = tally(SAMPLE_PRODUCED, [], [], [], [SAMPLE_ALERT])
    echoed = counts.as_dict()
    assert echoed['lost'] == 5 and echoed['alerts_missing'] == 1
    assert echoed['lost_sample'][0] == [TOPIC, 0, 0]
    assert echoed['missing_alerts'] == [SAMPLE_ALERT.alert_id]
    assert '5 lost' in counts.summary() and 'alerts 0 of 1' in counts.summary()


def test_the_report_table_has_a_row_per_cycle_the_broker_restart_and_the_total():
    complete = tally(SAMPLE_PRODUCED[:1], ['ord-1-00000000'], [], [], [])
    lossy = tally(SAMPLE_PRODUCED[:2], [], [], [], [SAMPLE_ALERT])
    report = FaultReport(
        cycles=(
            CycleResult(1, complete, 12.34, 2, 1024, 3.5, 1, True),
            CycleResult(2, lossy, 8.0, 2, 2048, 4.0, 2, False),
        ),
        broker_restart=complete,
        total=lossy,
        archive_gone=0,
        settled=False,
    )
    rows = report.table()
    assert [row[0] for row in rows] == [1, 2, 'broker restart', 'total']
    assert all(len(row) == len(FaultReport.COLUMNS) for row in rows)
    assert rows[0] == [1, 1, 1, 0, 0, 0, '0 of 0', 0, 12.3, 1]
    assert rows[1][4] == 2 and rows[1][6] == '0 of 1'
    assert rows[-1][-1] == lossy.lost
    echoed = report.as_dict()
    assert echoed['cycles'][1]['lost'] == 2 and echoed['cycles'][0]['recovery_s'] == 12.34
    assert echoed['cycles'][0]['lost_at_end'] == 1 and echoed['cycles'][1]['settled'] is False
    assert echoed['broker_restart']['produced'] == 1 and echoed['settled'] is False


def test_each_cycle_gets_a_seed_and_card_prefix_of_its_own():
    config = TrafficConfig(seed=40, card_prefix='kill')
    assert [
        (c.seed, c.card_prefix) for c in (cycle_config(config, 1), cycle_config(config, 2))
    ] == [(41, 'kill1'), (42, 'kill2')]
