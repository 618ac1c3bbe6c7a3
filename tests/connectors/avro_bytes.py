"""Hand-built Avro binary encodings, to corrupt messages precisely in tests."""

import struct


def avro_long(number: int) -> bytes:
    """Encodes an Avro int or long: zig-zag, then a little-endian varint."""
    zigzag = (number << 1) ^ (number >> 63)
    encoded = bytearray()
    while zigzag > 0x7F:
        encoded.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    encoded.append(zigzag)
    return bytes(encoded)


def avro_string(text: str) -> bytes:
    """Encodes an Avro string: its UTF-8 length, then its UTF-8 bytes."""
    data = text.encode('utf-8')
    return avro_long(len(data)) + data


def avro_double(number: float) -> bytes:
    """Encodes an Avro double: 8 bytes, little-endian IEEE 754."""
    return struct.pack('<d', number)
