"""Counting what a run delivered, record by record: archived, dead-lettered, lost, duplicated.

Pure functions over what was produced and what came out; `pipelines.faults.run` reads the
topics and the archive and calls them. The contract they check is docs/delivery.md's "nothing
lost": every record of the orders topic ends up archived (a valid order, matched by its order
id, which the generator makes unique) or dead-lettered (matched by the topic, partition and
offset a dead letter carries), and every ground-truth alert reaches the alerts topic.
Duplicates are allowed, but a repeated alert must carry the same deterministic id.
"""

import collections
from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from pipelines.generator.ground_truth import ExpectedAlert
from transforms.fraud_rules import alert_id as deterministic_alert_id

RecordId = Tuple[str, int, int]
"""(topic, partition, offset) of a record of the orders topic."""
SAMPLE = 10  # lost records named in a tally, to look them up


class ProducedRecord(NamedTuple):
    """A record read back from the orders topic.

    Attributes:
        topic: Its topic.
        partition: Its partition.
        offset: Its offset.
        gen_id: Its `gen_id` header (the generator's record id), None for a record the
            generator did not make (e.g. LiveRun's empty start-up probe).
        order_id: The order id of a valid order of the plan; None for a record that must be
            dead-lettered.
    """

    topic: str
    partition: int
    offset: int
    gen_id: Optional[str]
    order_id: Optional[str]

    @property
    def record_id(self) -> RecordId:
        return self.topic, self.partition, self.offset


class DeliveryTally(NamedTuple):
    """What became of the produced records and of the expected alerts.

    Attributes:
        produced: Records on the orders topic that were counted.
        archived: Of those, orders found in the archive (once or more).
        dead_lettered: Of those, records found on the dead-letter topic (once or more).
        lost: Records neither archived nor dead-lettered.
        duplicated: Records archived or dead-lettered more than once in all.
        alerts_expected: Ground-truth alerts.
        alerts_delivered: Of those, alerts found on the alerts topic (by alert id).
        alert_records: Alert records on the topic (any alert id, repeats included).
        alert_repeats: Alert records whose id an earlier record already had.
        alert_id_mismatches: Alerts whose id is not the deterministic id of their rule and
            orders, or whose rule and orders came out under more than one id.
        lost_sample: The first lost records, (topic, partition, offset), to look up.
        missing_alerts: The ids of the expected alerts not delivered.
    """

    produced: int
    archived: int
    dead_lettered: int
    lost: int
    duplicated: int
    alerts_expected: int
    alerts_delivered: int
    alert_records: int
    alert_repeats: int
    alert_id_mismatches: int
    lost_sample: Tuple[RecordId, ...] = ()
    missing_alerts: Tuple[str, ...] = ()

    @property
    def alerts_missing(self) -> int:
        return self.alerts_expected - self.alerts_delivered

    @property
    def complete(self) -> bool:
        """Nothing lost, every expected alert delivered, every repeat under the same id."""
        return self.lost == 0 and self.alerts_missing == 0 and self.alert_id_mismatches == 0

    def as_dict(self) -> Dict[str, object]:
        """The counts as a JSON-ready dict (the samples as lists)."""
        counts = self._asdict()
        counts['lost_sample'] = [list(record) for record in self.lost_sample]
        counts['missing_alerts'] = list(self.missing_alerts)
        counts['alerts_missing'] = self.alerts_missing
        return counts

    def summary(self) -> str:
        """One line: the counts a failing assertion or a log should show."""
        return (
            f'{self.produced} produced: {self.archived} archived, {self.dead_lettered} '
            f'dead-lettered, {self.lost} lost, {self.duplicated} duplicated; alerts '
            f'{self.alerts_delivered} of {self.alerts_expected} delivered '
            f'({self.alert_records} records, {self.alert_repeats} repeats, '
            f'{self.alert_id_mismatches} id mismatches)'
            + (f'; lost e.g. {list(self.lost_sample[:3])}' if self.lost else '')
        )


def tally(
    produced: Iterable[ProducedRecord],
    archived_order_ids: Iterable[str],
    dead_letters: Iterable[RecordId],
    alerts: Iterable[Mapping],
    expected_alerts: Iterable[ExpectedAlert],
) -> DeliveryTally:
    """Counts, per produced record, how often it was archived and dead-lettered.

    Args:
        produced: The records to account for (e.g. those of one plan).
        archived_order_ids: The order id of every order in the archive, repeats included
            (an order archived twice appears twice).
        dead_letters: (topic, partition, offset) of every dead letter on the dead-letter
            topic, repeats included.
        alerts: Every alert record on the alerts topic (`alert_id`, `rule`, `order_ids`).
        expected_alerts: The ground truth's alerts.

    Returns:
        The tally. Archived orders and dead letters of records not in `produced` (another
        plan's) are ignored; so are alerts beyond the expected ones, except for the id checks.
    """
    archive_counts = collections.Counter(archived_order_ids)
    dead_letter_counts = collections.Counter(tuple(d) for d in dead_letters)
    produced = list(produced)
    archived = dead_lettered = duplicated = 0
    lost: List[RecordId] = []
    for record in produced:
        in_archive = archive_counts[record.order_id] if record.order_id is not None else 0
        in_dlq = dead_letter_counts[record.record_id]
        archived += in_archive > 0
        dead_lettered += in_dlq > 0
        duplicated += in_archive + in_dlq > 1
        if in_archive + in_dlq == 0:
            lost.append(record.record_id)
    alert_records = list(alerts)
    expected_ids = {alert.alert_id for alert in expected_alerts}
    seen_ids = [record['alert_id'] for record in alert_records]
    delivered = expected_ids & set(seen_ids)
    lost.sort()
    return DeliveryTally(
        produced=len(produced),
        archived=archived,
        dead_lettered=dead_lettered,
        lost=len(lost),
        duplicated=duplicated,
        alerts_expected=len(expected_ids),
        alerts_delivered=len(delivered),
        alert_records=len(alert_records),
        alert_repeats=len(seen_ids) - len(set(seen_ids)),
        alert_id_mismatches=alert_id_mismatches(alert_records),
        lost_sample=tuple(lost[:SAMPLE]),
        missing_alerts=tuple(sorted(expected_ids - delivered)),
    )


def alert_id_mismatches(alerts: Sequence[Mapping]) -> int:
    """Alerts (rule and order ids) not under their one deterministic id: an alert id that is
    not `fraud_rules.alert_id(rule, order_ids)`, or one alert seen under several ids."""
    ids_by_alert: Dict[Tuple, set] = collections.defaultdict(set)
    for record in alerts:
        ids_by_alert[(record['rule'], tuple(record['order_ids']))].add(record['alert_id'])
    return sum(
        1
        for (rule, order_ids), ids in ids_by_alert.items()
        if ids != {deterministic_alert_id(rule, order_ids)}
    )


def archived_ids_gone(before: Iterable[str], after: Iterable[str]) -> int:
    """How many distinct order ids the archive held `before` (e.g. when a job was killed)
    that it no longer holds `after`: files replaced, not records never written."""
    return len(set(before) - set(after))
