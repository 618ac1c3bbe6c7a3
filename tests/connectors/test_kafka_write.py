"""WriteToKafka's size limit, without a broker: configuration checks, and what the DoFn sends
for a record over the limit (a stand-in producer records the sends)."""

import pytest

from connectors.kafka_write import (
    DEFAULT_MAX_RECORD_BYTES,
    REQUEST_OVERHEAD_BYTES,
    KafkaWriteError,
    RecordTooLargeError,
    WriteToKafka,
    _ProduceRecords,
)


class _Sent:
    is_done = True

    def failed(self):
        return False


class _RecordingProducer:
    def __init__(self):
        self.sent = []

    def send(self, topic, key=None, value=None):
        self.sent.append((topic, key, value))
        return _Sent()


def produce(elements, max_record_bytes=100, fit_fn=None):
    writer = WriteToKafka(
        '127.0.0.1:9',
        'out',
        value_fn=lambda e: e,
        key_fn=lambda e: b'kk',
        max_record_bytes=max_record_bytes,
        fit_fn=fit_fn,
    )
    fn = _ProduceRecords(
        writer._connection,
        'out',
        writer._value_fn,
        writer._key_fn,
        1.0,
        writer._max_record_bytes,
        writer._fit_fn,
    )
    fn._producer = _RecordingProducer()
    fn.start_bundle()
    for element in elements:
        fn.process(element)
    return fn._producer.sent


def test_records_within_the_limit_are_sent_as_they_are():
    assert produce([b'x' * 98]) == [('out', b'kk', b'x' * 98)]


def test_a_record_over_the_limit_is_sent_as_fit_fn_shrinks_it_with_its_key_kept():
    budgets = []

    def cut(element, budget):
        budgets.append(budget)
        return element[:budget]

    assert produce([b'x' * 500], fit_fn=cut) == [('out', b'kk', b'x' * 98)]
    assert budgets == [98]  # the limit less the key


def test_a_record_over_the_limit_without_fit_fn_fails_loudly():
    with pytest.raises(RecordTooLargeError, match='no fit_fn'):
        produce([b'x' * 99])


def test_a_record_fit_fn_cannot_shrink_enough_fails_loudly():
    with pytest.raises(RecordTooLargeError, match='could not shrink'):
        produce([b'x' * 500], fit_fn=lambda element, budget: element[: budget + 1])


def test_the_default_limit_is_under_kafkas_defaults():
    assert DEFAULT_MAX_RECORD_BYTES + REQUEST_OVERHEAD_BYTES <= 1_048_576


@pytest.mark.parametrize('limit', [0, -1, 1.5, 1_048_576, 1_048_576 - REQUEST_OVERHEAD_BYTES + 1])
def test_a_limit_beyond_the_producers_request_size_is_refused(limit):
    with pytest.raises(ValueError, match='max_record_bytes'):
        WriteToKafka('127.0.0.1:9', 'out', value_fn=bytes, max_record_bytes=limit)


def test_a_bigger_limit_needs_a_bigger_request_size():
    WriteToKafka(
        '127.0.0.1:9',
        'out',
        value_fn=bytes,
        max_record_bytes=4_000_000,
        client_options={'max_request_size': 5_000_000},
    )


def test_fit_fn_must_be_a_function():
    with pytest.raises(ValueError, match='fit_fn'):
        WriteToKafka('127.0.0.1:9', 'out', value_fn=bytes, fit_fn='cut')


def test_a_bundle_finished_after_teardown_fails_saying_so():
    # On cancel, Prism's SDK harness may tear the DoFn down while a bundle still finishes:
    # the records sent cannot be checked, and the error says why rather than an
    # AttributeError on the closed producer.
    writer = WriteToKafka('127.0.0.1:9', 'out', value_fn=lambda e: e)
    fn = _ProduceRecords(writer._connection, 'out', writer._value_fn, None, 1.0, 100, None)
    fn._producer = _RecordingProducer()
    fn.start_bundle()
    fn.process(b'v')
    fn._producer = None  # what teardown leaves
    with pytest.raises(KafkaWriteError, match=r"writer to 'out' was torn down .* 1 records"):
        list(fn.finish_bundle())
