"""Hypothesis strategies shared by the tests: valid goldstream events.

Valid means valid for ValidateOrders too: ids of realistic shape, quantity
1..1000, a finite price > 0, an ISO 4217 currency, lat and lon in range,
a past timestamp as ISO 8601 with a zone or as epoch millis, and tax >= 0.
"""

import datetime
from typing import Any

from hypothesis import strategies as st

CURRENCIES = (
    'EUR',
    'USD',
    'GBP',
    'JPY',
    'CHF',
    'SEK',
    'NOK',
    'DKK',
    'PLN',
    'CZK',
    'CAD',
    'AUD',
    'NZD',
    'SGD',
    'HKD',
    'INR',
    'BRL',
    'MXN',
    'ZAR',
    'KRW',
)
MIN_TIMESTAMP = datetime.datetime(2000, 1, 1)
# In the past, so never "more than 1 day in the future" whenever tests run.
MAX_TIMESTAMP = datetime.datetime(2025, 12, 31)
ZONES = (
    datetime.timezone.utc,
    datetime.timezone(datetime.timedelta(hours=2)),
    datetime.timezone(datetime.timedelta(hours=-5, minutes=-30)),
    datetime.timezone(datetime.timedelta(hours=14)),
)


def prefixed_ids(prefix: str, digits: int) -> st.SearchStrategy[str]:
    """Ids like ``ord-00f3a9c2``: a prefix and lowercase hex digits."""
    return st.integers(min_value=0, max_value=16**digits - 1).map(
        lambda number: f'{prefix}-{number:0{digits}x}'
    )


def iso_timestamps() -> st.SearchStrategy[str]:
    """ISO 8601 date-times with a zone: an offset or ``Z``."""
    moments = st.datetimes(
        min_value=MIN_TIMESTAMP, max_value=MAX_TIMESTAMP, timezones=st.sampled_from(ZONES)
    )
    spec = st.sampled_from(('seconds', 'milliseconds', 'microseconds'))
    return st.builds(
        lambda moment, timespec, zulu: _iso(moment, timespec, zulu), moments, spec, st.booleans()
    )


def _iso(moment: datetime.datetime, timespec: str, zulu: bool) -> str:
    text = moment.isoformat(timespec=timespec)
    if zulu and text.endswith('+00:00'):
        text = text[: -len('+00:00')] + 'Z'
    return text


def epoch_millis() -> st.SearchStrategy[int]:
    """Milliseconds since the epoch, from 2000 to the end of 2025."""
    epoch = datetime.datetime(1970, 1, 1)
    return st.integers(
        min_value=int((MIN_TIMESTAMP - epoch).total_seconds() * 1000),
        max_value=int((MAX_TIMESTAMP - epoch).total_seconds() * 1000),
    )


def orders(version: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Valid orders as a producer of ``version`` (1 or 2) writes them.

    Version 1 orders have no ``tax`` and no ``version``; version 2 orders
    have both, with ``version == 2``.
    """
    if version not in (1, 2):
        raise ValueError(f'order version must be 1 or 2, got {version}')
    fields: dict[str, st.SearchStrategy[Any]] = {
        'order_id': prefixed_ids('ord', 16),
        'customer_id': prefixed_ids('cus', 6),
        'product_id': prefixed_ids('prd', 5),
        'quantity': st.integers(min_value=1, max_value=1000),
        'price': st.floats(min_value=0.0, max_value=1e7, exclude_min=True, allow_nan=False),
        'currency': st.sampled_from(CURRENCIES),
        'card_id': prefixed_ids('card', 12),
        'lat': st.floats(min_value=-90.0, max_value=90.0),
        'lon': st.floats(min_value=-180.0, max_value=180.0),
        'timestamp': st.one_of(iso_timestamps(), epoch_millis()),
    }
    if version == 2:
        fields['tax'] = st.floats(min_value=0.0, max_value=1e6)
        fields['version'] = st.just(2)
    return st.fixed_dictionaries(fields)
