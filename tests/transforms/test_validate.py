"""Tests of ValidateOrders: decoded events in, orders at their event time or dead letters out."""

import base64
import hashlib

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.transforms.helpers import NOW_S, counter, fixed_clock, options, raw_order
from transforms.records import DEAD_LETTER, VALID, DecodedEvent, RecordOrigin
from transforms.validate import ValidateOrders

ORIGIN = RecordOrigin(b'{"order": "as read"}', b'card-0001', 'orders', 0, 12)


def event(**overrides) -> DecodedEvent:
    return DecodedEvent(raw_order(**overrides), ORIGIN)


# (decoded event, reason): one sample per validation rule.
SAMPLE_INVALID = [
    (event(order_id=''), 'EMPTY_FIELD'),
    (event(order_id='o' * 65), 'ORDER_ID_TOO_LONG'),
    (event(quantity=0), 'QUANTITY_OUT_OF_RANGE'),
    (event(price=0.0), 'PRICE_NOT_POSITIVE'),
    (event(price=float('nan')), 'NOT_FINITE'),
    (event(currency='EURO'), 'UNKNOWN_CURRENCY'),
    (event(lat=-91.0), 'LAT_OUT_OF_RANGE'),
    (event(lon=180.5), 'LON_OUT_OF_RANGE'),
    (event(timestamp='2026-11-18T11:00:00'), 'BAD_TIMESTAMP'),
    (event(timestamp=int(NOW_S * 1000) + 2 * 86_400_000), 'TIMESTAMP_IN_FUTURE'),
    (event(tax=-1.0), 'TAX_NEGATIVE'),
    (event(version=3), 'UNKNOWN_VERSION'),
]


def with_timestamp(element, timestamp=beam.DoFn.TimestampParam):
    return element.order_id, timestamp.micros // 1000


def test_a_valid_order_comes_out_typed_at_its_event_time():
    events = [
        event(order_id='iso', timestamp='2026-11-18T13:00:00.250+02:00'),
        event(order_id='millis', timestamp=1_794_999_000_000),
    ]
    with TestPipeline(options=options()) as p:
        result = p | beam.Create(events) | ValidateOrders(clock=fixed_clock)
        assert_that(
            result[VALID] | beam.Map(with_timestamp),
            equal_to([('iso', 1_794_999_600_250), ('millis', 1_794_999_000_000)]),
        )
        assert_that(result[DEAD_LETTER], equal_to([]), label='NoDeadLetters')


def test_an_order_keeps_its_fields_and_timestamp_text():
    with TestPipeline(options=options()) as p:
        orders = (
            p
            | beam.Create([event(timestamp=1_794_999_000_000)])
            | ValidateOrders(clock=fixed_clock)
        )[VALID]
        assert_that(
            orders
            | beam.Map(
                lambda o: (o.timestamp, o.event_time_ms, o.tax, o.version, o.currency, o.quantity)
            ),
            equal_to([('1794999000000', 1_794_999_000_000, 1.25, 2, 'EUR', 2)]),
        )


def test_every_rule_has_its_reason_code_in_the_dead_letter():
    with TestPipeline(options=options()) as p:
        result = p | beam.Create([e for e, _ in SAMPLE_INVALID]) | ValidateOrders(clock=fixed_clock)
        assert_that(result[VALID], equal_to([]), label='NothingValid')
        assert_that(
            result[DEAD_LETTER] | beam.Map(lambda dl: (dl.stage, dl.reason)),
            equal_to([('validate', reason) for _, reason in SAMPLE_INVALID]),
        )


def test_a_dead_letter_keeps_the_raw_record_and_its_origin():
    with TestPipeline(options=options()) as p:
        dead = p | beam.Create([event(quantity=0)]) | ValidateOrders(clock=fixed_clock)
        assert_that(
            dead[DEAD_LETTER] | beam.Map(lambda dl: dl._replace(message='')),
            equal_to(
                [
                    (
                        'validate',
                        'QUANTITY_OUT_OF_RANGE',
                        '',
                        base64.b64encode(ORIGIN.raw).decode(),
                        'orders',
                        0,
                        12,
                        int(NOW_S * 1000),
                        base64.b64encode(b'card-0001').decode(),
                        len(ORIGIN.raw),
                        hashlib.sha256(ORIGIN.raw).hexdigest(),
                        False,
                    )
                ]
            ),
        )


def test_the_future_is_judged_against_the_injected_clock():
    two_days_ahead = int(NOW_S * 1000) + 2 * 86_400_000
    later = NOW_S + 3 * 86_400  # a clock three days later
    with TestPipeline(options=options()) as p:
        events = p | beam.Create([event(timestamp=two_days_ahead)])
        now = events | 'ValidateNow' >> ValidateOrders(clock=fixed_clock)
        then = events | 'ValidateLater' >> ValidateOrders(clock=lambda: later)
        assert_that(
            now[DEAD_LETTER] | 'NowReason' >> beam.Map(lambda dl: dl.reason),
            equal_to(['TIMESTAMP_IN_FUTURE']),
            label='InTheFutureNow',
        )
        assert_that(
            then[VALID] | 'ThenId' >> beam.Map(lambda o: o.order_id),
            equal_to(['ord-0001']),
            label='FineLater',
        )


def test_orders_and_dead_letters_are_counted_per_reason():
    p = TestPipeline(options=options())
    _ = (
        p
        | beam.Create([event(), event(), event(quantity=0), event(currency='x')])
        | ValidateOrders(clock=fixed_clock)
    )
    result = p.run()
    result.wait_until_finish()
    assert counter(result, 'ValidateOrders', 'valid') == 2
    assert counter(result, 'ValidateOrders', 'QUANTITY_OUT_OF_RANGE') == 1
    assert counter(result, 'ValidateOrders', 'UNKNOWN_CURRENCY') == 1


def test_a_clock_that_is_not_callable_is_refused_at_construction():
    with pytest.raises(ValueError, match='clock'):
        ValidateOrders(clock=NOW_S)
