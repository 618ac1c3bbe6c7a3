"""Tests of reading the customers and products reference files."""

import pytest

from transforms.records import Customer, Product
from transforms.reference_data import (
    ReferenceDataError,
    load_reference_data,
    reference_file,
)

CUSTOMERS_CSV = (
    'customer_id,name,segment,home_country,signup_date,notes\n'
    'cus-1,Ann Lee,retail,DE,2020-01-31,vip\n'
    'cus-2,"Bo, Inc.",business,FR,2021-06-01,\n'
)
PRODUCTS_JSONL = (
    '{"product_id": "prd-1", "name": "Pen", "category": "office", "list_price": 1.5, '
    '"stock": 300, "colour": "blue"}\n'
    '\n'
    '{"product_id": "prd-2", "name": "Ink", "category": "office", "list_price": "4", '
    '"stock": "12"}\n'
)


def write(folder, name: str, text: str, encoding: str = 'utf-8'):
    (folder / name).write_bytes(text.encode(encoding))
    return folder


@pytest.fixture
def reference(tmp_path):
    write(tmp_path, 'customers.csv', CUSTOMERS_CSV)
    write(tmp_path, 'products.jsonl', PRODUCTS_JSONL)
    return tmp_path


def test_csv_and_json_lines_files_are_read_into_typed_rows_by_id(reference):
    data = load_reference_data(str(reference))
    assert data.customers == {
        'cus-1': Customer('cus-1', 'Ann Lee', 'retail', 'DE', '2020-01-31'),
        'cus-2': Customer('cus-2', 'Bo, Inc.', 'business', 'FR', '2021-06-01'),
    }
    assert data.products == {
        'prd-1': Product('prd-1', 'Pen', 'office', 1.5, 300),
        'prd-2': Product('prd-2', 'Ink', 'office', 4.0, 12),
    }


def test_either_format_works_for_either_table(tmp_path):
    write(
        tmp_path,
        'customers.jsonl',
        '{"customer_id": "c", "name": "N", "segment": "s", "home_country": "DE", '
        '"signup_date": "2020-01-01"}\n',
    )
    write(tmp_path, 'products.csv', 'stock,list_price,category,name,product_id\n5,2.5,c,n,p\n')
    data = load_reference_data(str(tmp_path))
    assert list(data.customers) == ['c']
    assert data.products == {'p': Product('p', 'n', 'c', 2.5, 5)}


def test_a_later_row_with_the_same_id_replaces_the_earlier_one(reference):
    write(reference, 'customers.csv', CUSTOMERS_CSV + 'cus-1,Ann Smith,retail,DE,2020-01-31,\n')
    assert load_reference_data(str(reference)).customers['cus-1'].name == 'Ann Smith'


def test_each_load_reads_the_files_as_they_are_now(reference):
    before = load_reference_data(str(reference))
    write(reference, 'products.jsonl', PRODUCTS_JSONL.replace('"Pen"', '"Fountain pen"'))
    after = load_reference_data(str(reference))
    assert (before.products['prd-1'].name, after.products['prd-1'].name) == ('Pen', 'Fountain pen')


def test_a_missing_table_is_an_error(tmp_path):
    write(tmp_path, 'customers.csv', CUSTOMERS_CSV)
    with pytest.raises(ReferenceDataError, match='no products reference file'):
        load_reference_data(str(tmp_path))


def test_two_formats_of_one_table_are_ambiguous(reference):
    write(reference, 'customers.jsonl', '')
    with pytest.raises(ReferenceDataError, match='keep one'):
        reference_file(str(reference), 'customers')


@pytest.mark.parametrize(
    'products, message',
    [
        (
            '{"product_id": "p", "name": "n", "category": "c", "stock": 1}\n',
            r":1: 'list_price' is missing",
        ),
        (
            '{"product_id": "p", "name": "n", "category": "c", "list_price": "x", "stock": 1}\n',
            "'list_price' must be a finite number",
        ),
        (
            '{"product_id": "p", "name": "n", "category": "c", "list_price": 1, "stock": 1.5}\n',
            "'stock' must be an integer",
        ),
        (
            '{"product_id": " ", "name": "n", "category": "c", "list_price": 1, "stock": 1}\n',
            "'product_id' is blank",
        ),
        (
            '{"product_id": 7, "name": "n", "category": "c", "list_price": 1, "stock": 1}\n',
            "'product_id' must be text",
        ),
        ('\n{"product_id": \n', ':2: .*not valid JSON'),
        ('[1, 2]\n', 'expected a JSON object'),
    ],
)
def test_a_malformed_row_names_the_file_and_line(reference, products, message):
    write(reference, 'products.jsonl', products)
    with pytest.raises(ReferenceDataError, match=message):
        load_reference_data(str(reference))


def test_a_csv_row_missing_a_column_names_its_line(reference):
    write(
        reference,
        'customers.csv',
        'customer_id,name,segment,home_country,signup_date\n'
        'c1,A,retail,DE,2020-01-01\nc2,B,retail\n',
    )
    with pytest.raises(ReferenceDataError, match=r"customers.csv:3: 'home_country' is missing"):
        load_reference_data(str(reference))


def test_a_file_that_is_not_utf8_is_an_error(reference):
    write(reference, 'customers.csv', CUSTOMERS_CSV.replace('Ann', 'Änn'), encoding='latin-1')
    with pytest.raises(ReferenceDataError, match='not UTF-8'):
        load_reference_data(str(reference))
