"""Malformed records fail where the ground truth says: the decoder's or the validator's reason."""

import collections
import random

import pytest

from connectors.codec_errors import DecodeError, DecodeReason
from connectors.order_codec import decode_order
from pipelines.generator.malformed import FUTURE_MS, MALFORMATIONS, STAGE_DECODE, STAGE_VALIDATE
from pipelines.generator.orders import OrderFactory
from pipelines.generator.reference_data import build_reference_data
from tests.pipelines.conftest import PLAN_NOW_MS
from transforms import records
from transforms.validation_rules import ValidationError, ValidationReason, validate_order

EVERY_LABEL = {f'{STAGE_DECODE}/{reason.value}' for reason in DecodeReason} | {
    f'{STAGE_VALIDATE}/{reason.value}' for reason in ValidationReason
}


def dead_letter_label(raw: bytes, now_ms: int) -> str:
    """``stage/REASON`` the pipeline's decode and validate stages give a record, or 'valid'."""
    try:
        fields = decode_order(raw)
    except DecodeError as exc:
        return f'{STAGE_DECODE}/{exc.reason.value}'
    try:
        validate_order(fields, now_ms)
    except ValidationError as exc:
        return f'{STAGE_VALIDATE}/{exc.reason.value}'
    return 'valid'


def test_the_malformations_cover_every_reason_code_of_both_stages_once():
    assert (STAGE_DECODE, STAGE_VALIDATE) == (records.STAGE_DECODE, records.STAGE_VALIDATE)
    labels = [m.label for m in MALFORMATIONS]
    assert len(labels) == len(set(labels))
    assert set(labels) == EVERY_LABEL


def test_every_malformed_record_fails_at_its_planned_stage_with_its_planned_reason(default_plan):
    checked = 0
    for record in default_plan.records:
        if record.dead_letter is not None:
            assert dead_letter_label(record.value, PLAN_NOW_MS) == record.dead_letter, record
            checked += 1
    assert checked == default_plan.ground_truth.dead_letters.total == 100


def test_every_kind_appears_with_the_default_rate_and_5000_records(default_plan):
    by_reason = default_plan.ground_truth.dead_letters.by_reason
    assert set(by_reason) == EVERY_LABEL
    assert min(by_reason.values()) >= 4  # 100 records dealt round-robin over 22 kinds
    assert sum(by_reason.values()) == 100


@pytest.mark.parametrize('fmt', ['json', 'avro'])
@pytest.mark.parametrize('malformation', MALFORMATIONS, ids=lambda m: m.label)
def test_each_malformation_gives_its_reason_in_every_variant(malformation, fmt):
    factory = OrderFactory(random.Random(fmt), build_reference_data(), fmt)
    rng = random.Random(malformation.label)
    for n in range(60):
        card = factory.card(f'card-{n:06d}')
        draft = factory.order(card, 1_794_988_800_000 + n * 997)
        raw = malformation.build(rng, draft, f'ord-1-{n:08d}', PLAN_NOW_MS)
        assert dead_letter_label(raw, PLAN_NOW_MS) == malformation.label, raw


def test_future_timestamps_stay_more_than_a_day_ahead_for_a_day_after_planning(default_plan):
    future = [r for r in default_plan.records if r.dead_letter == 'validate/TIMESTAMP_IN_FUTURE']
    assert future
    a_day_later = PLAN_NOW_MS + 86_400_000 - 1
    for record in future:
        assert dead_letter_label(record.value, a_day_later) == record.dead_letter
    assert FUTURE_MS == 2 * 86_400_000


def test_malformed_records_are_keyed_by_a_background_card_and_spread_over_the_stream(default_plan):
    background_cards = {r.key for r in default_plan.records if r.kind == 'order'}
    malformed = [r for r in default_plan.records if r.dead_letter is not None]
    assert {r.key for r in malformed} <= background_cards
    config = default_plan.config
    halves = collections.Counter(
        (r.event_time_ms - config.start_ms) * 2 // config.span_ms for r in malformed
    )
    assert set(halves) == {0, 1}
    assert all(r.order_id is None for r in malformed)


def test_the_ground_truth_names_every_malformed_record_by_its_gen_id(default_plan):
    by_gen_id = default_plan.ground_truth.dead_letters.by_gen_id
    assert by_gen_id == {
        r.gen_id: r.dead_letter for r in default_plan.records if r.dead_letter is not None
    }
    assert (
        collections.Counter(by_gen_id.values()) == default_plan.ground_truth.dead_letters.by_reason
    )
