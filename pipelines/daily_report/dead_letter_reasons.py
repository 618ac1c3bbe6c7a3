"""What each dead-letter reason means, in words a reader of the daily report can act on.

A dead letter carries a stage (`decode`, `validate`, or `archive` for what the report itself
could not place) and a stable reason code. `meaning(stage, reason)` gives the sentence the
report shows beside the code; every code of `connectors.codec_errors.DecodeReason` and
`transforms.validation_rules.ValidationReason` has one (a test holds that), and a code this
module does not know still gets a sentence that says so instead of a blank.
"""

from typing import Dict, Tuple

from connectors.codec_errors import DecodeReason
from transforms.records import STAGE_DECODE, STAGE_VALIDATE
from transforms.validation_rules import ValidationReason

STAGE_ARCHIVE = 'archive'
"""Dead-letter stage of archived orders the report cannot place in its day."""
OUTSIDE_DAY = 'OUTSIDE_DAY'
"""Reason of an archived order whose event time is not in the archive folder's day."""

MEANINGS: Dict[Tuple[str, str], str] = {
    (
        STAGE_DECODE,
        DecodeReason.EMPTY.value,
    ): 'The record had no content at all: a producer sent an empty message.',
    (
        STAGE_DECODE,
        DecodeReason.NOT_UTF8.value,
    ): 'The record was not readable text (not UTF-8): a producer sent binary data or the '
    'wrong character encoding.',
    (
        STAGE_DECODE,
        DecodeReason.BAD_JSON.value,
    ): 'The record was text but not valid JSON: a producer wrote a broken or cut-off order.',
    (
        STAGE_DECODE,
        DecodeReason.NOT_AN_OBJECT.value,
    ): 'The record was JSON but not an order object (a list, number or string).',
    (
        STAGE_DECODE,
        DecodeReason.UNKNOWN_MAGIC_BYTE.value,
    ): 'The record was neither JSON nor Avro in the schema-registry format: a foreign '
    'producer wrote to the orders topic.',
    (
        STAGE_DECODE,
        DecodeReason.UNKNOWN_SCHEMA_ID.value,
    ): 'The record named an Avro schema this pipeline does not know: a producer uses a '
    'newer or unrelated schema.',
    (
        STAGE_DECODE,
        DecodeReason.TRUNCATED_AVRO.value,
    ): 'The Avro record was cut short: the message was truncated on its way.',
    (
        STAGE_DECODE,
        DecodeReason.CORRUPT_AVRO.value,
    ): 'The Avro record did not match its schema: the bytes are damaged or were written '
    'with another schema.',
    (
        STAGE_DECODE,
        DecodeReason.MISSING_FIELD.value,
    ): 'A required order field was missing: the producer sends incomplete orders.',
    (
        STAGE_DECODE,
        DecodeReason.WRONG_TYPE.value,
    ): 'An order field had the wrong type (for example a price given as text).',
    (
        STAGE_VALIDATE,
        ValidationReason.EMPTY_FIELD.value,
    ): 'An order, customer, product or card id was blank: the order cannot be attributed.',
    (
        STAGE_VALIDATE,
        ValidationReason.ORDER_ID_TOO_LONG.value,
    ): 'The order id was longer than 64 characters.',
    (
        STAGE_VALIDATE,
        ValidationReason.ID_TOO_LONG.value,
    ): 'A customer, product or card id was longer than 256 characters: a producer put '
    'something else (a document, a payload) in an id.',
    (STAGE_VALIDATE, ValidationReason.QUANTITY_OUT_OF_RANGE.value): 'The quantity was below 1.',
    (
        STAGE_VALIDATE,
        ValidationReason.NOT_FINITE.value,
    ): 'A price, tax or coordinate was not a number (NaN or infinite).',
    (
        STAGE_VALIDATE,
        ValidationReason.PRICE_NOT_POSITIVE.value,
    ): 'The price was zero or negative: a free or refunded item sent as an order.',
    (
        STAGE_VALIDATE,
        ValidationReason.UNKNOWN_CURRENCY.value,
    ): 'The currency was not an ISO 4217 code (for example "eur" or "US$"): the amount '
    'cannot be reported.',
    (
        STAGE_VALIDATE,
        ValidationReason.LAT_OUT_OF_RANGE.value,
    ): "The card location's latitude was outside -90..90.",
    (
        STAGE_VALIDATE,
        ValidationReason.LON_OUT_OF_RANGE.value,
    ): "The card location's longitude was outside -180..180.",
    (
        STAGE_VALIDATE,
        ValidationReason.BAD_TIMESTAMP.value,
    ): 'The order time was unreadable (neither ISO 8601 with a zone nor epoch milliseconds).',
    (
        STAGE_VALIDATE,
        ValidationReason.TIMESTAMP_IN_FUTURE.value,
    ): "The order time was more than a day in the future: a producer's clock is wrong.",
    (STAGE_VALIDATE, ValidationReason.TAX_NEGATIVE.value): 'The tax was negative.',
    (
        STAGE_VALIDATE,
        ValidationReason.UNKNOWN_VERSION.value,
    ): 'The order said it was of a schema version other than 1 or 2.',
    (
        STAGE_VALIDATE,
        ValidationReason.EVENT_TIME_OUT_OF_RANGE.value,
    ): 'The order time was before 1970-01-01: a producer sent a default or wrong date. Such '
    'an order cannot be placed in a window, so it is kept here whole for replay.',
    (
        STAGE_VALIDATE,
        ValidationReason.AMOUNT_OUT_OF_RANGE.value,
    ): 'The amount (price x quantity + tax) was over 10^15 or infinite: a producer sent a '
    'price or quantity that no real order has; summed, it would break every total.',
    (
        STAGE_ARCHIVE,
        OUTSIDE_DAY,
    ): "An archived order's time was not in the day of its archive folder: the archive "
    'was written by other code or moved by hand.',
}


def meaning(stage: str, reason: str) -> str:
    """The sentence for a dead letter's stage and reason; never empty."""
    return MEANINGS.get(
        (stage, reason),
        f'Reason {reason} at stage {stage} has no description yet: see the '
        "dead letter's message on the orders.dlq topic.",
    )
