"""Kubernetes protobuf request bodies → the JSON-shaped dict the same object has in JSON.

A body is `k8s\\0` followed by a `runtime.Unknown`: typeMeta (apiVersion, kind), raw (the object's
own message), contentEncoding, contentType. We pick the message from typeMeta and walk `raw` with
the generated field table.

Go's JSON and gogo's protobuf disagree about "unset": gogo writes every non-pointer field, zero or
not, while Go's JSON leaves out zero `omitempty` fields. So a zero scalar is dropped unless its Go
field is a pointer (then zero was said on purpose: `replicas: 0`, `automountServiceAccountToken:
false`) or its JSON has no omitempty (`containerPort`). Empty lists and maps are dropped, and so are
empty non-pointer messages (`status: {}`, `strategy: {}`) and zero times (`creationTimestamp: null`);
an empty pointer message stays (`emptyDir: {}` means "an emptyDir volume").

Every failure is a 400 `StatusError` worded as kube-apiserver words it.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.api.protobuf import catalog, wire
from pocketkube.api.protobuf.catalog import INLINE, POINTER, REPEATED, REQUIRED

_SCALAR_WIRE = {"string": wire.LENGTH, "bytes": wire.LENGTH, "bool": wire.VARINT, "int32": wire.VARINT,
                "int64": wire.VARINT, "double": wire.FIXED64}
_SCHEME = "pkg/api/legacyscheme/scheme.go:30"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decode_object(body: bytes, kind_hint: tuple[str, str] | None = None) -> Obj:
    """Decode a `application/vnd.kubernetes.protobuf` body into its JSON form.

    `kind_hint` (apiVersion, kind) names the type to assume when the envelope's typeMeta is empty, as
    kube-apiserver decodes into the handler's own type (DeleteOptions bodies are sent that way).
    """
    if not body:
        raise errors.bad_request("empty data")
    if not body.startswith(catalog.MAGIC):
        prefix = " ".join(str(byte) for byte in catalog.MAGIC)  # Go prints a []byte as [107 56 115 0]
        raise errors.bad_request(f"provided data does not appear to be a protobuf message, expected prefix [{prefix}]")
    if len(body) == len(catalog.MAGIC):
        raise errors.bad_request("empty body")
    try:
        api_version, kind, raw = _envelope(body[len(catalog.MAGIC):])
    except (wire.WireError, UnicodeDecodeError) as exc:
        raise errors.bad_request(str(exc)) from None
    if not kind and kind_hint:
        api_version, kind = kind_hint
    if not kind:
        raise errors.bad_request("Object 'Kind' is missing in the protobuf body")
    message = catalog.message_for(api_version, kind)
    if message is None:
        raise errors.bad_request(f'no kind "{kind}" is registered for version "{api_version}" '
                                 f'in scheme "{_SCHEME}"')
    try:
        obj = _message(message, raw)
    except (ValueError, OverflowError, RecursionError) as exc:  # WireError, bad UTF-8, bad JSON, bad time
        version = api_version.rpartition("/")[2]
        raise errors.bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: '
                                 f"{_reason(exc)}") from None
    return {"kind": kind, "apiVersion": api_version, **obj}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "proto: invalid UTF-8 in a string field"
    return str(exc) or type(exc).__name__


def _envelope(data: bytes) -> tuple[str, str, bytes]:
    api_version = kind = ""
    raw = b""
    for number, wire_type, value in wire.iter_fields(data):
        if number == 1 and isinstance(value, bytes):
            for sub, _, text in wire.iter_fields(value):
                if sub == 1 and isinstance(text, bytes):
                    api_version = text.decode()
                elif sub == 2 and isinstance(text, bytes):
                    kind = text.decode()
        elif number == 2 and isinstance(value, bytes):
            raw = value
        elif number == 3 and isinstance(value, bytes) and value:
            # kube writes no content encoding; anything else is not a body it could read either.
            raise wire.WireError(f"unsupported content encoding {value.decode(errors='replace')!r}")
        elif number in (1, 2, 3, 4) and wire_type != wire.LENGTH:
            raise wire.WireError(f"proto: wrong wireType = {wire_type} for field {number}")
    return api_version, kind, raw


def _message(message: str, data: bytes) -> Obj:
    index = catalog.by_number(message)
    out: Obj = {}
    inline: list[Obj] = []
    for number, wire_type, value in wire.iter_fields(data):
        field = index.get(number)
        if field is None:
            continue  # fields newer than our table are skipped, as gogo's Unmarshal skips them
        _, name, kind, ref, flags = field
        if kind == "map":
            entry_key, entry_value = _map_entry(name, ref, _length(name, wire_type, value))
            out.setdefault(name, {})[entry_key] = entry_value
        elif flags & REPEATED:
            if kind in catalog.PACKABLE and wire_type == wire.LENGTH:
                out.setdefault(name, []).extend(_packed(name, kind, _length(name, wire_type, value)))
            else:
                out.setdefault(name, []).append(_value(name, kind, ref, wire_type, value))
        elif flags & INLINE:
            inline.append(_message(ref, _length(name, wire_type, value)))
        else:
            decoded = _value(name, kind, ref, wire_type, value)
            previous = out.get(name)
            if kind == "message" and isinstance(previous, dict):
                previous.update(decoded)  # a message repeated on the wire merges, as protobuf says
            else:
                out[name] = decoded
    for field in catalog.fields(message):
        _, name, kind, _, flags = field
        if name in out and _unset(kind, flags, out[name]):
            del out[name]
    for nested in inline:
        out.update(nested)
    return out


def _unset(kind: str, flags: int, value: Any) -> bool:
    """Whether a decoded value means "not set" in the JSON form (see the module docstring)."""
    if value is None:
        return True  # zero time, empty raw extension
    if kind == "map" or flags & REPEATED:
        return not value
    if flags & POINTER:
        return False
    if kind == "message":
        return not value
    if kind in ("intorstring", "quantity"):
        return value in (0, "")
    if flags & REQUIRED:
        return False
    return not value


def _length(name: str, wire_type: int, value: int | bytes) -> bytes:
    if wire_type != wire.LENGTH or not isinstance(value, bytes):
        raise wire.WireError(f"proto: wrong wireType = {wire_type} for field {_go_name(name)}")
    return value


def _go_name(name: str) -> str:
    return name[:1].upper() + name[1:]


def _value(name: str, kind: str, ref: str, wire_type: int, value: int | bytes) -> Any:
    expected = _SCALAR_WIRE.get(kind, wire.LENGTH)
    if wire_type != expected:
        raise wire.WireError(f"proto: wrong wireType = {wire_type} for field {_go_name(name)}")
    if isinstance(value, int):
        return _number(kind, value)
    if kind == "string":
        return value.decode()
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "message":
        return _message(ref, value)
    return _special(kind, value)


def _number(kind: str, value: int) -> Any:
    if kind == "bool":
        return value != 0
    if kind == "int32":
        return wire.signed(value, 32)
    if kind == "int64":
        return wire.signed(value, 64)
    return wire.double(value)


def _packed(name: str, kind: str, data: bytes) -> list[Any]:
    out, pos = [], 0
    while pos < len(data):
        if kind == "double":
            if pos + 8 > len(data):
                raise wire.WireError("unexpected EOF")
            raw = int.from_bytes(data[pos:pos + 8], "little")
            pos += 8
        else:
            raw, pos = wire.read_varint(data, pos)
        out.append(_number(kind, raw))
    return out


def _map_entry(name: str, ref: str, data: bytes) -> tuple[str, Any]:
    key = ""
    value: Any = None
    value_kind = "message" if "." in ref else ref
    for number, wire_type, raw in wire.iter_fields(data):
        if number == 1:
            key = _length(name, wire_type, raw).decode()
        elif number == 2:
            value = _value(name, value_kind, ref, wire_type, raw)
    if value is None:  # an absent value is the zero value
        value = _value(name, value_kind, ref, _SCALAR_WIRE.get(value_kind, wire.LENGTH),
                       0 if value_kind in ("bool", "int32", "int64", "double") else b"")
    return key, value


def _subfields(data: bytes) -> dict[int, int | bytes]:
    return {number: value for number, _, value in wire.iter_fields(data)}


def _special(kind: str, data: bytes) -> Any:
    """The JSON form of apimachinery's messages that are not JSON objects."""
    sub = _subfields(data)
    if kind in ("time", "microtime"):
        seconds, nanos = _int(sub, 1, 64), _int(sub, 2, 32)
        if seconds == 0 and nanos == 0:
            return None  # Go's zero time: `null` in JSON
        when = _EPOCH + timedelta(seconds=seconds)  # OverflowError past year 9999, as Go's JSON fails
        if kind == "time":
            return when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{nanos // 1000:06d}Z"
    if kind == "quantity":
        return _text(sub, 1)
    if kind == "intorstring":
        return _text(sub, 3) if _int(sub, 1, 64) == 1 else _int(sub, 2, 32)
    if kind == "rawjson":
        raw = sub.get(1, b"")
        if not isinstance(raw, bytes):
            raise wire.WireError("proto: wrong wireType = 0 for field Raw")
        if not raw:
            return None
        if raw.startswith(catalog.MAGIC):  # an embedded object written as protobuf
            return decode_object(raw)
        return orjson.loads(raw)
    raise wire.WireError(f"no JSON form known for {kind}")


def _int(sub: dict[int, int | bytes], number: int, bits: int) -> int:
    value = sub.get(number, 0)
    if not isinstance(value, int):
        raise wire.WireError(f"proto: wrong wireType = 2 for field {number}")
    return wire.signed(value, bits)


def _text(sub: dict[int, int | bytes], number: int) -> str:
    value = sub.get(number, b"")
    if not isinstance(value, bytes):
        raise wire.WireError(f"proto: wrong wireType = 0 for field {number}")
    return value.decode()
