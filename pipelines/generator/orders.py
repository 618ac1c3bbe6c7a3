"""Valid orders for generated traffic: cards, order drafts and their encoding.

An ``OrderDraft`` is an order before it has an id: money in whole cents (so
amounts and revenue are exact), the event time in epoch ms, and how it goes
on the wire (JSON or Avro, schema version 1 or 2, and the timestamp style).
``encode_draft`` turns a draft and its id into the record value.

Orders follow the card: each card belongs to a customer and stays near one
city (a fixed spot within about 15 km of the centre, each order within about
2 km of the spot), so a card's own orders are never far apart.
"""

import datetime
import json
import random
from typing import Any, Dict, NamedTuple, Optional, Sequence

from connectors.order_codec import encode_order_avro, encode_order_json
from pipelines.generator.reference_data import CITIES, City, ReferenceData

TIMESTAMP_STYLES = ('millis', 'iso_z', 'iso_offset', 'iso_basic')
_STYLE_WEIGHTS = (45, 30, 20, 5)
_V1_FIELDS = (
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
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Card(NamedTuple):
    """A payment card: whose it is and where it is used.

    Attributes:
        card_id: Its id, the Kafka key of its orders.
        customer_id: The customer paying with it.
        city: Index into ``reference_data.CITIES``.
        lat: Latitude of the card's usual spot.
        lon: Longitude of the card's usual spot.
    """

    card_id: str
    customer_id: str
    city: int
    lat: float
    lon: float


class OrderDraft(NamedTuple):
    """An order without its id yet.

    Attributes:
        card_id: The card (and Kafka key).
        customer_id: The customer.
        product_id: The product.
        quantity: Units, >= 1 for a valid order.
        price_cents: Unit price in cents.
        tax_cents: Tax for the order in cents (0 for version 1).
        currency: ISO 4217 code.
        lat: Latitude.
        lon: Longitude.
        event_time_ms: Event time, epoch ms.
        version: Schema version written, 1 or 2.
        fmt: ``json`` or ``avro``.
        timestamp_style: One of ``TIMESTAMP_STYLES``.
        utc_offset_min: Offset used by the ``iso_offset`` style.
    """

    card_id: str
    customer_id: str
    product_id: str
    quantity: int
    price_cents: int
    tax_cents: int
    currency: str
    lat: float
    lon: float
    event_time_ms: int
    version: int
    fmt: str
    timestamp_style: str
    utc_offset_min: int

    @property
    def amount_cents(self) -> int:
        """price x quantity + tax, in cents (exact)."""
        return self.price_cents * self.quantity + self.tax_cents

    def fields(self, order_id: str) -> Dict[str, Any]:
        """The version 2 order dict (``tax`` 0.0 and ``version`` 1 for version 1)."""
        return {
            'order_id': order_id,
            'customer_id': self.customer_id,
            'product_id': self.product_id,
            'quantity': self.quantity,
            'price': self.price_cents / 100,
            'currency': self.currency,
            'card_id': self.card_id,
            'lat': self.lat,
            'lon': self.lon,
            'timestamp': render_timestamp(
                self.event_time_ms, self.timestamp_style, self.utc_offset_min
            ),
            'tax': self.tax_cents / 100,
            'version': self.version,
        }


def encode_draft(draft: OrderDraft, order_id: str) -> bytes:
    """The record value of a draft: its format and version, through the project's codecs.

    A version 1 JSON order leaves out ``tax`` and ``version``, as a version 1
    producer would; ``encode_order_json`` would write their defaults.
    """
    return encode_fields(draft.fields(order_id), draft.fmt, draft.version)


def encode_fields(fields: Dict[str, Any], fmt: str, version: int) -> bytes:
    """Encodes an order dict as JSON or Avro of a schema version."""
    if fmt == 'avro':
        return encode_order_avro(fields, version=version)
    if version == 1:
        v1 = {name: fields[name] for name in _V1_FIELDS}
        return json.dumps(v1, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    return encode_order_json(fields)


def render_timestamp(event_time_ms: int, style: str, utc_offset_min: int = 0):
    """The ``timestamp`` field for an event time: epoch millis or ISO 8601 with a zone.

    Args:
        event_time_ms: Epoch milliseconds.
        style: ``millis`` (an int), ``iso_z`` (``2026-11-18T08:00:00.250Z``),
            ``iso_offset`` (local time with ``+HH:MM``), ``iso_basic``
            (``20261118T080000.250Z``).
        utc_offset_min: The offset of ``iso_offset``, minutes east of UTC.
    """
    if style == 'millis':
        return event_time_ms
    offset = utc_offset_min if style == 'iso_offset' else 0
    moment = _EPOCH + datetime.timedelta(milliseconds=event_time_ms + offset * 60_000)
    millis = f'{moment.microsecond // 1000:03d}'
    if style == 'iso_basic':
        return moment.strftime('%Y%m%dT%H%M%S') + f'.{millis}Z'
    text = moment.strftime('%Y-%m-%dT%H:%M:%S') + f'.{millis}'
    if style == 'iso_z':
        return text + 'Z'
    sign = '+' if offset >= 0 else '-'
    hours, minutes = divmod(abs(offset), 60)
    return f'{text}{sign}{hours:02d}:{minutes:02d}'


class OrderFactory:
    """Draws cards and orders from the reference data, deterministically from its ``rng``."""

    def __init__(
        self, rng: random.Random, reference: ReferenceData, fmt: str, min_price_cents: int = 100
    ) -> None:
        """Configures the draws.

        Args:
            rng: The source of every random choice.
            reference: Customers (with home cities) and products.
            fmt: ``json``, ``avro`` or ``mixed`` (drawn per order).
            min_price_cents: The least unit price of an ordinary order; keep it
                at or over the fraud rules' small amount.
        """
        self._rng = rng
        self._reference = reference
        self._fmt = fmt
        self._min_price_cents = min_price_cents
        self._product_ids = [row.product_id for row in reference.products]

    def card(self, card_id: str, city: Optional[int] = None) -> Card:
        """A card of a random customer, used near the customer's home city (or ``city``)."""
        number = self._rng.randrange(len(self._reference.customers))
        home = self._reference.home_cities[number] if city is None else city
        centre = CITIES[home]
        return Card(
            card_id,
            self._reference.customers[number].customer_id,
            home,
            round(centre.lat + self._rng.uniform(-0.1, 0.1), 5),
            round(centre.lon + self._rng.uniform(-0.1, 0.1), 5),
        )

    def order(
        self,
        card: Card,
        event_time_ms: int,
        *,
        city: Optional[int] = None,
        product: Optional[int] = None,
        price_cents: Optional[int] = None,
        quantity: Optional[int] = None,
        tax_cents: Optional[int] = None,
        customer_id: Optional[str] = None,
        product_id: Optional[str] = None,
    ) -> OrderDraft:
        """An ordinary order on ``card`` at ``event_time_ms``; keyword arguments override draws.

        Args:
            card: The card paying.
            event_time_ms: The event time.
            city: Place the order near this city's centre instead of the card's spot.
            product: Index of the product (drawn by popularity when None).
            price_cents: Unit price (the product's list price, at least the minimum, when None).
            quantity: Units (1 to 5, mostly 1, when None).
            tax_cents: Tax (a share of the amount for version 2, when None); a
                non-zero tax forces version 2.
            customer_id: Overrides the card's customer (an unknown customer).
            product_id: Overrides the product id (an unknown product).
        """
        rng = self._rng
        if product is None:
            product = rng.choices(range(len(self._product_ids)), self._reference.popularity)[0]
        row = self._reference.products[product]
        if price_cents is None:
            price_cents = max(self._min_price_cents, round(row.list_price * 100))
        if quantity is None:
            quantity = rng.choices((1, 2, 3, 4, 5), (60, 20, 10, 6, 4))[0]
        version = 2 if tax_cents else rng.choice((1, 2))
        if tax_cents is None:
            tax_cents = (
                0
                if version == 1
                else round(price_cents * quantity * rng.choice((0.0, 0.05, 0.1, 0.2)))
            )
        place: City = CITIES[card.city if city is None else city]
        lat, lon = (card.lat, card.lon) if city is None else (place.lat, place.lon)
        style = rng.choices(TIMESTAMP_STYLES, _STYLE_WEIGHTS)[0]
        return OrderDraft(
            card.card_id,
            customer_id or card.customer_id,
            product_id or row.product_id,
            quantity,
            price_cents,
            tax_cents,
            place.currency,
            round(lat + rng.uniform(-0.015, 0.015), 5),
            round(lon + rng.uniform(-0.015, 0.015), 5),
            event_time_ms,
            version,
            self.draw_format(),
            style,
            place.utc_offset_min,
        )

    def draw_format(self) -> str:
        """``json`` or ``avro``: the configured format, or a fair draw for ``mixed``."""
        if self._fmt == 'mixed':
            return self._rng.choice(('json', 'avro'))
        return self._fmt


def spread_ms(total_ms: int, parts: int, index: int) -> int:
    """The offset of part ``index`` of ``parts`` equal parts of ``total_ms`` (integer maths)."""
    return total_ms * index // max(parts, 1)


def pick(rng: random.Random, population: Sequence[int], count: int) -> Sequence[int]:
    """``count`` distinct members of ``population`` (all of them if it is smaller), sorted."""
    return sorted(rng.sample(list(population), min(count, len(population))))
