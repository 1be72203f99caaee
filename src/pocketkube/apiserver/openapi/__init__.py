"""`/openapi/v2`, `/openapi/v3` and `/openapi/v3/<api/v1 | apis/g/v>`: built lazily, cached forever.

Built from `pocketkube.api.resources` (paths) and `pocketkube.api.schema` (definitions), both fixed for
the life of the process, so each document is encoded once, on first request (a build walks hundreds
of definitions; keeping it off the start-up path keeps the server quick to start). `warm_up()` builds
everything, for a caller that prefers to pay in a background thread.

How clients use these (kubectl 1.27–1.33):
* `kubectl create/apply/replace` (default `--validate=strict`) read the v3 document of the object's
  group-version and send `fieldValidation=Strict` when its PATCH operation lists that parameter;
* `kubectl explain` reads v3 (the default since 1.27);
* client-side `kubectl apply` computes strategic merge patches from v3 (1.29+) or v2 (1.27/1.28),
  and on any error silently falls back to its compiled-in types.
client-go asks for `/openapi/v2` only as protobuf and can parse nothing else, and kubectl 1.27/1.28
fail `create`, `apply` and `explain` without it, so v2 is served as JSON or as gnostic protobuf.

v3 documents are addressed by content hash (`serverRelativeURL: /openapi/v3/api/v1?hash=…`). A
request whose `hash` matches `openapi_v3_hash()` gets `Cache-Control: public, immutable` and an
Expires a year ahead; a stale hash gets a 301 to `openapi_v3_url()`, as kube-openapi's handler does.
"""

from __future__ import annotations

import functools
import hashlib

import orjson

from pocketkube.api import errors
from pocketkube.api.resources import group_versions, resources_in

from . import protobuf, render
from .paths import build_paths

JSON = "application/json"
PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_PROTOBUF_V2_ASKS = (PROTOBUF_V2, "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")


def _accepted(accept: str) -> list[str]:
    """Media types of an Accept header with q > 0, most preferred first."""
    ranked: list[tuple[float, int, str]] = []
    for index, clause in enumerate(accept.split(",")):
        media, _, rest = clause.partition(";")
        q = 1.0
        for param in rest.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, index, media.strip().lower()))
    return [media for _, _, media in sorted(ranked)]


def json_acceptable(accept: str) -> bool:
    """Whether an Accept header admits plain JSON (what we serve for the v3 documents)."""
    return not accept.strip() or any(m in (JSON, "application/*", "*/*") for m in _accepted(accept))


def _gv_paths() -> dict[str, tuple[str, str]]:
    """v3 path key ("api/v1", "apis/apps/v1") → (group, version)."""
    out = {}
    for group, versions in group_versions().items():
        for version in versions:
            out[f"apis/{group}/{version}" if group else f"api/{version}"] = (group, version)
    return out


@functools.cache
def _v2_doc() -> dict[str, object]:
    resources = [r for g, vs in group_versions().items() for v in vs for r in resources_in(g, v)]
    return render.swagger(build_paths(resources))


@functools.cache
def _v2_body(as_protobuf: bool) -> bytes:
    return protobuf.document(_v2_doc()) if as_protobuf else orjson.dumps(_v2_doc())


def openapi_v2(accept: str) -> tuple[bytes, str]:
    """The swagger 2.0 document and its Content-Type: JSON, or protobuf when that is preferred (as
    client-go asks). Raises StatusError 406 when the Accept header allows neither."""
    if not accept.strip():
        return _v2_body(False), JSON
    for media in _accepted(accept):
        if media in (JSON, "application/*", "*/*"):
            return _v2_body(False), JSON
        if media in _PROTOBUF_V2_ASKS:
            return _v2_body(True), PROTOBUF_V2
    raise errors.not_acceptable(f"only the following media types are accepted: {JSON}, {PROTOBUF_V2}")


def _normalize(path: str) -> str:
    return path.split("?", 1)[0].strip("/").removeprefix("openapi/v3").strip("/")


@functools.cache
def _v3_body(key: str) -> bytes | None:
    gv = _gv_paths().get(key)
    if gv is None:
        return None
    return orjson.dumps(render.openapi3(build_paths(resources_in(*gv))))


def openapi_v3_doc(path: str) -> bytes | None:
    """The OpenAPI 3.0 document of one group-version ("api/v1", "/openapi/v3/apis/apps/v1"), or None."""
    return _v3_body(_normalize(path))


@functools.cache
def _v3_hash(key: str) -> str | None:
    body = _v3_body(key)
    return hashlib.sha512(body).hexdigest().upper() if body is not None else None


def openapi_v3_hash(path: str) -> str | None:
    """The content hash of a v3 document: its `?hash=` value and (quoted) its ETag."""
    return _v3_hash(_normalize(path))


def openapi_v3_url(path: str) -> str | None:
    """The server-relative URL of a v3 document, hash included."""
    key = _normalize(path)
    digest = _v3_hash(key)
    return f"/openapi/v3/{key}?hash={digest}" if digest else None


@functools.cache
def openapi_v3_index() -> bytes:
    """`/openapi/v3`: every group-version and the hashed URL of its document. Hashing needs the
    documents, so the first call builds them all."""
    return orjson.dumps({"paths": {key: {"serverRelativeURL": openapi_v3_url(key)} for key in _gv_paths()}})


def warm_up() -> None:
    """Build and cache every document now (e.g. from a thread after the server starts listening)."""
    _v2_body(False)
    _v2_body(True)
    openapi_v3_index()
