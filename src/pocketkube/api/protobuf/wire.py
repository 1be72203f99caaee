"""The protobuf wire format: varints, length-delimited fields, fixed-width numbers.

Kubernetes messages are proto2 compiled by gogo-protobuf, so only four wire types occur: varint (0),
fixed64 (1, doubles), length-delimited (2: strings, bytes, messages, packed numbers) and fixed32 (5,
never used by the API, read only to skip). Groups (3, 4) are obsolete and rejected. Reading is
strict: a truncated field or a length past the end is a `WireError`, which callers turn into a 400.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5

_MAX_VARINT_BYTES = 10


class WireError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The unsigned varint at `pos` and the position after it."""
    result = shift = 0
    for i in range(pos, min(pos + _MAX_VARINT_BYTES, len(data))):
        byte = data[i]
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            if result >= 1 << 64:
                raise WireError("proto: integer overflow")
            return result, i + 1
        shift += 7
    if pos + _MAX_VARINT_BYTES <= len(data):
        raise WireError("proto: integer overflow")
    raise WireError("unexpected EOF")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field; varints and fixed ints come as ints, the
    rest as bytes."""
    pos, end = 0, len(data)
    while pos < end:
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"proto: illegal tag 0 (wire type {wire})")
        value: int | bytes
        if wire == VARINT:
            value, pos = read_varint(data, pos)
        elif wire == LENGTH:
            length, pos = read_varint(data, pos)
            if length > end - pos:
                raise WireError("unexpected EOF")
            value, pos = data[pos:pos + length], pos + length
        elif wire == FIXED64:
            if pos + 8 > end:
                raise WireError("unexpected EOF")
            value, pos = struct.unpack_from("<Q", data, pos)[0], pos + 8
        elif wire == FIXED32:
            if pos + 4 > end:
                raise WireError("unexpected EOF")
            value, pos = struct.unpack_from("<I", data, pos)[0], pos + 4
        else:
            raise WireError(f"proto: illegal wireType {wire}")
        yield number, wire, value


def signed(value: int, bits: int) -> int:
    """Two's-complement view of a varint: negative int32/int64 travel as 10-byte varints."""
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:
        value = ((value + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return value


def double(value: int) -> float:
    result: float = struct.unpack("<d", struct.pack("<Q", value))[0]
    return result


# --- writing -------------------------------------------------------------------------------------

def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negatives as 64-bit two's complement, as Go encodes int32/int64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def length_delimited(number: int, payload: bytes) -> bytes:
    return key(number, LENGTH) + varint(len(payload)) + payload


def varint_field(number: int, value: int) -> bytes:
    return key(number, VARINT) + varint(value)


def double_field(number: int, value: float) -> bytes:
    return key(number, FIXED64) + struct.pack("<d", value)
