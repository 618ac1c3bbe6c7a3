"""The fields of an order and their type rules, derived from ``order.v2.avsc``.

``normalise_order`` turns a mapping (decoded JSON, or a producer's dict) into
the version 2 order dict every goldstream stage sees, or says which field is
missing or has the wrong type; ``normalise_parsed`` does the same for a dict
the caller owns, faster, by reusing it when it already has that shape. Both
check types only: value rules (ranges, currency codes, timestamp formats)
belong to ValidateOrders.
"""

import math
import operator
from typing import Any, Callable, Mapping, NamedTuple

from connectors.codec_errors import DecodeError, DecodeReason, describe_value
from schemas import load_schema

READ_SCHEMA_FILE = 'order.v2.avsc'
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_REQUIRED = object()


class _FieldRule(NamedTuple):
    name: str
    expected: str  # completes "must be ..."
    normalise: Callable[[str, Any], Any]  # returns the plain value or raises
    default: Any  # _REQUIRED when the field has no default


def _wrong_type(name: str, expected: str, value: Any) -> DecodeError:
    return DecodeError(
        DecodeReason.WRONG_TYPE,
        f'field {name!r} must be {expected}, got {describe_value(value)}',
        field=name,
    )


def _string(name: str, value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    raise _wrong_type(name, 'a string', value)


def _int32(name: str, value: Any) -> int:
    if type(value) is int or (isinstance(value, int) and not isinstance(value, bool)):
        if INT32_MIN <= value <= INT32_MAX:
            return int(value)
        raise _wrong_type(name, f'an integer from {INT32_MIN} to {INT32_MAX} (Avro int)', value)
    raise _wrong_type(name, 'an integer', value)


def _double(name: str, value: Any) -> float:
    value_type = type(value)
    if value_type is float:
        return value
    if value_type is not bool and isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            raise _wrong_type(name, 'a number that fits a double', value) from None
    raise _wrong_type(name, 'a number', value)


def _string_or_long(name: str, value: Any) -> str | int:
    value_type = type(value)
    if value_type is str:
        return value
    if value_type is int or (isinstance(value, int) and not isinstance(value, bool)):
        if INT64_MIN <= value <= INT64_MAX:
            return int(value)
        raise _wrong_type(name, f'an integer from {INT64_MIN} to {INT64_MAX} (Avro long)', value)
    if isinstance(value, float):
        return _integral_float(name, value)
    if isinstance(value, str):
        return str(value)
    raise _wrong_type(name, 'a string (ISO 8601) or an integer (epoch millis)', value)


def _integral_float(name: str, value: float) -> int:
    """A float that is a whole number, as the int it equals (``1767225600000.0``).

    Some producers write every JSON number with a fraction; only a whole number
    of milliseconds is an integer, so any other float is refused, not rounded.
    """
    if not math.isfinite(value):
        raise _wrong_type(name, 'a finite whole number (epoch millis)', value)
    if not value.is_integer():
        raise _wrong_type(
            name, 'a whole number of epoch millis (this one has a fraction of a millisecond)', value
        )
    millis = int(value)  # exact: a float that is a whole number converts without rounding
    if not INT64_MIN <= millis <= INT64_MAX:
        raise _wrong_type(name, f'an integer from {INT64_MIN} to {INT64_MAX} (Avro long)', value)
    return millis


_RULES_BY_AVRO_TYPE: dict[Any, tuple[str, Callable[[str, Any], Any]]] = {
    'string': ('a string', _string),
    'int': ('an integer', _int32),
    'double': ('a number', _double),
    ('string', 'long'): ('a string (ISO 8601) or an integer (epoch millis)', _string_or_long),
}


def _rules_from_schema(schema: Mapping[str, Any]) -> tuple[_FieldRule, ...]:
    rules = []
    for field in schema['fields']:
        avro_type = field['type']
        key = tuple(avro_type) if isinstance(avro_type, list) else avro_type
        expected, normalise = _RULES_BY_AVRO_TYPE[key]
        default = field.get('default', _REQUIRED)
        rules.append(_FieldRule(field['name'], expected, normalise, default))
    return tuple(rules)


ORDER_FIELD_RULES = _rules_from_schema(load_schema(READ_SCHEMA_FILE))
ORDER_FIELDS: tuple[str, ...] = tuple(rule.name for rule in ORDER_FIELD_RULES)
"""The fields of a decoded order, in schema order."""
ORDER_DEFAULTS: dict[str, Any] = {
    rule.name: rule.default for rule in ORDER_FIELD_RULES if rule.default is not _REQUIRED
}
"""Fields a producer may leave out, with the value they then take."""


def normalise_order(order: Mapping[str, Any]) -> dict[str, Any]:
    """Checks an order's field types and returns it as a version 2 dict.

    Args:
        order: A mapping with at least the version 1 fields. Other keys are
            ignored.

    Returns:
        A new dict with exactly ``ORDER_FIELDS``, in schema order: strings as
        ``str``, ``quantity`` and ``version`` as ``int``, doubles as ``float``
        (ints are converted), ``timestamp`` as given (``str`` or ``int``);
        ``tax`` and ``version`` take their defaults when absent. A
        ``timestamp`` float that is a whole number (``1767225600000.0``, as
        some JSON producers write epoch millis) becomes that ``int``.

    Raises:
        DecodeError: MISSING_FIELD for the first absent required field,
            WRONG_TYPE for the first field of the wrong type (bool is never a
            number; a float is never an integer, except a whole, finite one as
            ``timestamp``), in schema order.
    """
    normalised = {}
    for name, expected, normalise, default in ORDER_FIELD_RULES:
        try:
            value = order[name]
        except KeyError:
            if default is _REQUIRED:
                raise DecodeError(
                    DecodeReason.MISSING_FIELD,
                    f'required field {name!r} is missing; expected {expected}',
                    field=name,
                ) from None
            normalised[name] = default
        else:
            normalised[name] = normalise(name, value)
    return normalised


# The fast path of normalise_parsed names the fields; it must follow the schema.
_FAST_PATH_FIELDS = (
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
    'tax',
    'version',
)
if ORDER_FIELDS != _FAST_PATH_FIELDS:
    raise ImportError(
        f'normalise_parsed expects fields {_FAST_PATH_FIELDS}, the schema has {ORDER_FIELDS}'
    )
_get_order_fields = operator.itemgetter(*ORDER_FIELDS)


def normalise_parsed(parsed: dict[str, Any]) -> dict[str, Any]:
    """Like ``normalise_order``, but may fill in and return ``parsed`` itself.

    For dicts the caller owns, such as freshly decoded JSON: when ``parsed``
    has exactly the order fields (after adding absent defaults) and every
    value already has its plain type, it is returned as is, saving a copy.
    Otherwise the result and errors are those of ``normalise_order``.

    Args:
        parsed: A dict that may be changed.

    Returns:
        The version 2 order dict; its keys may be in any order.

    Raises:
        DecodeError: as ``normalise_order``.
    """
    if len(parsed) != len(ORDER_FIELDS):
        for name, default in ORDER_DEFAULTS.items():
            if name not in parsed:
                parsed[name] = default
    if len(parsed) == len(ORDER_FIELDS):
        try:
            (
                order_id,
                customer_id,
                product_id,
                quantity,
                price,
                currency,
                card_id,
                lat,
                lon,
                timestamp,
                tax,
                version,
            ) = _get_order_fields(parsed)
        except KeyError:
            return normalise_order(parsed)
        if (
            type(order_id) is str
            and type(customer_id) is str
            and type(product_id) is str
            and type(quantity) is int
            and INT32_MIN <= quantity <= INT32_MAX
            and type(price) is float
            and type(currency) is str
            and type(card_id) is str
            and type(lat) is float
            and type(lon) is float
            and (
                type(timestamp) is str
                or (type(timestamp) is int and INT64_MIN <= timestamp <= INT64_MAX)
            )
            and type(tax) is float
            and type(version) is int
            and INT32_MIN <= version <= INT32_MAX
        ):
            return parsed
    return normalise_order(parsed)
