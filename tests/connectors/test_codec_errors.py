"""Tests of DecodeError and DecodeReason."""

import pickle

from connectors.codec_errors import DecodeError, DecodeReason, describe_value


def test_reason_values_are_their_names():
    assert all(reason.value == reason.name for reason in DecodeReason)
    assert str(DecodeReason.BAD_JSON) == 'BAD_JSON' and DecodeReason.BAD_JSON == 'BAD_JSON'


def test_error_reads_reason_then_message_and_is_a_value_error():
    error = DecodeError(DecodeReason.MISSING_FIELD, "required field 'lat' is missing", field='lat')
    assert str(error) == "MISSING_FIELD: required field 'lat' is missing"
    assert isinstance(error, ValueError) and error.field == 'lat'


def test_error_survives_pickling():
    error = DecodeError(DecodeReason.WRONG_TYPE, "field 'tax' must be a number, got null", 'tax')
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.message, copy.field, str(copy)) == (
        error.reason,
        error.message,
        error.field,
        str(error),
    )


def test_describe_value_names_type_and_shortens():
    assert describe_value(None) == 'null'
    assert describe_value('3') == "str '3'"
    shown = describe_value('x' * 100)
    assert shown.startswith("str 'xxx") and shown.endswith('...') and len(shown) == len('str ') + 40
