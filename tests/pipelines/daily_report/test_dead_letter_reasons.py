"""Every dead-letter reason the pipelines can give has a meaning the report shows."""

import pytest

from connectors.codec_errors import DecodeReason
from pipelines.daily_report.dead_letter_reasons import MEANINGS, OUTSIDE_DAY, STAGE_ARCHIVE, meaning
from transforms.records import STAGE_DECODE, STAGE_VALIDATE
from transforms.validation_rules import ValidationReason

ALL_REASONS = (
    [(STAGE_DECODE, reason.value) for reason in DecodeReason]
    + [(STAGE_VALIDATE, reason.value) for reason in ValidationReason]
    + [(STAGE_ARCHIVE, OUTSIDE_DAY)]
)


@pytest.mark.parametrize('stage, reason', ALL_REASONS)
def test_every_reason_code_has_a_sentence(stage, reason):
    text = MEANINGS[stage, reason]
    assert text.endswith('.') and len(text) > 20 and reason not in text


def test_no_meaning_is_left_for_a_reason_that_does_not_exist():
    assert set(MEANINGS) == set(ALL_REASONS)


def test_an_unknown_reason_still_gets_a_sentence_naming_it():
    assert meaning('decode', 'NEW_REASON') == (
        "Reason NEW_REASON at stage decode has no description yet: see the dead letter's "
        'message on the orders.dlq topic.'
    )
