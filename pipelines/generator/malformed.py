"""Malformed records: one builder per dead-letter reason the pipeline knows.

``MALFORMATIONS`` lists a ``Malformation`` for every ``DecodeReason`` of
``connectors.codec_errors`` (stage ``decode``) and every ``ValidationReason``
of ``transforms.validation_rules`` (stage ``validate``), in that order; the
planner deals them out round-robin, so each appears once there are as many
malformed records as kinds. Each builder starts from a valid order and breaks
exactly one thing, so the record fails at that stage with that reason and no
other (the validation rules are checked in field order: everything before the
broken field stays valid). Variants (which field, which bad value) are drawn
from the ``rng``.

Malformations that only exist in one format use that format whatever the
traffic's format: JSON for NOT_UTF8, BAD_JSON, NOT_AN_OBJECT, MISSING_FIELD,
WRONG_TYPE and UNKNOWN_VERSION; Avro for UNKNOWN_MAGIC_BYTE,
UNKNOWN_SCHEMA_ID, TRUNCATED_AVRO, CORRUPT_AVRO and NOT_FINITE (JSON has no
NaN). The others keep the draft's format.

TIMESTAMP_IN_FUTURE is the one wall-clock dependence of a plan: its
timestamp is 2 days (plus up to 12 h) after ``now_ms``, the wall clock when
the plan is made, so it stays more than the allowed 1 day ahead for at least
a day after planning.
"""

import json
import random
from typing import Any, Callable, Dict, NamedTuple, Tuple

from connectors.avro_wire import HEADER_SIZE, frame
from connectors.codec_errors import DecodeReason
from pipelines.generator.orders import OrderDraft, encode_fields, render_timestamp

STAGE_DECODE = 'decode'
STAGE_VALIDATE = 'validate'
UNKNOWN_SCHEMA_IDS = (1000, 2**31 - 1)
"""The range unknown schema ids are drawn from; the project's catalogue has none there."""
FUTURE_MS = 2 * 86_400_000

Rng = random.Random
Builder = Callable[[Rng, OrderDraft, str, int], bytes]


class Malformation(NamedTuple):
    """A way to break a record.

    Attributes:
        stage: ``decode`` or ``validate``: the stage that must reject it.
        reason: The reason code that stage must give.
        build: ``build(rng, draft, order_id, now_ms) -> value``: the record,
            from a valid draft and id.
    """

    stage: str
    reason: str
    build: Builder

    @property
    def label(self) -> str:
        """``stage/REASON``, as the ground truth counts dead letters."""
        return f'{self.stage}/{self.reason}'


def _fields(draft: OrderDraft, order_id_: str, **changes: Any) -> Dict[str, Any]:
    fields = draft.fields(order_id_)
    fields.update(changes)
    return fields


def _json(fields: Any) -> bytes:  # an object, or not: some malformations are lists
    return json.dumps(fields, separators=(',', ':'), ensure_ascii=False).encode('utf-8')


def _avro(draft: OrderDraft, order_id_: str, **changes: Any) -> bytes:
    version = 2 if 'tax' in changes else draft.version
    return encode_fields(_fields(draft, order_id_, **changes), 'avro', version)


def _as_drafted(draft: OrderDraft, order_id_: str, **changes: Any) -> bytes:
    """The draft with ``changes`` applied, in the draft's format (version 2 if tax changes)."""
    version = 2 if 'tax' in changes else draft.version
    return encode_fields(_fields(draft, order_id_, **changes), draft.fmt, version)


# Stage decode ------------------------------------------------------------------------------


def _empty(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return b''


def _not_utf8(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    marker = 'GOLDSTREAM-MARKER'
    text = _json(_fields(draft, order_id, customer_id=marker))
    bad = rng.choice((b'\xff', b'\xc3\x28', b'\x80', b'\xed\xa0\x80'))
    return text.replace(marker.encode(), draft.customer_id.encode() + bad)


def _bad_json(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    text = _json(draft.fields(order_id))
    variant = rng.randrange(3)
    if variant == 0:  # cut short
        return text[: rng.randint(1, len(text) - 1)]
    if variant == 1:  # a trailing comma
        return text[:-1] + b',}'
    return text.replace(b'"', b"'")  # single quotes


def _not_an_object(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    fields = draft.fields(order_id)
    variant = rng.randrange(4)
    if variant == 0:
        return _json(list(fields.values()))
    if variant == 1:
        return json.dumps(order_id).encode()
    if variant == 2:
        return str(draft.quantity).encode()
    return b'null'


_CONTROL_BYTES = tuple(b for b in range(1, 0x20) if b not in b'\t\n\r')


def _unknown_magic_byte(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return bytes([rng.choice(_CONTROL_BYTES)]) + _avro(draft, order_id)[1:]


def _unknown_schema_id(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return frame(rng.randint(*UNKNOWN_SCHEMA_IDS), _avro(draft, order_id)[HEADER_SIZE:])


def _truncated_avro(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    # Cut in the header or inside order_id (the first field), never inside a multi-byte
    # number such as a millis timestamp: the codec reports a number cut short as
    # CORRUPT_AVRO (fastavro raises IndexError there, not EOFError).
    raw = _avro(draft, order_id)
    first_string_end = HEADER_SIZE + 1 + len(order_id.encode('utf-8'))
    return raw[
        : rng.choice(
            (rng.randint(1, HEADER_SIZE - 1), rng.randint(HEADER_SIZE, first_string_end - 1))
        )
    ]


def _corrupt_avro(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    raw = _avro(draft, order_id)
    if rng.random() < 0.5:  # bytes after the record
        return raw + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    # order_id's length (the first value of the body) made negative: zig-zag 1 is -1
    return raw[:HEADER_SIZE] + b'\x01' + raw[HEADER_SIZE + 1 :]


_REQUIRED = (
    'order_id',
    'customer_id',
    'product_id',
    'quantity',
    'price',
    'currency',
    'card_id',
    'lat',
    'lon',
    'timestamp',
)


def _missing_field(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    fields = draft.fields(order_id)
    del fields[rng.choice(_REQUIRED)]
    return _json(fields)


def _wrong_type(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    fields = draft.fields(order_id)
    variant = rng.randrange(6)
    if variant == 0:
        fields['quantity'] = str(draft.quantity)
    elif variant == 1:
        fields['quantity'] = draft.quantity + 0.5
    elif variant == 2:
        fields['price'] = f'{fields["price"]:.2f}'
    elif variant == 3:
        fields['lat'] = str(fields['lat'])
    elif variant == 4:
        fields['card_id'] = rng.randint(10_000, 99_999)
    else:
        fields['timestamp'] = True
    return _json(fields)


# Stage validate ----------------------------------------------------------------------------


def _empty_field(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    name = rng.choice(('order_id', 'customer_id', 'product_id', 'card_id'))
    return _as_drafted(draft, order_id, **{name: rng.choice(('', ' ', '   ', '\t'))})


def _order_id_too_long(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    padded = f'{order_id}-' + 'x' * rng.randint(65, 100)
    return _as_drafted(draft, order_id, order_id=padded[: rng.randint(65, len(padded))])


def _quantity_out_of_range(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _as_drafted(draft, order_id, quantity=rng.choice((0, -1, -rng.randint(2, 50))))


def _not_finite(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    name = rng.choice(('price', 'lat', 'lon', 'tax'))
    return _avro(draft, order_id, **{name: rng.choice((float('nan'), float('inf'), float('-inf')))})


def _price_not_positive(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _as_drafted(draft, order_id, price=rng.choice((0.0, -draft.price_cents / 100)))


def _unknown_currency(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _as_drafted(draft, order_id, currency=rng.choice(('XYZ', 'eur', 'BTC', 'EURO', 'US$')))


def _lat_out_of_range(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _as_drafted(draft, order_id, lat=rng.choice((1, -1)) * rng.uniform(90.001, 180.0))


def _lon_out_of_range(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _as_drafted(draft, order_id, lon=rng.choice((1, -1)) * rng.uniform(180.001, 360.0))


def _bad_timestamp(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    iso = render_timestamp(draft.event_time_ms, 'iso_z')
    timestamp = rng.choice(
        (
            iso[:-1],  # no zone
            iso[:10].replace('-', '/') + ' ' + iso[11:19],
            str(draft.event_time_ms),  # epoch millis as a string
            iso[:5] + '02-30' + iso[10:],  # no such day
            'yesterday',
            -(10**14),  # before year 1
        )
    )
    return _as_drafted(draft, order_id, timestamp=timestamp)


def _timestamp_in_future(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    future_ms = now_ms + FUTURE_MS + rng.randrange(12 * 3_600_000)
    style = rng.choice(('millis', 'iso_z', 'iso_offset'))
    return _as_drafted(
        draft, order_id, timestamp=render_timestamp(future_ms, style, draft.utc_offset_min)
    )


def _tax_negative(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _as_drafted(draft, order_id, tax=-rng.randint(1, 5_000) / 100)


def _unknown_version(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _json(_fields(draft, order_id, version=rng.choice((0, 3, 4, -1))))


def _event_time_out_of_range(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _as_drafted(
        draft,
        order_id,
        timestamp=rng.choice(
            (
                -1,  # a producer's "no time"
                -rng.randrange(1, 62_135_596_800_000),  # any time from year 1 to 1969
                '1969-07-20T20:17:40Z',
                '1970-01-01T00:59:59.999+01:00',  # 1969-12-31T23:59:59.999Z
            )
        ),
    )


def _amount_out_of_range(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    return _as_drafted(
        draft,
        order_id,
        **rng.choice(
            (
                {'price': 1e308, 'quantity': 2},  # overflows to infinity
                {'price': 1.5e15},  # over 10^15 however many
                {'price': 1e12, 'quantity': rng.randint(1_001, 100_000)},
            )
        ),
    )


def _id_too_long(rng: Rng, draft: OrderDraft, order_id: str, now_ms: int) -> bytes:
    name = rng.choice(('customer_id', 'product_id', 'card_id'))
    return _as_drafted(draft, order_id, **{name: 'x' * rng.randint(257, 2_000)})


MALFORMATIONS: Tuple[Malformation, ...] = (
    Malformation(STAGE_DECODE, DecodeReason.EMPTY.value, _empty),
    Malformation(STAGE_DECODE, DecodeReason.NOT_UTF8.value, _not_utf8),
    Malformation(STAGE_DECODE, DecodeReason.BAD_JSON.value, _bad_json),
    Malformation(STAGE_DECODE, DecodeReason.NOT_AN_OBJECT.value, _not_an_object),
    Malformation(STAGE_DECODE, DecodeReason.UNKNOWN_MAGIC_BYTE.value, _unknown_magic_byte),
    Malformation(STAGE_DECODE, DecodeReason.UNKNOWN_SCHEMA_ID.value, _unknown_schema_id),
    Malformation(STAGE_DECODE, DecodeReason.TRUNCATED_AVRO.value, _truncated_avro),
    Malformation(STAGE_DECODE, DecodeReason.CORRUPT_AVRO.value, _corrupt_avro),
    Malformation(STAGE_DECODE, DecodeReason.MISSING_FIELD.value, _missing_field),
    Malformation(STAGE_DECODE, DecodeReason.WRONG_TYPE.value, _wrong_type),
    # The codes of transforms.validation_rules.ValidationReason (a test keeps them in step).
    Malformation(STAGE_VALIDATE, 'EMPTY_FIELD', _empty_field),
    Malformation(STAGE_VALIDATE, 'ORDER_ID_TOO_LONG', _order_id_too_long),
    Malformation(STAGE_VALIDATE, 'QUANTITY_OUT_OF_RANGE', _quantity_out_of_range),
    Malformation(STAGE_VALIDATE, 'NOT_FINITE', _not_finite),
    Malformation(STAGE_VALIDATE, 'PRICE_NOT_POSITIVE', _price_not_positive),
    Malformation(STAGE_VALIDATE, 'UNKNOWN_CURRENCY', _unknown_currency),
    Malformation(STAGE_VALIDATE, 'LAT_OUT_OF_RANGE', _lat_out_of_range),
    Malformation(STAGE_VALIDATE, 'LON_OUT_OF_RANGE', _lon_out_of_range),
    Malformation(STAGE_VALIDATE, 'BAD_TIMESTAMP', _bad_timestamp),
    Malformation(STAGE_VALIDATE, 'TIMESTAMP_IN_FUTURE', _timestamp_in_future),
    Malformation(STAGE_VALIDATE, 'TAX_NEGATIVE', _tax_negative),
    Malformation(STAGE_VALIDATE, 'UNKNOWN_VERSION', _unknown_version),
    Malformation(STAGE_VALIDATE, 'EVENT_TIME_OUT_OF_RANGE', _event_time_out_of_range),
    Malformation(STAGE_VALIDATE, 'AMOUNT_OUT_OF_RANGE', _amount_out_of_range),
    Malformation(STAGE_VALIDATE, 'ID_TOO_LONG', _id_too_long),
)
"""Every malformation, decode stage first; ``MALFORMATIONS[k % len]`` is the k-th one dealt."""
