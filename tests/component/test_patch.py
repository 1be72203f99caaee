"""PATCH: json, merge, strategic merge and server-side apply, and their failure codes."""

from __future__ import annotations

import pytest

from tests.component.conftest import (
    CONFIGMAPS,
    DEPLOYMENTS,
    PODS,
    Client,
    call,
    configmap,
    deployment,
    failure,
)

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


async def test_merge_patch(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a", {"keep": "1", "drop": "2"}, x="1", y="2"),
                         status=201)
    patch = {"metadata": {"labels": {"drop": None, "new": "3"}}, "data": {"y": None, "z": "3"}}
    out = await call(api, "PATCH", f"{CONFIGMAPS}/a", patch, status=200, content_type=MERGE)
    assert out["metadata"]["labels"] == {"keep": "1", "new": "3"}
    assert out["data"] == {"x": "1", "z": "3"}
    assert int(out["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


async def test_merge_patch_with_stale_resource_version_conflicts(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    await call(api, "PATCH", f"{CONFIGMAPS}/a", {"data": {"x": "1"}}, status=200, content_type=MERGE)
    stale = {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}, "data": {"x": "2"}}
    await failure(api, "PATCH", f"{CONFIGMAPS}/a", stale, status=409, reason="Conflict", content_type=MERGE)


async def test_json_patch(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a", x="1"), status=201)
    ops = [{"op": "test", "path": "/data/x", "value": "1"}, {"op": "replace", "path": "/data/x", "value": "2"},
           {"op": "add", "path": "/data/y", "value": "3"}]
    out = await call(api, "PATCH", f"{CONFIGMAPS}/a", ops, status=200, content_type=JSON_PATCH)
    assert out["data"] == {"x": "2", "y": "3"}


async def test_json_patch_failing_test_is_422_and_changes_nothing(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a", x="1"), status=201)
    ops = [{"op": "replace", "path": "/data/x", "value": "9"}, {"op": "test", "path": "/data/x", "value": "1"}]
    out = await failure(api, "PATCH", f"{CONFIGMAPS}/a", ops, status=422, reason="Invalid",
                        content_type=JSON_PATCH)
    assert out["message"] == "the server rejected our request due to an error in our request"
    got = await call(api, "GET", f"{CONFIGMAPS}/a", status=200)
    assert got == created


async def test_json_patch_that_is_not_a_list_is_400(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    await failure(api, "PATCH", f"{CONFIGMAPS}/a", {"op": "add"}, status=400, reason="BadRequest",
                  content_type=JSON_PATCH)


async def test_strategic_patch_changes_one_container_by_name(api: Client) -> None:
    containers = [{"name": "web", "image": "nginx:1"}, {"name": "sidecar", "image": "envoy:1"}]
    await call(api, "POST", DEPLOYMENTS, deployment("d", containers=containers), status=201)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}}
    out = await call(api, "PATCH", f"{DEPLOYMENTS}/d", patch, status=200, content_type=STRATEGIC)
    got = [(c["name"], c["image"]) for c in out["spec"]["template"]["spec"]["containers"]]
    assert got == [("web", "nginx:2"), ("sidecar", "envoy:1")]
    assert out["metadata"]["generation"] == 2
    # the same change as a merge patch replaces the whole list
    out = await call(api, "PATCH", f"{DEPLOYMENTS}/d", patch, status=200, content_type=MERGE)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["web"]


async def test_strategic_patch_delete_directive(api: Client) -> None:
    containers = [{"name": "web", "image": "nginx:1"}, {"name": "sidecar", "image": "envoy:1"}]
    await call(api, "POST", DEPLOYMENTS, deployment("d", containers=containers), status=201)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    out = await call(api, "PATCH", f"{DEPLOYMENTS}/d", patch, status=200, content_type=STRATEGIC)
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["web"]


async def test_noop_patch_keeps_resource_version(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a", x="1"), status=201)
    out = await call(api, "PATCH", f"{CONFIGMAPS}/a", {"data": {"x": "1"}}, status=200, content_type=MERGE)
    assert out["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/yaml"])
async def test_unknown_patch_type_is_415(api: Client, content_type: str) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    out = await failure(api, "PATCH", f"{CONFIGMAPS}/a", {"data": {}}, status=415, reason="UnsupportedMediaType",
                        content_type=content_type)
    assert out["message"].startswith("the body of the request was in an unknown format - accepted media types "
                                     "include: application/json-patch+json, application/merge-patch+json, "
                                     "application/apply-patch+yaml")


async def test_patch_missing_object_is_404(api: Client) -> None:
    await failure(api, "PATCH", f"{CONFIGMAPS}/nope", {"data": {}}, status=404, reason="NotFound",
                  content_type=MERGE)


async def test_patch_with_invalid_result_is_422(api: Client) -> None:
    await call(api, "POST", PODS, {"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "image": "i"}]}}, status=201)
    out = await failure(api, "PATCH", f"{PODS}/p", {"spec": {"containers": [{"name": "c", "image": ""}]}},
                        status=422, reason="Invalid", content_type=STRATEGIC)
    assert out["details"]["causes"][0]["field"] == "spec.containers[0].image"


def _applied(**data: str) -> bytes:
    lines = "".join(f"  {k}: {v!r}\n" for k, v in data.items())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n{lines}".encode()


async def test_apply_creates_then_updates(api: Client) -> None:
    made = await call(api, "PATCH", f"{CONFIGMAPS}/a?fieldManager=alice", _applied(k="1"), status=201,
                      content_type=APPLY)
    assert made["data"] == {"k": "1"} and made["metadata"]["uid"]
    managers = [(m["manager"], m["operation"]) for m in made["metadata"]["managedFields"]]
    assert managers == [("alice", "Apply")]
    assert made["metadata"]["managedFields"][0]["fieldsV1"]["f:data"] == {"f:k": {}}
    again = await call(api, "PATCH", f"{CONFIGMAPS}/a?fieldManager=alice", _applied(k="2"), status=200,
                       content_type=APPLY)
    assert again["data"] == {"k": "2"}


async def test_apply_without_field_manager_is_400(api: Client) -> None:
    await failure(api, "PATCH", f"{CONFIGMAPS}/a", _applied(k="1"), status=400, reason="BadRequest",
                  content_type=APPLY)


async def test_apply_conflict_between_managers_and_force(api: Client) -> None:
    await call(api, "PATCH", f"{CONFIGMAPS}/a?fieldManager=alice", _applied(k="1"), status=201,
               content_type=APPLY)
    out = await failure(api, "PATCH", f"{CONFIGMAPS}/a?fieldManager=bob", _applied(k="2"), status=409,
                        reason="Conflict", content_type=APPLY)
    assert out["message"] == 'Apply failed with 1 conflict: conflict with "alice": .data.k'
    assert out["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "alice"',
                                         "field": ".data.k"}]
    # agreeing on the value is no conflict: both managers then share the field
    shared = await call(api, "PATCH", f"{CONFIGMAPS}/a?fieldManager=bob", _applied(k="1"), status=200,
                        content_type=APPLY)
    assert sorted(m["manager"] for m in shared["metadata"]["managedFields"]) == ["alice", "bob"]
    forced = await call(api, "PATCH", f"{CONFIGMAPS}/a?fieldManager=bob&force=true", _applied(k="2"),
                        status=200, content_type=APPLY)
    assert forced["data"] == {"k": "2"}
    owners = {m["manager"]: m.get("fieldsV1", {}) for m in forced["metadata"]["managedFields"]}
    assert "f:k" in owners["bob"]["f:data"]
    assert "f:k" not in owners.get("alice", {}).get("f:data", {})


async def test_apply_conflict_with_an_update_manager(api: Client) -> None:
    await call(api, "POST", f"{CONFIGMAPS}?fieldManager=kubectl-edit", configmap("a", k="1"), status=201)
    out = await failure(api, "PATCH", f"{CONFIGMAPS}/a?fieldManager=alice", _applied(k="2"), status=409,
                        reason="Conflict", content_type=APPLY)
    assert out["message"] == 'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.k'


async def test_apply_dry_run_creates_nothing(api: Client) -> None:
    await call(api, "PATCH", f"{CONFIGMAPS}/a?fieldManager=alice&dryRun=All", _applied(k="1"), status=201,
               content_type=APPLY)
    await failure(api, "GET", f"{CONFIGMAPS}/a", status=404, reason="NotFound")
