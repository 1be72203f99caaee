"""Bytes ↔ objects: request bodies (JSON or YAML, size-limited) and stored values.

Stored values carry no `metadata.resourceVersion`: it is the store revision of the value, set on
the way out, so an object is never written twice to stamp its own version.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.storage import KeyValue

MAX_REQUEST_BYTES = 3 * 1024 * 1024  # kube-apiserver's limit for a request body

try:
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # libyaml missing: the pure-Python loader reads the same documents
    _YamlLoader = yaml.SafeLoader


def from_store(kv: KeyValue) -> Obj:
    obj: Obj = orjson.loads(kv.value)
    obj.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
    return obj


def to_store(obj: Obj) -> bytes:
    meta = obj.get("metadata") or {}
    rv = meta.pop("resourceVersion", None)
    try:
        return orjson.dumps(obj)
    finally:
        if rv is not None:
            meta["resourceVersion"] = rv


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


PROTOBUF = "application/vnd.kubernetes.protobuf"


def decode_body(body: bytes, content_type: str, *, yaml_ok: bool = True,
                kind_hint: tuple[str, str] | None = None) -> Any:
    """Decode a request body; malformed input is a 400 BadRequest, as kube reports it.

    JSON, YAML, and Kubernetes protobuf (kubectl 1.32+ typed clients send it for creates).
    """
    if len(body) > MAX_REQUEST_BYTES:
        raise errors.too_large(MAX_REQUEST_BYTES)
    media = content_type.split(";", 1)[0].strip().lower()
    if media == PROTOBUF:
        from pocketkube.api import protobuf  # its tables load on the first protobuf request

        return protobuf.decode_object(body, kind_hint)
    if not body.strip():
        raise errors.bad_request("the request body is empty")
    if media.endswith("yaml"):
        if not yaml_ok:
            raise errors.unsupported_media_type(content_type)
        try:
            return yaml.load(body, Loader=_YamlLoader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error converting YAML to JSON: {_one_line(exc)}") from None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def decode_object(body: bytes, content_type: str, kind_hint: tuple[str, str] | None = None) -> Obj:
    value = decode_body(body, content_type, kind_hint=kind_hint)
    if not isinstance(value, dict):
        raise errors.bad_request("the body of the request is not a JSON object")
    return value


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
