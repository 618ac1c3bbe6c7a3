"""FitDeadLetter: a dead letter too big for its topic is cut to fit, and says what it was."""

import base64
import hashlib
import json

import pytest

from pipelines.streaming.output_encoding import value_encoder
from transforms.dead_letter_fit import MESSAGE_CUT_CHARS, FitDeadLetter
from transforms.dead_letters import make_dead_letter
from transforms.records import RecordOrigin

PAYLOAD = bytes(range(256)) * 8_000  # 2,048,000 bytes, every byte value
LIMIT = 1_000_000


def big_dead_letter(payload: bytes = PAYLOAD, key: bytes = b'card-1', message: str = 'bad'):
    origin = RecordOrigin(payload, key, 'orders', 1, 42)
    return make_dead_letter('decode', 'BAD_JSON', message, origin, 1_795_000_000_000)


@pytest.mark.parametrize('fmt', ['json', 'avro'])
def test_a_dead_letter_over_the_limit_is_cut_to_fit_and_keeps_size_and_hash(fmt):
    encode = value_encoder('dead_letter', fmt)
    fitted = FitDeadLetter(encode)(big_dead_letter(), LIMIT)
    assert len(encode(fitted)) <= LIMIT
    assert LIMIT - len(encode(fitted)) < 16, 'the cut keeps as much as fits'
    kept = base64.b64decode(fitted.raw)
    assert PAYLOAD.startswith(kept) and len(kept) > 700_000
    assert fitted.raw_truncated is True
    assert fitted.raw_size == len(PAYLOAD)
    assert fitted.raw_sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert fitted._replace(raw='', raw_truncated=False) == big_dead_letter()._replace(raw='')


def test_a_dead_letter_that_fits_is_left_as_it_is():
    small = big_dead_letter(b'{"x":')
    assert FitDeadLetter(value_encoder('dead_letter', 'json'))(small, LIMIT) is small


def test_a_huge_key_is_dropped_from_the_value_before_the_payload_is_given_up():
    encode = value_encoder('dead_letter', 'json')
    fitted = FitDeadLetter(encode)(big_dead_letter(key=b'k' * 800_000), LIMIT)
    assert fitted.key is None and fitted.raw_truncated
    assert len(encode(fitted)) <= LIMIT and len(base64.b64decode(fitted.raw)) > 0


def test_a_huge_message_is_cut_when_nothing_else_is_left():
    encode = value_encoder('dead_letter', 'json')
    fitted = FitDeadLetter(encode)(big_dead_letter(message='m' * 2_000_000), LIMIT)
    assert fitted.message == 'm' * MESSAGE_CUT_CHARS
    assert len(encode(fitted)) <= LIMIT
    assert json.loads(encode(fitted))['raw_size'] == len(PAYLOAD)


def test_encode_must_be_a_function():
    with pytest.raises(ValueError, match='encode'):
        FitDeadLetter('json')
