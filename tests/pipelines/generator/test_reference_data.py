"""Reference data: the documented fields, deterministic, in CSV or JSON lines."""

import csv
import json

import pytest

from pipelines.generator.reference_data import (
    CATEGORIES,
    CITIES,
    UNKNOWN_CUSTOMER_BASE,
    UNKNOWN_PRODUCT_BASE,
    build_reference_data,
    great_circle_km,
    write_reference_data,
)
from transforms.reference_data import load_reference_data


def test_the_default_files_are_customers_csv_and_products_jsonl_with_designs_fields(tmp_path):
    paths = write_reference_data(tmp_path / 'ref', seed=7, customers=40, products=12)
    assert (paths.customers.name, paths.products.name) == ('customers.csv', 'products.jsonl')
    with open(paths.customers, newline='') as source:
        customers = list(csv.DictReader(source))
    products = [json.loads(line) for line in paths.products.read_text().splitlines()]
    assert list(customers[0]) == ['customer_id', 'name', 'segment', 'home_country', 'signup_date']
    assert list(products[0]) == ['product_id', 'name', 'category', 'list_price', 'stock']
    assert [c['customer_id'] for c in customers] == [f'cust-{n:05d}' for n in range(40)]
    assert [p['product_id'] for p in products] == [f'prod-{n:04d}' for n in range(12)]
    assert {c['home_country'] for c in customers} <= {city.country for city in CITIES}
    assert {c['segment'] for c in customers} <= {'retail', 'business', 'premium'}
    assert all(len(c['signup_date']) == 10 and c['signup_date'] < '2026-11-18' for c in customers)
    assert set(p['category'] for p in products) == set(CATEGORIES)
    assert all(isinstance(p['stock'], int) and p['list_price'] >= 1.0 for p in products)


def test_either_file_can_be_written_in_the_other_format(tmp_path):
    paths = write_reference_data(
        tmp_path, customers=5, products=5, customers_format='jsonl', products_format='csv'
    )
    customers = [json.loads(line) for line in paths.customers.read_text().splitlines()]
    with open(paths.products, newline='') as source:
        products = list(csv.DictReader(source))
    data = build_reference_data(customers=5, products=5)
    assert customers == [row._asdict() for row in data.customers]
    assert [p['product_id'] for p in products] == [row.product_id for row in data.products]
    assert float(products[0]['list_price']) == data.products[0].list_price


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    assert build_reference_data(3) == build_reference_data(3)
    assert build_reference_data(3).customers != build_reference_data(4).customers


@pytest.mark.parametrize(
    'kwargs, message',
    [
        ({'customers_format': 'xml'}, 'customers_format must be one of csv, jsonl'),
        ({'customers': 0}, 'customers must be an integer from 1 to 90000'),
        ({'products': UNKNOWN_PRODUCT_BASE + 1}, 'products must be an integer from 1 to 9000'),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_reference_data(tmp_path, **kwargs)


def test_unknown_id_ranges_are_outside_any_reference_file():
    data = build_reference_data(customers=UNKNOWN_CUSTOMER_BASE, products=UNKNOWN_PRODUCT_BASE)
    assert data.customers[-1].customer_id < f'cust-{UNKNOWN_CUSTOMER_BASE:05d}'
    assert data.products[-1].product_id < f'prod-{UNKNOWN_PRODUCT_BASE:04d}'


def test_great_circle_distance_berlin_paris():
    berlin, paris = CITIES[0], CITIES[1]
    assert great_circle_km(berlin.lat, berlin.lon, paris.lat, paris.lon) == pytest.approx(
        878, abs=3
    )


@pytest.mark.parametrize('customers_format, products_format', [('csv', 'jsonl'), ('jsonl', 'csv')])
def test_the_pipelines_reader_loads_the_files_as_written(
    tmp_path, customers_format, products_format
):
    write_reference_data(
        tmp_path,
        seed=2,
        customers=30,
        products=9,
        customers_format='jsonl' if customers_format == 'csv' else 'csv',
    )
    write_reference_data(
        tmp_path,
        seed=2,
        customers=30,
        products=9,
        customers_format=customers_format,
        products_format=products_format,
    )
    loaded = load_reference_data(str(tmp_path))  # one file per table: the older one is gone
    data = build_reference_data(seed=2, customers=30, products=9)
    assert list(loaded.customers.values()) == [tuple(row) for row in data.customers]
    assert list(loaded.products.values()) == [tuple(row) for row in data.products]
