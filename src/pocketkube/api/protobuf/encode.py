"""JSON-shaped objects → Kubernetes protobuf bodies (the reverse of decode.py).

The output is byte for byte what client-go writes for the same Go object, because we follow the
rules of Kubernetes' generated Marshal code: fields in ascending number; non-pointer scalars,
strings and messages always written (zero or empty when the JSON leaves them out); pointer fields
only when present; repeated numbers unpacked; map entries sorted by key with both key and value
written; a zero time as an empty message. JSON fields the protobuf schema does not know cannot
travel and are dropped. Used by tests (round trips against captured kubectl bodies) and to answer
clients that accept only protobuf.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.api.protobuf import catalog, wire
from pocketkube.api.protobuf.catalog import INLINE, POINTER, REPEATED

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO: dict[str, Any] = {"string": "", "bool": False, "int32": 0, "int64": 0, "double": 0.0}


def encode_object(obj: Obj) -> bytes:
    """The protobuf body (magic + runtime.Unknown) of an object with apiVersion and kind.

    An object whose kind has no message, or whose fields do not fit their schema, is a 500: such an
    object can only come from the server itself.
    """
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    message = catalog.message_for(api_version, kind)
    if message is None:
        raise errors.internal(f"no protobuf message for {api_version}, Kind={kind}")
    try:
        raw = encode_message(message, obj)
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise errors.internal(f"encoding {kind} as protobuf: {exc}") from None
    type_meta = wire.length_delimited(1, api_version.encode()) + wire.length_delimited(2, kind.encode())
    unknown = (wire.length_delimited(1, type_meta) + wire.length_delimited(2, raw)
               + wire.length_delimited(3, b"") + wire.length_delimited(4, b""))
    return catalog.MAGIC + unknown


def encode_message(message: str, obj: Obj) -> bytes:
    out = bytearray()
    for number, name, kind, ref, flags in catalog.fields(message):
        if flags & INLINE:
            out += wire.length_delimited(number, encode_message(ref, obj))
            continue
        value = obj.get(name)
        if kind == "map":
            entries: dict[str, Any] = value or {}
            for key in sorted(entries):
                value_kind = "message" if "." in ref else ref
                entry = wire.length_delimited(1, key.encode()) + _one(2, value_kind, ref, entries[key])
                out += wire.length_delimited(number, entry)
        elif flags & REPEATED:
            for item in value or ():
                out += _one(number, kind, ref, item)
        elif value is not None:
            out += _one(number, kind, ref, value)
        elif not flags & POINTER:
            out += _zero(number, kind, ref)
    return bytes(out)


def _zero(number: int, kind: str, ref: str) -> bytes:
    """What gogo writes for a non-pointer field the JSON left out."""
    if kind in _ZERO:
        return _one(number, kind, ref, _ZERO[kind])
    if kind == "bytes":
        return b""  # a nil []byte is not written
    if kind == "rawjson":
        return wire.length_delimited(number, b"")
    if kind == "quantity":
        return _one(number, kind, ref, "0")
    if kind == "intorstring":
        return _one(number, kind, ref, 0)
    if kind in ("time", "microtime"):
        return wire.length_delimited(number, b"")
    return wire.length_delimited(number, encode_message(ref, {}))


def _one(number: int, kind: str, ref: str, value: Any) -> bytes:
    if kind == "string":
        return wire.length_delimited(number, _str(value).encode())
    if kind == "bytes":
        return wire.length_delimited(number, base64.b64decode(_str(value), validate=True))
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"expected a boolean, got {value!r}")
        return wire.varint_field(number, int(value))
    if kind in ("int32", "int64"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"expected an integer, got {value!r}")
        return wire.varint_field(number, value)
    if kind == "double":
        return wire.double_field(number, float(value))
    return wire.length_delimited(number, _payload(kind, ref, value))


def _payload(kind: str, ref: str, value: Any) -> bytes:
    if kind == "time" or kind == "microtime":
        return _time(value)
    if kind == "quantity":
        return wire.length_delimited(1, _str(value).encode())
    if kind == "intorstring":
        if isinstance(value, str):
            return wire.varint_field(1, 1) + wire.varint_field(2, 0) + wire.length_delimited(3, value.encode())
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"expected an integer or a string, got {value!r}")
        return wire.varint_field(1, 0) + wire.varint_field(2, value) + wire.length_delimited(3, b"")
    if kind == "rawjson":
        return wire.length_delimited(1, orjson.dumps(value))
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {value!r}")
    return encode_message(ref, value)


def _time(value: Any) -> bytes:
    when = datetime.fromisoformat(_str(value))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = when - _EPOCH
    seconds = delta // timedelta(seconds=1)
    nanos = when.microsecond * 1000
    return wire.varint_field(1, seconds) + wire.varint_field(2, nanos)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value
