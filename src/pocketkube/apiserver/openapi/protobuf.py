"""The swagger 2.0 document in gnostic's protobuf form (`openapi.v2.Document`), hand-encoded.

client-go's `OpenAPISchema()` asks for `/openapi/v2` only as
`application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and unmarshals the reply as protobuf.
kubectl 1.27 and 1.28 call it eagerly from `create`/`apply`/`replace` with the default validation and
from `explain`; a failure there (it retries `/swagger-2.0.0.pb-v1`, then gives up) fails the command.
Later kubectl versions read OpenAPI v3 instead.

Only the messages and fields a Kubernetes swagger document uses are encoded; field numbers come from
gnostic's OpenAPIv2.proto. Vendor extensions travel as `NamedAny{name, Any{yaml}}`; JSON is YAML, so
the value is its JSON text, which is what kube-openapi's proto reader parses back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

Doc = dict[str, Any]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _str(field: int, value: str | None) -> bytes:
    return _bytes(field, value.encode()) if value else b""


def _strs(field: int, values: Iterable[str]) -> bytes:
    return b"".join(_bytes(field, v.encode()) for v in values)


def _bool(field: int, value: Any) -> bytes:
    return _varint(field << 3) + b"\x01" if value else b""


def _int(field: int, value: Any) -> bytes:
    return _varint(field << 3) + _varint(int(value)) if value else b""


def _any(field: int, value: Any) -> bytes:
    return _bytes(field, _str(2, orjson.dumps(value).decode()))  # Any.yaml


def _extensions(field: int, node: Doc) -> bytes:
    return b"".join(_bytes(field, _str(1, k) + _any(2, v)) for k, v in node.items() if k.startswith("x-"))


# Schema fields by JSON key → (field number, encoder); structural keys are handled in `schema()`.
_SCHEMA_SCALARS = {
    "$ref": (1, _str), "format": (2, _str), "title": (3, _str), "description": (4, _str),
    "default": (5, _any), "maxLength": (11, _int), "minLength": (12, _int), "pattern": (13, _str),
    "maxItems": (14, _int), "minItems": (15, _int), "uniqueItems": (16, _bool), "maxProperties": (17, _int),
    "minProperties": (18, _int), "discriminator": (26, _str), "readOnly": (27, _bool), "example": (30, _any),
}
SCHEMA_KEYS = frozenset({*_SCHEMA_SCALARS, "required", "enum", "additionalProperties", "type", "items",
                         "allOf", "properties"})


def schema(node: Doc) -> bytes:
    out = bytearray()
    for key, value in node.items():
        if key in _SCHEMA_SCALARS:
            field, encode = _SCHEMA_SCALARS[key]
            out += encode(field, value)
        elif key == "required":
            out += _strs(19, value)
        elif key == "enum":
            out += b"".join(_any(20, v) for v in value)
        elif key == "additionalProperties":
            item = _bytes(1, schema(value)) if isinstance(value, dict) else _bool(2, value)
            out += _bytes(21, item)
        elif key == "type":
            out += _bytes(22, _strs(1, [value] if isinstance(value, str) else value))
        elif key == "items":
            out += _bytes(23, b"".join(_bytes(1, schema(s)) for s in (value if isinstance(value, list) else [value])))
        elif key == "allOf":
            out += b"".join(_bytes(24, schema(s)) for s in value)
        elif key == "properties":
            out += _bytes(25, b"".join(_bytes(1, _str(1, k) + _bytes(2, schema(v))) for k, v in value.items()))
    out += _extensions(31, node)
    return bytes(out)


def _parameter(p: Doc) -> bytes:
    if p["in"] == "body":
        body = (_str(1, p.get("description")) + _str(2, p["name"]) + _str(3, "body") + _bool(4, p.get("required"))
                + _bytes(5, schema(p["schema"])))
        parameter = _bytes(1, body)
    else:
        # Query and path sub-schemas share their first fields; they differ from `type` on.
        common = _bool(1, p.get("required")) + _str(2, p["in"]) + _str(3, p.get("description")) + _str(4, p["name"])
        if p["in"] == "path":
            sub = _bytes(4, common + _str(5, p.get("type")) + _bool(19, p.get("uniqueItems")))
        else:
            sub = _bytes(3, common + _str(6, p.get("type")) + _bool(20, p.get("uniqueItems")))
        parameter = _bytes(2, sub)
    return _bytes(1, parameter)  # ParametersItem.parameter


def _operation(op: Doc) -> bytes:
    responses = b"".join(
        _bytes(1, _str(1, code) + _bytes(2, _bytes(1, _str(1, r.get("description"))
                                                     + (_bytes(2, _bytes(1, schema(r["schema"])))
                                                        if "schema" in r else b""))))
        for code, r in op.get("responses", {}).items())
    return (_strs(1, op.get("tags", ())) + _str(3, op.get("description")) + _str(5, op.get("operationId"))
            + _strs(6, op.get("produces", ())) + _strs(7, op.get("consumes", ()))
            + b"".join(_bytes(8, _parameter(p)) for p in op.get("parameters", ()))
            + _bytes(9, responses) + _strs(10, op.get("schemes", ())) + _extensions(13, op))


_METHOD_FIELDS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def _path_item(item: Doc) -> bytes:
    out = b"".join(_bytes(_METHOD_FIELDS[m], _operation(item[m])) for m in _METHOD_FIELDS if m in item)
    return out + b"".join(_bytes(9, _parameter(p)) for p in item.get("parameters", ()))


def document(doc: Doc) -> bytes:
    """Encode a swagger 2.0 document (as built by render.swagger) as an openapi.v2.Document."""
    info = doc.get("info", {})
    paths = b"".join(_bytes(2, _str(1, p) + _bytes(2, _path_item(i))) for p, i in doc.get("paths", {}).items())
    definitions = b"".join(_bytes(1, _str(1, n) + _bytes(2, schema(s)))
                           for n, s in doc.get("definitions", {}).items())
    security = b"".join(
        _bytes(12, b"".join(_bytes(1, _str(1, name) + _bytes(2, _strs(1, scopes))) for name, scopes in req.items()))
        for req in doc.get("security", ()))
    schemes = b"".join(
        _bytes(1, _str(1, name) + _bytes(2, _bytes(2, _str(1, s.get("type")) + _str(2, s.get("name"))
                                                   + _str(3, s.get("in")) + _str(4, s.get("description")))))
        for name, s in doc.get("securityDefinitions", {}).items() if s.get("type") == "apiKey")
    return (_str(1, doc.get("swagger")) + _bytes(2, _str(1, info.get("title")) + _str(2, info.get("version")))
            + _bytes(8, paths) + _bytes(9, definitions) + security + (_bytes(13, schemes) if schemes else b""))
