"""OpenAPI v2 and v3 documents, checked the way kubectl and client-go read them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.resources import RESOURCES, group_versions
from pocketkube.apiserver import openapi
from pocketkube.apiserver.openapi import protobuf

PROTOBUF_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
METHODS = ("get", "put", "post", "patch", "delete")


def _v2() -> dict[str, Any]:
    body, content_type = openapi.openapi_v2("application/json")
    assert content_type == "application/json"
    return orjson.loads(body)


def _v3(key: str) -> dict[str, Any]:
    body = openapi.openapi_v3_doc(key)
    assert body is not None, key
    return orjson.loads(body)


def _gv_keys() -> list[str]:
    return [f"apis/{g}/{v}" if g else f"api/{v}" for g, vs in group_versions().items() for v in vs]


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _schema_nodes(definitions: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Schema objects only: walks schema keywords, not vendor extensions."""
    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if not isinstance(node, dict):
            return
        yield node
        for sub in node.get("properties", {}).values():
            yield from walk(sub)
        for key in ("items", "additionalProperties"):
            yield from walk(node.get(key))
        for key in ("allOf", "oneOf", "anyOf"):
            for sub in node.get(key, ()):
                yield from walk(sub)
    for definition in definitions.values():
        yield from walk(definition)


def _refs(doc: Any) -> set[str]:
    return {n["$ref"] for n in _nodes(doc) if isinstance(n.get("$ref"), str)}


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_v2_is_swagger_with_resolvable_definition_refs() -> None:
    doc = _v2()
    assert doc["swagger"] == "2.0"
    raw = openapi.openapi_v2("*/*")[0]
    assert b"$defs" not in raw
    refs = _refs(doc)
    assert refs and all(r.startswith("#/definitions/") for r in refs)
    assert {r.removeprefix("#/definitions/") for r in refs} <= doc["definitions"].keys()
    for node in _schema_nodes(doc["definitions"]):
        assert "oneOf" not in node
        if "type" in node:
            assert isinstance(node["type"], str) and node["type"] != "null"


def test_v2_special_types_and_type_meta() -> None:
    defs = _v2()["definitions"]
    assert defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["type"] == "string"
    assert defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string"
    assert defs["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"
    pod = defs["io.k8s.api.core.v1.Pod"]
    assert "enum" not in pod["properties"]["kind"] and pod["properties"]["kind"]["type"] == "string"
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    ports = defs["io.k8s.api.core.v1.Container"]["properties"]["ports"]
    assert ports["x-kubernetes-patch-merge-key"] == "containerPort"


def test_v2_pod_paths() -> None:
    paths = _v2()["paths"]
    collection = paths["/api/v1/namespaces/{namespace}/pods"]
    assert collection["get"]["operationId"] == "listCoreV1NamespacedPod"
    assert collection["get"]["x-kubernetes-action"] == "list"
    assert collection["post"]["x-kubernetes-action"] == "post"
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    item = paths["/api/v1/namespaces/{namespace}/pods/{name}"]
    assert set(item) >= {"get", "put", "patch", "delete", "parameters"}
    assert item["patch"]["x-kubernetes-group-version-kind"] == {"group": "", "kind": "Pod", "version": "v1"}
    assert {p["name"] for p in item["patch"]["parameters"]} == {"body", "dryRun", "fieldManager",
                                                                "fieldValidation", "force"}
    assert "application/strategic-merge-patch+json" in item["patch"]["consumes"]
    assert paths["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    assert paths["/api/v1/watch/namespaces/{namespace}/pods"]["get"]["x-kubernetes-action"] == "watchlist"
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["get"]["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "kind": "Scale",
                                                               "version": "v1"}
    assert scale["get"]["responses"]["200"]["schema"] == {"$ref": "#/definitions/io.k8s.api.autoscaling.v1.Scale"}
    execs = paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"]
    assert execs["post"]["x-kubernetes-action"] == "connect"
    assert paths["/api/v1/namespaces/{name}/finalize"]["put"]["operationId"] == "replaceCoreV1NamespaceFinalize"


def test_v2_every_operation_is_annotated_and_ids_are_unique() -> None:
    ids = []
    for _, method, op in _operations(_v2()):
        assert op["x-kubernetes-action"]
        assert set(op["x-kubernetes-group-version-kind"]) == {"group", "version", "kind"}
        ids.append(op["operationId"])
        if method in ("post", "put", "patch") and op["x-kubernetes-action"] != "connect":
            assert "fieldValidation" in {p["name"] for p in op["parameters"]}
    assert len(ids) == len(set(ids))


def _decode(data: bytes) -> list[tuple[int, Any]]:
    """A minimal protobuf reader: (field number, bytes | int) for each top-level field."""
    out: list[tuple[int, Any]] = []
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(data, i)
            out.append((field, value))
        else:
            assert wire == 2, wire
            length, i = _read_varint(data, i)
            out.append((field, data[i:i + length]))
            i += length
    return out


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, i


@pytest.mark.parametrize("accept", [PROTOBUF_V2, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"])
def test_v2_protobuf_as_client_go_asks(accept: str) -> None:
    body, content_type = openapi.openapi_v2(accept)
    assert content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    fields = dict(_decode(body))
    assert fields[1] == b"2.0"  # Document.swagger
    definitions = {}
    for _, named in _decode(fields[9]):  # Definitions.additional_properties: NamedSchema
        entry = dict(_decode(named))
        definitions[entry[1].decode()] = entry[2]
    assert definitions.keys() == _v2()["definitions"].keys()
    pod = _decode(definitions["io.k8s.api.core.v1.Pod"])
    extensions = [dict(_decode(v)) for f, v in pod if f == 31]  # Schema.vendor_extension: NamedAny
    gvk = next(e for e in extensions if e[1] == b"x-kubernetes-group-version-kind")
    assert orjson.loads(dict(_decode(gvk[2]))[2]) == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert dict(pod)[22] == b"\x0a\x06object"  # TypeItem{value: "object"}
    assert openapi.openapi_v2(f"{accept},application/json;q=0.9")[1] == content_type
    assert openapi.openapi_v2(f"{accept};q=0.5,application/json")[1] == "application/json"


def test_protobuf_encoder_covers_every_schema_keyword() -> None:
    used = {key for node in _schema_nodes(_v2()["definitions"]) for key in node}
    assert {k for k in used if not k.startswith("x-")} <= protobuf.SCHEMA_KEYS


def test_v2_unacceptable() -> None:
    with pytest.raises(StatusError) as err:
        openapi.openapi_v2("text/html")
    assert err.value.code == 406


def test_v3_index_lists_every_group_version_with_its_hash() -> None:
    index = orjson.loads(openapi.openapi_v3_index())
    assert set(index["paths"]) == set(_gv_keys())
    for key, entry in index["paths"].items():
        url = entry["serverRelativeURL"]
        assert url == f"/openapi/v3/{key}?hash={openapi.openapi_v3_hash(key)}"
        assert openapi.openapi_v3_url(f"/openapi/v3/{key}") == url


@pytest.mark.parametrize("key", _gv_keys())
def test_v3_document_is_self_contained(key: str) -> None:
    doc = _v3(key)
    assert doc["openapi"].startswith("3.0")
    schemas = doc["components"]["schemas"]
    refs = _refs(doc)
    assert all(r.startswith("#/components/schemas/") for r in refs)
    assert {r.removeprefix("#/components/schemas/") for r in refs} <= schemas.keys()
    for node in _nodes(doc):
        if "$ref" in node:  # OpenAPI 3.0 ignores $ref siblings, so none may exist
            assert list(node) == ["$ref"]
    prefix = f"/{key}/"
    assert all(path.startswith(prefix) for path in doc["paths"])


def test_v3_core_contains_pod_and_int_or_string() -> None:
    schemas = _v3("/openapi/v3/api/v1")["components"]["schemas"]
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["properties"]["spec"]["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]
    assert pod["properties"]["spec"]["description"]
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["oneOf"] == [
        {"type": "string"}, {"type": "integer"}]
    assert "io.k8s.api.apps.v1.Deployment" not in schemas


@pytest.mark.parametrize("res", RESOURCES, ids=lambda r: f"{r.group_version}/{r.plural}")
def test_kubectl_finds_field_validation_for_every_kind(res: Any) -> None:
    """kubectl's queryParamVerifierV3: the first PATCH operation tagged with the GVK must carry a
    `fieldValidation` query parameter; since Go map order is random, every such operation must."""
    doc = _v3(f"apis/{res.group_version}" if res.group else f"api/{res.version}")
    gvk = {"group": res.group, "version": res.version, "kind": res.kind}
    patches = [op for _, method, op in _operations(doc)
               if method == "patch" and op["x-kubernetes-group-version-kind"] == gvk]
    assert patches
    for op in patches:
        assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in op["parameters"])


def test_v3_unknown_group_version() -> None:
    assert openapi.openapi_v3_doc("apis/nope/v1") is None
    assert openapi.openapi_v3_hash("apis/apps/v2") is None
    assert openapi.openapi_v3_url("api/v2") is None


def test_json_acceptable() -> None:
    assert openapi.json_acceptable("")
    assert openapi.json_acceptable("application/json, */*")
    assert not openapi.json_acceptable("application/com.github.proto-openapi.spec.v3.v1.0+protobuf")
    assert not openapi.json_acceptable("application/json;q=0")
