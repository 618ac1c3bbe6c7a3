"""Orders as JSON: one UTF-8 JSON object per record.

Decoding checks field types (see ``order_fields``) and ignores fields it does
not know; it does not check values.
"""

import json
from typing import Any, Mapping, NoReturn

from connectors.codec_errors import DecodeError, DecodeReason
from connectors.order_fields import normalise_order, normalise_parsed


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f'{name} is not valid JSON (JSON has no NaN or Infinity)')


# One decoder for the process: json.loads builds a new one when given options.
_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_JSON_TYPE_NAMES = {
    list: 'an array',
    str: 'a string',
    int: 'a number',
    float: 'a number',
    bool: 'a boolean',
    type(None): 'null',
}


def encode_order_json(order: Mapping[str, Any]) -> bytes:
    """Encodes an order as compact UTF-8 JSON.

    Args:
        order: An order with at least the version 1 fields (extra keys are
            left out).

    Returns:
        The JSON object, with every order field (``tax`` and ``version`` take
        their defaults when absent), without spaces.

    Raises:
        ValueError: If a field is missing or has the wrong type, or a string
            is not valid Unicode text.
    """
    try:
        normalised = normalise_order(order)
    except DecodeError as exc:
        raise ValueError(f'cannot encode order as JSON: {exc.message}') from exc
    text = json.dumps(normalised, separators=(',', ':'), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError as exc:
        raise ValueError(
            f'cannot encode order as JSON: a string is not valid Unicode text ({exc.reason})'
        ) from exc


def decode_json_order(raw: bytes) -> dict[str, Any]:
    """Decodes one JSON order.

    Args:
        raw: UTF-8 JSON text holding one object.

    Returns:
        The version 2 order dict of ``order_fields.normalise_order`` (its keys
        in the order of the JSON text when no field needed converting).

    Raises:
        DecodeError: NOT_UTF8, BAD_JSON (including NaN and Infinity),
            NOT_AN_OBJECT, MISSING_FIELD or WRONG_TYPE.
    """
    try:
        text = str(raw, 'utf-8')
    except UnicodeDecodeError as exc:
        raise DecodeError(
            DecodeReason.NOT_UTF8,
            f'the JSON order is not valid UTF-8 at offset {exc.start} (byte '
            f'0x{raw[exc.start]:02x}: {exc.reason}); expected UTF-8 text',
        ) from None
    try:
        parsed = _JSON_DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise DecodeError(
            DecodeReason.BAD_JSON,
            f'not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; '
            'expected one JSON object',
        ) from None
    except (ValueError, RecursionError) as exc:  # NaN, huge ints, deep nesting
        raise DecodeError(DecodeReason.BAD_JSON, f'not valid JSON: {exc}') from None
    if type(parsed) is not dict:
        raise DecodeError(
            DecodeReason.NOT_AN_OBJECT,
            f'an order must be a JSON object {{...}}, got {_JSON_TYPE_NAMES[type(parsed)]}',
        )
    order = normalise_parsed(parsed)
    if '\\u' in text:  # only \u escapes can make unpaired surrogates
        _check_unicode(order)
    return order


def _check_unicode(order: dict[str, Any]) -> None:
    for name, value in order.items():
        if type(value) is str:
            try:
                value.encode('utf-8')
            except UnicodeEncodeError:
                raise DecodeError(
                    DecodeReason.NOT_UTF8,
                    f'field {name!r} holds an unpaired surrogate escape (\\ud800 to \\udfff), '
                    'which is not valid Unicode text',
                    field=name,
                ) from None
