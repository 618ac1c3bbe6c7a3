"""The value rules of an order (schemas/order.v2.avsc, the data dictionary), as plain functions.

``validate_order`` turns a decoded version 2 order dict (``connectors.order_codec``:
types already checked) into a typed ``Order``, or raises ``ValidationError``
naming the first rule it breaks, with a stable ``ValidationReason``. The
rules are checked field by field in the order of ``order.v2.avsc``, so a
record breaking several rules always gets the same reason:

==================  =============================================================
field               rule (reason when broken)
==================  =============================================================
order_id            not blank (EMPTY_FIELD); at most 64 characters (ORDER_ID_TOO_LONG)
customer_id         not blank (EMPTY_FIELD); at most 256 characters (ID_TOO_LONG)
product_id          not blank (EMPTY_FIELD); at most 256 characters (ID_TOO_LONG)
quantity            at least 1 (QUANTITY_OUT_OF_RANGE)
price               finite (NOT_FINITE); greater than 0 (PRICE_NOT_POSITIVE)
currency            an ISO 4217 code, upper case (UNKNOWN_CURRENCY)
card_id             not blank (EMPTY_FIELD); at most 256 characters (ID_TOO_LONG)
lat                 finite (NOT_FINITE); -90 to 90 inclusive (LAT_OUT_OF_RANGE)
lon                 finite (NOT_FINITE); -180 to 180 inclusive (LON_OUT_OF_RANGE)
timestamp           ISO 8601 date-time with a zone, or integer epoch millis
                    (BAD_TIMESTAMP); not before 1970-01-01T00:00:00Z
                    (EVENT_TIME_OUT_OF_RANGE); at most 1 day after ``now``
                    (TIMESTAMP_IN_FUTURE)
tax                 finite (NOT_FINITE); at least 0 (TAX_NEGATIVE)
version             1 or 2 (UNKNOWN_VERSION)
(amount)            price x quantity + tax at most ``MAX_ORDER_AMOUNT``
                    (AMOUNT_OUT_OF_RANGE); checked last
==================  =============================================================

An event time before 1970 is readable data, but no event-time stage may hold it:
Prism 2.77 panics on a negative element timestamp in a grouping (the whole job
fails), and a streaming job's watermark has long passed it, so windows would drop
it as too late. Such an order is therefore a dead letter, whole and replayable,
never a crash or a silent drop (docs/poison_pills.md). The id bounds keep the
records keyed by an id (metrics by product, alerts by card) far under Kafka's 1 MB
record limit, which a 600 KB product id would break at every retry. The amount bound keeps
every sum of amounts (revenue per window, per day) finite: a price of 1e308
times a quantity of 2 is infinite, which no JSON metric can carry.

Blank means empty or only whitespace. An ISO 8601 timestamp is a calendar
date, ``T``, a time (hours, optional minutes, seconds and fraction) and a
zone (``Z`` or an offset), in the extended (``2024-05-01T12:30:00.250+02:00``)
or basic (``20240501T123000Z``) format; a date-time without a zone is refused
because its instant is unknown. Epoch millis must be a number, not a string of
digits: the decoder gives them as an ``int`` whether the producer wrote a JSON
integer, a whole JSON number such as ``1767225600000.0``, or an Avro ``long``,
plain or ``timestamp-millis``/``-micros``/``-nanos`` (docs/schemas.md). An Avro
``local-timestamp-*`` has no zone either, and is refused the same way.
"""

import datetime
import enum
import math
import re
from typing import Any, Mapping

from transforms.currencies import ISO_4217_CODES
from transforms.records import Order

MAX_ORDER_ID_LENGTH = 64
MAX_ID_LENGTH = 256
"""The most characters of a customer, product or card id."""
MAX_FUTURE_MS = 24 * 60 * 60 * 1000
"""How far after the wall clock an event time may be: 1 day, inclusive."""
MIN_EVENT_TIME_MS = 0
"""The earliest event time an order may have: 1970-01-01T00:00:00Z, inclusive."""
MAX_ORDER_AMOUNT = 1e15
"""The largest amount (price x quantity + tax) of one order, in its currency, inclusive.

Far above any real order (a thousand trillion), and small enough that adding up
amounts can never overflow a double: that would take 1e293 orders.
"""
SUPPORTED_VERSIONS = (1, 2)

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MIN_EVENT_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z, the first instant datetime knows
_ISO_DATE_TIME = re.compile(
    r'\d{4}(-?)\d{2}\1\d{2}'  # date, extended or basic
    r'T\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?'  # T, time
    r'(?:Z|[+-]\d{2}(?::?\d{2})?)',  # zone
    re.ASCII,
)


class ValidationReason(str, enum.Enum):
    """Reason codes of ValidateOrders; each value equals its name."""

    EMPTY_FIELD = 'EMPTY_FIELD'
    """order_id, customer_id, product_id or card_id is empty or blank."""
    ORDER_ID_TOO_LONG = 'ORDER_ID_TOO_LONG'
    """order_id has more than 64 characters."""
    ID_TOO_LONG = 'ID_TOO_LONG'
    """customer_id, product_id or card_id has more than 256 characters."""
    QUANTITY_OUT_OF_RANGE = 'QUANTITY_OUT_OF_RANGE'
    """quantity is less than 1."""
    NOT_FINITE = 'NOT_FINITE'
    """price, tax, lat or lon is NaN or infinite (possible in Avro)."""
    PRICE_NOT_POSITIVE = 'PRICE_NOT_POSITIVE'
    """price is 0 or less."""
    UNKNOWN_CURRENCY = 'UNKNOWN_CURRENCY'
    """currency is not an ISO 4217 code (codes are upper case)."""
    LAT_OUT_OF_RANGE = 'LAT_OUT_OF_RANGE'
    """lat is outside -90..90."""
    LON_OUT_OF_RANGE = 'LON_OUT_OF_RANGE'
    """lon is outside -180..180."""
    BAD_TIMESTAMP = 'BAD_TIMESTAMP'
    """timestamp is neither an ISO 8601 date-time with a zone nor epoch millis."""
    TIMESTAMP_IN_FUTURE = 'TIMESTAMP_IN_FUTURE'
    """timestamp is more than 1 day after the wall clock."""
    TAX_NEGATIVE = 'TAX_NEGATIVE'
    """tax is less than 0."""
    UNKNOWN_VERSION = 'UNKNOWN_VERSION'
    """version is neither 1 nor 2."""
    EVENT_TIME_OUT_OF_RANGE = 'EVENT_TIME_OUT_OF_RANGE'
    """timestamp is before 1970-01-01T00:00:00Z, which event-time stages cannot hold."""
    AMOUNT_OUT_OF_RANGE = 'AMOUNT_OUT_OF_RANGE'
    """price x quantity + tax is over MAX_ORDER_AMOUNT (or overflows to infinity)."""

    def __str__(self) -> str:
        return self.value


class ValidationError(ValueError):
    """An order breaks a value rule.

    Attributes:
        reason: The reason code.
        message: A sentence that says what was wrong and what was expected.
        field: The field at fault.
    """

    def __init__(self, reason: ValidationReason, message: str, field: str) -> None:
        super().__init__(reason, message, field)
        self.reason = reason
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f'{self.reason.value}: {self.message}'


def validate_order(fields: Mapping[str, Any], now_ms: int) -> Order:
    """Checks a decoded order against every value rule and types it.

    Args:
        fields: A version 2 order dict as ``connectors.order_codec`` decodes
            it (every field present, types checked).
        now_ms: The wall clock, epoch milliseconds, for the future bound.

    Returns:
        The ``Order``, with ``timestamp`` as text and ``event_time_ms`` parsed.

    Raises:
        ValidationError: for the first rule broken, in field order.
        KeyError: If a field is missing (not a decoder's output; a caller error).
    """
    order_id = fields['order_id']
    _require_not_blank('order_id', order_id)
    if len(order_id) > MAX_ORDER_ID_LENGTH:
        raise ValidationError(
            ValidationReason.ORDER_ID_TOO_LONG,
            f'order_id has {len(order_id)} characters; at most {MAX_ORDER_ID_LENGTH} are allowed',
            'order_id',
        )
    customer_id = fields['customer_id']
    _require_id('customer_id', customer_id)
    product_id = fields['product_id']
    _require_id('product_id', product_id)
    quantity = fields['quantity']
    if quantity < 1:
        raise ValidationError(
            ValidationReason.QUANTITY_OUT_OF_RANGE,
            f'quantity must be at least 1, got {quantity}',
            'quantity',
        )
    price = fields['price']
    _require_finite('price', price)
    if price <= 0.0:
        raise ValidationError(
            ValidationReason.PRICE_NOT_POSITIVE,
            f'price must be greater than 0, got {price!r}',
            'price',
        )
    currency = fields['currency']
    if currency not in ISO_4217_CODES:
        hint = ' (codes are upper case)' if currency.upper() in ISO_4217_CODES else ''
        raise ValidationError(
            ValidationReason.UNKNOWN_CURRENCY,
            f'currency {currency[:16]!r} is not an ISO 4217 code{hint}',
            'currency',
        )
    card_id = fields['card_id']
    _require_id('card_id', card_id)
    lat = fields['lat']
    _require_finite('lat', lat)
    if not -90.0 <= lat <= 90.0:
        raise ValidationError(
            ValidationReason.LAT_OUT_OF_RANGE, f'lat must be from -90 to 90, got {lat!r}', 'lat'
        )
    lon = fields['lon']
    _require_finite('lon', lon)
    if not -180.0 <= lon <= 180.0:
        raise ValidationError(
            ValidationReason.LON_OUT_OF_RANGE, f'lon must be from -180 to 180, got {lon!r}', 'lon'
        )
    timestamp = fields['timestamp']
    event_time_ms = parse_event_time(timestamp)
    if event_time_ms < MIN_EVENT_TIME_MS:
        raise ValidationError(
            ValidationReason.EVENT_TIME_OUT_OF_RANGE,
            f'timestamp {_shown(timestamp)!r} is before 1970-01-01T00:00:00Z; the pipeline '
            'keeps such an order as a dead letter (its event time cannot be windowed)',
            'timestamp',
        )
    if event_time_ms - now_ms > MAX_FUTURE_MS:
        ahead_h = (event_time_ms - now_ms) / 3_600_000
        raise ValidationError(
            ValidationReason.TIMESTAMP_IN_FUTURE,
            f'timestamp {timestamp!r} is {ahead_h:.1f} h after the wall clock; '
            'at most 24 h ahead is allowed',
            'timestamp',
        )
    tax = fields['tax']
    _require_finite('tax', tax)
    if tax < 0.0:
        raise ValidationError(
            ValidationReason.TAX_NEGATIVE, f'tax must be at least 0, got {tax!r}', 'tax'
        )
    version = fields['version']
    if version not in SUPPORTED_VERSIONS:
        raise ValidationError(
            ValidationReason.UNKNOWN_VERSION, f'version must be 1 or 2, got {version!r}', 'version'
        )
    amount = price * quantity + tax
    if not amount <= MAX_ORDER_AMOUNT:  # also catches an overflow to inf
        raise ValidationError(
            ValidationReason.AMOUNT_OUT_OF_RANGE,
            f'price x quantity + tax is {amount!r}; at most {MAX_ORDER_AMOUNT:g} is allowed',
            'price',
        )
    return Order(
        order_id,
        customer_id,
        product_id,
        quantity,
        price,
        currency,
        card_id,
        lat,
        lon,
        str(timestamp),
        tax,
        version,
        event_time_ms,
    )


def parse_event_time(timestamp: Any) -> int:
    """Parses an order's ``timestamp`` field into epoch milliseconds.

    Args:
        timestamp: An ISO 8601 date-time string with a zone, or an int of
            epoch milliseconds.

    Returns:
        Milliseconds since 1970-01-01T00:00:00Z; sub-millisecond digits are
        cut towards the past.

    Raises:
        ValidationError: BAD_TIMESTAMP, for any other value (the message
            says when it is a date-time without a zone).
    """
    if type(timestamp) is int:
        if timestamp < _MIN_EVENT_MS:
            raise ValidationError(
                ValidationReason.BAD_TIMESTAMP,
                f'timestamp {timestamp} is before year 1; expected epoch milliseconds',
                'timestamp',
            )
        return timestamp
    if isinstance(timestamp, datetime.datetime) and timestamp.tzinfo is None:
        raise ValidationError(
            ValidationReason.BAD_TIMESTAMP,
            f'timestamp {timestamp.isoformat()} has no zone (an Avro local-timestamp), so its '
            'instant is unknown; expected timestamp-millis or timestamp-micros, an ISO 8601 '
            'date-time with a zone, or epoch millis',
            'timestamp',
        )
    if not isinstance(timestamp, str):
        raise ValidationError(
            ValidationReason.BAD_TIMESTAMP,
            f'timestamp must be an ISO 8601 string or epoch millis, got {type(timestamp).__name__}',
            'timestamp',
        )
    shown = _shown(timestamp)
    if not _ISO_DATE_TIME.fullmatch(timestamp):
        if timestamp.isdigit():
            detail = 'epoch millis must be a number, not a string'
        elif _ISO_DATE_TIME.fullmatch(timestamp + 'Z'):
            detail = 'it has no zone (add Z or an offset such as +02:00)'
        else:
            detail = (
                'expected an ISO 8601 date-time with a zone, '
                "e.g. '2024-05-01T12:30:00.250+02:00' or '...Z', or epoch millis"
            )
        raise ValidationError(
            ValidationReason.BAD_TIMESTAMP, f'timestamp {shown!r}: {detail}', 'timestamp'
        )
    try:
        moment = datetime.datetime.fromisoformat(timestamp)
    except ValueError as exc:
        raise ValidationError(
            ValidationReason.BAD_TIMESTAMP,
            f'timestamp {shown!r} is not a valid date-time: {exc}',
            'timestamp',
        ) from None
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def _shown(timestamp: Any) -> Any:
    """A timestamp as a message quotes it: text over 40 characters is cut."""
    if isinstance(timestamp, str) and len(timestamp) > 40:
        return timestamp[:37] + '...'
    return timestamp


def _require_not_blank(name: str, value: str) -> None:
    if not value or value.isspace():
        raise ValidationError(
            ValidationReason.EMPTY_FIELD,
            f'{name} is {"blank" if value else "empty"}; it is required',
            name,
        )


def _require_id(name: str, value: str) -> None:
    _require_not_blank(name, value)
    if len(value) > MAX_ID_LENGTH:
        raise ValidationError(
            ValidationReason.ID_TOO_LONG,
            f'{name} has {len(value)} characters; at most {MAX_ID_LENGTH} are allowed',
            name,
        )


def _require_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError(
            ValidationReason.NOT_FINITE, f'{name} must be a finite number, got {value!r}', name
        )
