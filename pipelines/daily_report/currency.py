"""Currencies in the daily report: amounts are never added up across currencies.

Without a rates file every revenue figure is kept per currency: the report's tables carry a
`currency` column and rank within it. With a rates file (`--rates_file`) every amount is
converted into the file's report currency first, and the tables hold that one currency.

The rates file is JSON::

    {"currency": "EUR",                       # the report currency
     "rates": {"USD": 0.92, "GBP": 1.17}}     # 1 unit of the key is worth this many EUR

The report currency's own rate is 1 and may be left out. An order in a currency the file
does not list fails the report with a message naming the currency: a silent guess would put
a wrong figure in front of a manager.
"""

import json
import math
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

from apache_beam.io.filesystems import FileSystems

from transforms.currencies import ISO_4217_CODES
from transforms.windowed_counts import units_and_revenue

KEY_SEPARATOR = '\x1f'
"""Joins a currency and a table key into one `CountPerWindow` key (a unit separator, which
no currency code or id holds)."""


class CurrencyRates(NamedTuple):
    """Conversion rates into one report currency.

    Attributes:
        currency: The ISO 4217 code every amount is converted into.
        rates: Per ISO 4217 code, what one unit of it is worth in `currency` (`currency`
            itself included, at 1.0).
    """

    currency: str
    rates: Dict[str, float]

    def rate(self, currency: str) -> float:
        """What one unit of `currency` is worth in the report currency.

        Raises:
            ValueError: If the rates do not list `currency`.
        """
        try:
            return self.rates[currency]
        except KeyError:
            raise ValueError(
                f'the rates file has no rate for {currency} (report currency '
                f'{self.currency}): add "{currency}": <value of 1 {currency} in '
                f'{self.currency}> to its "rates"'
            ) from None


def parse_rates(data: Any, origin: str = 'rates file') -> CurrencyRates:
    """Checks a parsed rates document (see the module docstring) and returns its rates.

    Raises:
        ValueError: Naming `origin` and what is wrong: no report currency, a code that is
            not ISO 4217, or a rate that is not a positive finite number.
    """
    if not isinstance(data, dict) or not isinstance(data.get('rates'), dict):
        raise ValueError(
            f'{origin}: expected a JSON object {{"currency": "EUR", "rates": {{"USD": 0.92, ...}}}}'
        )
    currency = data.get('currency')
    if currency not in ISO_4217_CODES:
        raise ValueError(
            f'{origin}: "currency" must be an ISO 4217 code such as "EUR", got {currency!r}'
        )
    rates = {currency: 1.0}
    for code, rate in data['rates'].items():
        if code not in ISO_4217_CODES:
            raise ValueError(f'{origin}: {code!r} is not an ISO 4217 currency code')
        if (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not math.isfinite(rate)
            or rate <= 0
        ):
            raise ValueError(f'{origin}: the rate of {code} must be a number above 0, got {rate!r}')
        if code == currency and rate != 1:
            raise ValueError(
                f'{origin}: the rate of the report currency {code} must be 1, got {rate!r}'
            )
        rates[code] = float(rate)
    return CurrencyRates(currency, rates)


def load_rates(path: Optional[str]) -> Optional[CurrencyRates]:
    """Reads a rates file (any Beam filesystem); None for no path.

    Raises:
        ValueError: If the file is missing, not JSON, or not a valid rates document.
    """
    if not path:
        return None
    if not FileSystems.exists(path):
        raise ValueError(
            f'--rates_file {path} does not exist: give a JSON file of rates, '
            'or leave the option out to report each currency apart'
        )
    with FileSystems.open(path) as handle:
        text = handle.read().decode('utf-8')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f'--rates_file {path} is not JSON: {error}') from None
    return parse_rates(data, f'--rates_file {path}')


def currency_label(currency: str, rates: Optional[CurrencyRates]) -> str:
    """The currency an order's amounts are reported in: its own, or the report currency."""
    return rates.currency if rates is not None else currency


def split_key(key: str) -> Tuple[str, str]:
    """(currency, table key) of a key made by `ByCurrency`."""
    currency, _, rest = key.partition(KEY_SEPARATOR)
    return currency, rest


class ByCurrency:
    """A `CountPerWindow` key function: the reported currency joined with `key_fn`'s key.

    Picklable, so the pipeline can ship it to workers.
    """

    def __init__(self, key_fn: Callable[[Any], str], rates: Optional[CurrencyRates]):
        self._key_fn = key_fn
        self._rates = rates

    def __call__(self, element: Any) -> str:
        currency = currency_label(element.order.currency, self._rates)
        return f'{currency}{KEY_SEPARATOR}{self._key_fn(element)}'


class ConvertedAmount:
    """A `CountPerWindow` value function: (units, amount in the reported currency).

    Raises (when called):
        ValueError: If rates are given and lack the order's currency.
    """

    def __init__(self, rates: Optional[CurrencyRates]):
        self._rates = rates

    def __call__(self, element: Any) -> Tuple[int, float]:
        units, amount = units_and_revenue(element)
        if self._rates is None:
            return units, amount
        return units, amount * self._rates.rate(element.order.currency)
