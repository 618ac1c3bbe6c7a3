"""Reference data for generated traffic: cities, customers and products.

``build_reference_data(seed, customers, products)`` is pure: the same
arguments give the same rows. ``write_reference_data`` writes them where the
streaming pipeline's reference-data option points: ``customers.csv`` and
``products.jsonl`` by default (either file may be written in the other format,
CSV with a header row or JSON lines). The fields are these:

* customers: ``customer_id``, ``name``, ``segment``, ``home_country``,
  ``signup_date`` (ISO 8601 date);
* products: ``product_id``, ``name``, ``category``, ``list_price`` (>= 1.00,
  two decimals), ``stock`` (int).

Ids are ``cust-NNNNN`` and ``prod-NNNN`` from 0. Ids the generator uses for
"unknown" customers and products start at ``UNKNOWN_CUSTOMER_BASE`` and
``UNKNOWN_PRODUCT_BASE``, outside any file this module writes.
"""

import csv
import datetime
import json
import math
import pathlib
import random
from typing import NamedTuple, Sequence, Tuple, Union

FORMATS = ('csv', 'jsonl')
MAX_CUSTOMERS = 90_000
MAX_PRODUCTS = 9_000
UNKNOWN_CUSTOMER_BASE = 90_000
UNKNOWN_PRODUCT_BASE = 9_000
EARTH_RADIUS_KM = 6371.0088


class City(NamedTuple):
    """A place cards are used in.

    Attributes:
        name: City name.
        country: ISO 3166-1 alpha-2 code.
        lat: Latitude of the centre, degrees.
        lon: Longitude of the centre, degrees.
        currency: ISO 4217 code orders there are priced in.
        utc_offset_min: The zone's offset in November, minutes east of UTC.
    """

    name: str
    country: str
    lat: float
    lon: float
    currency: str
    utc_offset_min: int


CITIES: Tuple[City, ...] = (
    City('Berlin', 'DE', 52.520, 13.405, 'EUR', 60),
    City('Paris', 'FR', 48.857, 2.352, 'EUR', 60),
    City('Madrid', 'ES', 40.417, -3.704, 'EUR', 60),
    City('Rome', 'IT', 41.903, 12.496, 'EUR', 60),
    City('Amsterdam', 'NL', 52.370, 4.895, 'EUR', 60),
    City('London', 'GB', 51.507, -0.128, 'GBP', 0),
    City('Stockholm', 'SE', 59.329, 18.069, 'SEK', 60),
    City('Zurich', 'CH', 47.377, 8.541, 'CHF', 60),
    City('Warsaw', 'PL', 52.230, 21.012, 'PLN', 60),
    City('New York', 'US', 40.713, -74.006, 'USD', -300),
    City('Chicago', 'US', 41.878, -87.630, 'USD', -360),
    City('Toronto', 'CA', 43.653, -79.383, 'CAD', -300),
    City('Sao Paulo', 'BR', -23.551, -46.633, 'BRL', -180),
    City('Tokyo', 'JP', 35.676, 139.650, 'JPY', 540),
    City('Singapore', 'SG', 1.352, 103.820, 'SGD', 480),
    City('Sydney', 'AU', -33.869, 151.209, 'AUD', 660),
)

SEGMENTS = (('retail', 70), ('business', 20), ('premium', 10))
CATEGORIES = {  # category: (nouns, lowest and highest list price in cents)
    'electronics': (('Headphones', 'Charger', 'Monitor', 'Keyboard', 'Speaker'), (1_500, 45_000)),
    'books': (('Novel', 'Cookbook', 'Atlas', 'Biography', 'Guide'), (500, 6_000)),
    'grocery': (('Coffee', 'Olive Oil', 'Tea', 'Chocolate', 'Honey'), (150, 3_000)),
    'clothing': (('Jacket', 'Scarf', 'Sneakers', 'Shirt', 'Gloves'), (1_200, 25_000)),
    'home': (('Lamp', 'Kettle', 'Pan', 'Blanket', 'Vase'), (900, 18_000)),
    'toys': (('Puzzle', 'Kite', 'Robot', 'Board Game', 'Blocks'), (600, 9_000)),
    'sports': (('Yoga Mat', 'Racket', 'Bottle', 'Helmet', 'Ball'), (800, 30_000)),
    'beauty': (('Soap', 'Shampoo', 'Perfume', 'Lotion', 'Brush'), (300, 12_000)),
}
_ADJECTIVES = ('Classic', 'Compact', 'Deluxe', 'Eco', 'Nordic', 'Pro', 'Smart', 'Urban', 'Vintage')
_FIRST_NAMES = (
    'Ada',
    'Ben',
    'Chloe',
    'Diego',
    'Elif',
    'Farid',
    'Greta',
    'Hana',
    'Ivan',
    'Jonas',
    'Kenji',
    'Lena',
    'Mateo',
    'Nadia',
    'Omar',
    'Priya',
    'Quinn',
    'Rosa',
    'Sven',
    'Tariq',
    'Uma',
    'Viktor',
    'Wen',
    'Yara',
    'Zoe',
)
_LAST_NAMES = (
    'Almeida',
    'Becker',
    'Chen',
    'Dubois',
    'Eriksson',
    'Fischer',
    'Garcia',
    'Horvat',
    'Ito',
    'Jansen',
    'Kowalski',
    'Lopez',
    'Moreau',
    'Nakamura',
    'Okafor',
    'Petrov',
    'Rossi',
    'Schmidt',
    'Tanaka',
    'Novak',
    'Weber',
    'Young',
)
_FIRST_SIGNUP = datetime.date(2018, 1, 1)
_LAST_SIGNUP = datetime.date(2026, 10, 31)


class CustomerRow(NamedTuple):
    """A row of ``customers.csv``."""

    customer_id: str
    name: str
    segment: str
    home_country: str
    signup_date: str


class ProductRow(NamedTuple):
    """A row of ``products.jsonl``."""

    product_id: str
    name: str
    category: str
    list_price: float
    stock: int


class ReferenceData(NamedTuple):
    """Customers and products, and what the generator needs to know about them.

    Attributes:
        customers: The customer rows.
        products: The product rows.
        home_cities: Index into ``CITIES`` of each customer's home city
            (parallel to ``customers``; not written to the files).
        popularity: A weight per product (parallel to ``products``), for
            drawing skewed product mixes.
    """

    customers: Tuple[CustomerRow, ...]
    products: Tuple[ProductRow, ...]
    home_cities: Tuple[int, ...]
    popularity: Tuple[float, ...]


class ReferenceFiles(NamedTuple):
    """Where ``write_reference_data`` wrote the files."""

    customers: pathlib.Path
    products: pathlib.Path


def customer_id(number: int) -> str:
    """The id of customer ``number`` (unknown ones start at ``UNKNOWN_CUSTOMER_BASE``)."""
    return f'cust-{number:05d}'


def product_id(number: int) -> str:
    """The id of product ``number`` (unknown ones start at ``UNKNOWN_PRODUCT_BASE``)."""
    return f'prod-{number:04d}'


def build_reference_data(seed: int = 7, customers: int = 500, products: int = 50) -> ReferenceData:
    """Builds the reference rows; the same arguments give the same rows.

    Args:
        seed: Seed of the random choices.
        customers: How many customers, 1 to ``MAX_CUSTOMERS``.
        products: How many products, 1 to ``MAX_PRODUCTS``.

    Raises:
        ValueError: If a count is out of range.
    """
    _check_count('customers', customers, MAX_CUSTOMERS)
    _check_count('products', products, MAX_PRODUCTS)
    rng = random.Random(f'{seed}/reference')
    signup_days = (_LAST_SIGNUP - _FIRST_SIGNUP).days
    segment_names = [name for name, _ in SEGMENTS]
    segment_weights = [weight for _, weight in SEGMENTS]
    customer_rows, home_cities = [], []
    for number in range(customers):
        city = rng.randrange(len(CITIES))
        signup = _FIRST_SIGNUP + datetime.timedelta(days=rng.randrange(signup_days + 1))
        customer_rows.append(
            CustomerRow(
                customer_id(number),
                f'{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}',
                rng.choices(segment_names, segment_weights)[0],
                CITIES[city].country,
                signup.isoformat(),
            )
        )
        home_cities.append(city)
    category_names = sorted(CATEGORIES)
    product_rows, popularity = [], []
    for number in range(products):
        category = category_names[number % len(category_names)]
        nouns, (low, high) = CATEGORIES[category]
        product_rows.append(
            ProductRow(
                product_id(number),
                f'{rng.choice(_ADJECTIVES)} {rng.choice(nouns)}',
                category,
                rng.randint(low, high) / 100,
                rng.randint(0, 5_000),
            )
        )
        popularity.append(1.0 / (1 + rng.randrange(products)))  # a few best sellers
    return ReferenceData(
        tuple(customer_rows), tuple(product_rows), tuple(home_cities), tuple(popularity)
    )


def write_reference_data(
    folder: Union[str, pathlib.Path],
    seed: int = 7,
    customers: int = 500,
    products: int = 50,
    customers_format: str = 'csv',
    products_format: str = 'jsonl',
) -> ReferenceFiles:
    """Writes ``customers.<format>`` and ``products.<format>`` into ``folder``.

    Args:
        folder: Created when missing; files there of the same names are replaced,
            and a table's file in the other format is removed (one file per table,
            as ``transforms.reference_data`` requires).
        seed: As ``build_reference_data``; use the traffic's seed and counts so
            the orders refer to these rows.
        customers: How many customers.
        products: How many products.
        customers_format: ``csv`` (default) or ``jsonl``.
        products_format: ``jsonl`` (default) or ``csv``.

    Returns:
        The paths written.

    Raises:
        ValueError: For an unknown format or a count out of range.
    """
    for name, fmt in (('customers_format', customers_format), ('products_format', products_format)):
        if fmt not in FORMATS:
            raise ValueError(f'{name} must be one of {", ".join(FORMATS)}, got {fmt!r}')
    data = build_reference_data(seed, customers, products)
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = ReferenceFiles(
        folder / f'customers.{customers_format}', folder / f'products.{products_format}'
    )
    _write_rows(paths.customers, CustomerRow._fields, data.customers, customers_format)
    _write_rows(paths.products, ProductRow._fields, data.products, products_format)
    for written in paths:  # the reader refuses a table present in both formats
        for fmt in FORMATS:
            other = written.with_suffix('.' + fmt)
            if other != written and other.exists():
                other.unlink()
    return paths


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points in degrees (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _write_rows(
    path: pathlib.Path, fields: Sequence[str], rows: Sequence[NamedTuple], fmt: str
) -> None:
    with open(path, 'w', encoding='utf-8', newline='') as out:
        if fmt == 'csv':
            writer = csv.writer(out, lineterminator='\n')
            writer.writerow(fields)
            writer.writerows(rows)
        else:
            for row in rows:
                out.write(json.dumps(row._asdict(), ensure_ascii=False) + '\n')


def _check_count(name: str, value: int, most: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ValueError(f'{name} must be an integer from 1 to {most}, got {value!r}')
