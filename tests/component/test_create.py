"""POST: server-set metadata, generateName, identity checks, dryRun and fieldValidation."""

from __future__ import annotations

import re

import orjson
import pytest

from tests.component.conftest import CONFIGMAPS, PODS, Client, call, configmap, failure, pod


async def test_create_sets_server_metadata(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a", x="1"), status=201)
    md = created["metadata"]
    assert md["name"] == "a" and md["namespace"] == "default"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", md["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", md["creationTimestamp"])
    assert int(md["resourceVersion"]) > 0
    assert "generation" not in md  # configmaps do not track generation
    got = await call(api, "GET", f"{CONFIGMAPS}/a", status=200)
    assert got == created


async def test_create_ignores_client_set_server_fields(api: Client) -> None:
    body = configmap("a")
    body["metadata"].update(uid="mine", resourceVersion="999", creationTimestamp="2000-01-01T00:00:00Z")
    created = await call(api, "POST", CONFIGMAPS, body, status=201)
    md = created["metadata"]
    assert md["uid"] != "mine" and md["resourceVersion"] != "999"
    assert md["creationTimestamp"] != "2000-01-01T00:00:00Z"


async def test_pod_gets_generation_and_pending_status(api: Client) -> None:
    created = await call(api, "POST", PODS, pod("p"), status=201)
    assert created["metadata"]["generation"] == 1
    assert created["status"]["phase"] == "Pending"
    assert created["status"]["qosClass"] == "BestEffort"


async def test_generate_name(api: Client) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "web-"}}
    first = await call(api, "POST", CONFIGMAPS, body, status=201)
    second = await call(api, "POST", CONFIGMAPS, body, status=201)
    for made in (first, second):
        assert re.fullmatch(r"web-[a-z0-9]{5}", made["metadata"]["name"]), made["metadata"]["name"]
        assert made["metadata"]["generateName"] == "web-"
    assert first["metadata"]["name"] != second["metadata"]["name"]


async def test_create_in_missing_namespace_is_404(api: Client) -> None:
    out = await failure(api, "POST", "/api/v1/namespaces/x/configmaps", configmap("a"), status=404,
                        reason="NotFound")
    assert out["message"] == 'namespaces "x" not found'
    assert out["details"]["name"] == "x" and out["details"]["kind"] == "namespaces"


async def test_create_twice_is_already_exists(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    out = await failure(api, "POST", CONFIGMAPS, configmap("a"), status=409, reason="AlreadyExists")
    assert out["message"] == 'configmaps "a" already exists'
    assert out["details"] == {"name": "a", "kind": "configmaps"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("apiVersion", "v2", "the API version in the data (v2) does not match the expected API version (v1)"),
    ("kind", "Secret", "the kind in the data (Secret) does not match the expected kind (ConfigMap)"),
])
async def test_create_with_wrong_identity_is_400(api: Client, field: str, value: str, message: str) -> None:
    body = configmap("a")
    body[field] = value
    out = await failure(api, "POST", CONFIGMAPS, body, status=400, reason="BadRequest")
    assert out["message"] == message


async def test_create_with_other_namespace_is_400(api: Client) -> None:
    body = configmap("a")
    body["metadata"]["namespace"] = "other"
    out = await failure(api, "POST", CONFIGMAPS, body, status=400, reason="BadRequest")
    assert out["message"] == ("the namespace of the provided object does not match the namespace sent on "
                              "the request")


async def test_create_without_kind_fills_it_in(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, {"metadata": {"name": "a"}}, status=201)
    assert (created["apiVersion"], created["kind"]) == ("v1", "ConfigMap")


async def test_dry_run_stores_nothing(api: Client) -> None:
    before = await call(api, "GET", CONFIGMAPS, status=200)
    made = await call(api, "POST", f"{CONFIGMAPS}?dryRun=All", configmap("a"), status=201)
    assert made["metadata"]["name"] == "a" and made["metadata"]["uid"]
    await failure(api, "GET", f"{CONFIGMAPS}/a", status=404, reason="NotFound")
    after = await call(api, "GET", CONFIGMAPS, status=200)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_dry_run_with_bad_value_is_400(api: Client) -> None:
    out = await failure(api, "POST", f"{CONFIGMAPS}?dryRun=Some", configmap("a"), status=400,
                        reason="BadRequest")
    assert "Invalid dry run value" in out["message"]


async def test_dry_run_still_reports_already_exists(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    await failure(api, "POST", f"{CONFIGMAPS}?dryRun=All", configmap("a"), status=409, reason="AlreadyExists")


def _with_unknown_field() -> dict[str, object]:
    body = pod("p")
    body["spec"]["bogus"] = 1
    return body


async def test_field_validation_strict_rejects_unknown_field(api: Client) -> None:
    for query in ("", "?fieldValidation=Strict"):
        out = await failure(api, "POST", PODS + query, _with_unknown_field(), status=400, reason="BadRequest")
        assert out["message"] == 'strict decoding error: unknown field "spec.bogus"'
    await failure(api, "GET", f"{PODS}/p", status=404, reason="NotFound")


async def test_field_validation_warn_creates_with_warning(api: Client) -> None:
    resp = await api.post(f"{PODS}?fieldValidation=Warn", data=orjson.dumps(_with_unknown_field()),
                          headers={"Content-Type": "application/json"})
    assert resp.status == 201
    assert resp.headers.getall("Warning") == ['299 - "unknown field \\"spec.bogus\\""']


async def test_field_validation_ignore_creates_silently(api: Client) -> None:
    resp = await api.post(f"{PODS}?fieldValidation=Ignore", data=orjson.dumps(_with_unknown_field()),
                          headers={"Content-Type": "application/json"})
    assert resp.status == 201
    assert "Warning" not in resp.headers


@pytest.mark.parametrize("mode", ["Warn", "Ignore"])
async def test_unknown_fields_are_dropped_when_not_strict(api: Client, mode: str) -> None:
    created = await call(api, "POST", f"{PODS}?fieldValidation={mode}", _with_unknown_field(), status=201)
    assert "bogus" not in created["spec"]


async def test_field_validation_bad_value_is_400(api: Client) -> None:
    await failure(api, "POST", f"{PODS}?fieldValidation=Loud", pod("p"), status=400, reason="BadRequest")


async def test_invalid_object_is_422(api: Client) -> None:
    body = pod("p")
    body["spec"]["containers"] = []
    out = await failure(api, "POST", PODS, body, status=422, reason="Invalid")
    assert out["message"].startswith('Pod "p" is invalid: spec.containers: Required value')
    assert out["details"]["causes"][0]["field"] == "spec.containers"


async def test_create_accepts_yaml(api: Client) -> None:
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n"
    created = await call(api, "POST", CONFIGMAPS, body, status=201, content_type="application/yaml")
    assert created["data"] == {"k": "v"}


async def test_malformed_json_is_400(api: Client) -> None:
    await failure(api, "POST", CONFIGMAPS, b"{not json", status=400, reason="BadRequest")
