"""Tests of the Confluent wire-format framing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.avro_wire import HEADER_SIZE, MAX_SCHEMA_ID, frame, read_header, unframe
from connectors.codec_errors import DecodeError, DecodeReason


def test_frame_writes_magic_byte_then_big_endian_schema_id():
    assert frame(0x01020304, b'body') == b'\x00\x01\x02\x03\x04body'


@settings(max_examples=200, deadline=None)
@given(schema_id=st.integers(min_value=0, max_value=MAX_SCHEMA_ID), body=st.binary(max_size=50))
def test_unframe_returns_what_frame_was_given(schema_id, body):
    found_id, found_body = unframe(frame(schema_id, body))
    assert (found_id, bytes(found_body)) == (schema_id, body)


@pytest.mark.parametrize('schema_id', [-1, MAX_SCHEMA_ID + 1])
def test_frame_refuses_ids_that_do_not_fit_four_bytes(schema_id):
    with pytest.raises(ValueError, match='schema id'):
        frame(schema_id, b'')


@pytest.mark.parametrize(
    'raw, reason',
    [
        pytest.param(b'', DecodeReason.EMPTY, id='empty'),
        pytest.param(b'{}', DecodeReason.UNKNOWN_MAGIC_BYTE, id='json'),
        pytest.param(b'\x00\x00\x00\x01', DecodeReason.TRUNCATED_AVRO, id='short-header'),
    ],
)
def test_bad_headers_raise_decode_error(raw, reason):
    with pytest.raises(DecodeError) as caught:
        read_header(raw)
    assert caught.value.reason is reason


def test_unframe_does_not_copy_the_body():
    raw = frame(7, b'abc')
    _, body = unframe(raw)
    assert isinstance(body, memoryview) and body.obj is raw and len(raw) == HEADER_SIZE + 3
