"""GET and LIST: not-found wording, revisions, selectors, pagination and resourceVersion rules."""

from __future__ import annotations

import base64

import orjson
import pytest

from pocketkube.storage.memory import MemoryStore
from tests.component.conftest import (
    CONFIGMAPS,
    DEPLOYMENTS,
    PODS,
    Client,
    call,
    configmap,
    deployment,
    failure,
    namespace,
    pod,
)


async def _names(api: Client, path: str) -> list[str]:
    out = await call(api, "GET", path, status=200)
    return [item["metadata"]["name"] for item in out["items"]]


@pytest.mark.parametrize(("path", "message", "details"), [
    (f"{CONFIGMAPS}/nope", 'configmaps "nope" not found', {"name": "nope", "kind": "configmaps"}),
    (f"{DEPLOYMENTS}/nope", 'deployments.apps "nope" not found',
     {"name": "nope", "group": "apps", "kind": "deployments"}),
    ("/api/v1/namespaces/nope", 'namespaces "nope" not found', {"name": "nope", "kind": "namespaces"}),
])
async def test_get_missing_is_404(api: Client, path: str, message: str, details: dict[str, str]) -> None:
    out = await failure(api, "GET", path, status=404, reason="NotFound")
    assert out["message"] == message
    assert out["details"] == details


async def test_list_shape_and_revision(api: Client, store: MemoryStore) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    out = await call(api, "GET", CONFIGMAPS, status=200)
    assert (out["kind"], out["apiVersion"]) == ("ConfigMapList", "v1")
    assert out["metadata"] == {"resourceVersion": str(await store.current_revision())}
    assert [i["metadata"]["name"] for i in out["items"]] == ["a", "b"]  # key order
    for item in out["items"]:  # items carry their own revision (kube omits kind/apiVersion; we may keep)
        assert int(item["metadata"]["resourceVersion"]) <= int(out["metadata"]["resourceVersion"])


async def test_list_revision_moves_with_writes_elsewhere(api: Client, store: MemoryStore) -> None:
    await call(api, "POST", PODS, pod("p"), status=201)
    out = await call(api, "GET", CONFIGMAPS, status=200)
    assert out["items"] == []
    assert out["metadata"]["resourceVersion"] == str(await store.current_revision())


async def test_label_selectors(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a", {"app": "web", "tier": "fe"}), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("b", {"app": "db"}), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("c"), status=201)
    cases = {
        "app=web": ["a"], "app!=web": ["b", "c"], "app in (web,db)": ["a", "b"], "!app": ["c"],
        "app,tier notin (be)": ["a", "b"], "tier=fe,app": ["a"], "app": ["a", "b"],
    }
    for selector, expected in cases.items():
        assert await _names(api, f"{CONFIGMAPS}?labelSelector={selector}") == expected, selector


async def test_bad_label_selector_is_400(api: Client) -> None:
    await failure(api, "GET", f"{CONFIGMAPS}?labelSelector=a%20b", status=400, reason="BadRequest")


async def test_field_selectors(api: Client) -> None:
    await call(api, "POST", PODS, pod("on-n1", node="n1"), status=201)
    await call(api, "POST", PODS, pod("unbound"), status=201)
    assert await _names(api, f"{PODS}?fieldSelector=spec.nodeName=n1") == ["on-n1"]
    assert await _names(api, f"{PODS}?fieldSelector=spec.nodeName=") == ["unbound"]
    assert await _names(api, f"{PODS}?fieldSelector=metadata.name!=on-n1") == ["unbound"]
    assert await _names(api, f"{PODS}?fieldSelector=status.phase=Pending,metadata.name=unbound") == ["unbound"]
    assert await _names(api, f"{PODS}?fieldSelector=metadata.namespace=default") == ["on-n1", "unbound"]


async def test_unsupported_field_selector_is_400(api: Client) -> None:
    out = await failure(api, "GET", f"{CONFIGMAPS}?fieldSelector=data.x=1", status=400, reason="BadRequest")
    assert out["message"] == '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"'
    out = await failure(api, "GET", f"{PODS}?fieldSelector=spec.bogus=1", status=400, reason="BadRequest")
    assert out["message"] == "field label not supported: spec.bogus"


async def _five(api: Client) -> None:
    for name in "abcde":
        await call(api, "POST", CONFIGMAPS, configmap(name), status=201)


async def test_pagination_is_a_consistent_snapshot(api: Client) -> None:
    await _five(api)
    first = await call(api, "GET", f"{CONFIGMAPS}?limit=2", status=200)
    rv = first["metadata"]["resourceVersion"]
    assert [i["metadata"]["name"] for i in first["items"]] == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 3
    token = first["metadata"]["continue"]
    decoded = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert decoded["rv"] == int(rv) and decoded["v"] == "meta.k8s.io/v1"

    # writes between pages are not seen: a new "bb", a delete of "c", a change to "d"
    await call(api, "POST", CONFIGMAPS, configmap("bb"), status=201)
    await call(api, "DELETE", f"{CONFIGMAPS}/c", status=200)
    await call(api, "PUT", f"{CONFIGMAPS}/d", configmap("d", changed="yes"), status=200)

    second = await call(api, "GET", f"{CONFIGMAPS}?limit=2&continue={token}", status=200)
    assert [i["metadata"]["name"] for i in second["items"]] == ["c", "d"]
    assert "changed" not in second["items"][1].get("data", {})
    assert second["metadata"]["resourceVersion"] == rv
    assert second["metadata"]["remainingItemCount"] == 1
    third = await call(api, "GET", f"{CONFIGMAPS}?limit=2&continue={second['metadata']['continue']}",
                       status=200)
    assert [i["metadata"]["name"] for i in third["items"]] == ["e"]
    assert "continue" not in third["metadata"] and "remainingItemCount" not in third["metadata"]
    # a fresh list sees the writes
    assert await _names(api, CONFIGMAPS) == ["a", "b", "bb", "d", "e"]


async def test_pagination_with_label_selector(api: Client) -> None:
    for i in range(6):
        await call(api, "POST", CONFIGMAPS, configmap(f"c{i}", {"even": str(i % 2 == 0).lower()}), status=201)
    seen: list[str] = []
    token = ""
    for _ in range(5):
        out = await call(api, "GET", f"{CONFIGMAPS}?labelSelector=even=true&limit=2&continue={token}", status=200)
        seen += [i["metadata"]["name"] for i in out["items"]]
        assert "remainingItemCount" not in out["metadata"]  # unknown under a selector
        token = out["metadata"].get("continue", "")
        if not token:
            break
    assert seen == ["c0", "c2", "c4"]


async def test_limit_equal_to_count_has_no_continue(api: Client) -> None:
    await _five(api)
    out = await call(api, "GET", f"{CONFIGMAPS}?limit=5", status=200)
    assert len(out["items"]) == 5 and "continue" not in out["metadata"]


@pytest.mark.parametrize("token", ["garbage!!", base64.urlsafe_b64encode(b'{"rv":1}').decode(),
                                   base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":1,"start":'
                                                            b'"/registry/core/secrets/default/x"}').decode()])
async def test_bad_continue_token_is_400(api: Client, token: str) -> None:
    out = await failure(api, "GET", f"{CONFIGMAPS}?limit=1&continue={token}", status=400, reason="BadRequest")
    assert out["message"].startswith("continue key is not valid")


async def test_continue_with_resource_version_is_400(api: Client) -> None:
    await _five(api)
    first = await call(api, "GET", f"{CONFIGMAPS}?limit=2", status=200)
    token = first["metadata"]["continue"]
    out = await failure(api, "GET", f"{CONFIGMAPS}?limit=2&continue={token}&resourceVersion=5", status=400,
                        reason="BadRequest")
    assert out["message"] == "specifying resource version is not allowed when using continue"


async def test_continue_after_compaction_is_410(api: Client, store: MemoryStore) -> None:
    await _five(api)
    first = await call(api, "GET", f"{CONFIGMAPS}?limit=2", status=200)
    await call(api, "DELETE", f"{CONFIGMAPS}/e", status=200)
    await store.compact(await store.current_revision())
    out = await failure(api, "GET", f"{CONFIGMAPS}?limit=2&continue={first['metadata']['continue']}",
                        status=410, reason="Expired")
    assert "continue parameter is too old" in out["message"]


async def test_resource_version_semantics(api: Client, store: MemoryStore) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    old = str(await store.current_revision())
    await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
    now = str(await store.current_revision())
    # unset and "0" both answer with the current state
    for query in ("", "?resourceVersion=0"):
        out = await call(api, "GET", CONFIGMAPS + query, status=200)
        assert [i["metadata"]["name"] for i in out["items"]] == ["a", "b"]
        assert out["metadata"]["resourceVersion"] == now
    # NotOlderThan an old revision: anything at least that new (we answer with the latest)
    out = await call(api, "GET", f"{CONFIGMAPS}?resourceVersion={old}&resourceVersionMatch=NotOlderThan",
                     status=200)
    assert len(out["items"]) == 2
    # Exact: the state as of that revision
    out = await call(api, "GET", f"{CONFIGMAPS}?resourceVersion={old}&resourceVersionMatch=Exact", status=200)
    assert [i["metadata"]["name"] for i in out["items"]] == ["a"]
    assert out["metadata"]["resourceVersion"] == old
    # a revision from the future: 504 Timeout "Too large resource version"
    out = await failure(api, "GET", f"{CONFIGMAPS}?resourceVersion={int(now) + 100}", status=504,
                        reason="Timeout")
    assert out["message"].startswith(f"Too large resource version: {int(now) + 100}, current: {now}")


async def test_exact_compacted_revision_is_410(api: Client, store: MemoryStore) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    old = await store.current_revision()
    await call(api, "POST", CONFIGMAPS, configmap("b"), status=201)
    await store.compact(await store.current_revision())
    out = await failure(api, "GET", f"{CONFIGMAPS}?resourceVersion={old}&resourceVersionMatch=Exact",
                        status=410, reason="Expired")
    assert out["message"].startswith("too old resource version")


async def test_all_namespaces_and_cluster_scoped_lists(api: Client) -> None:
    await call(api, "POST", "/api/v1/namespaces", namespace("other"), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    await call(api, "POST", "/api/v1/namespaces/other/configmaps", configmap("a"), status=201)
    out = await call(api, "GET", "/api/v1/configmaps", status=200)
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in out["items"]] == [
        ("default", "a"), ("other", "a")]
    assert await _names(api, "/api/v1/namespaces/other/configmaps") == ["a"]
    namespaces = await call(api, "GET", "/api/v1/namespaces", status=200)
    assert namespaces["kind"] == "NamespaceList"
    assert [i["metadata"]["name"] for i in namespaces["items"]] == ["default", "other"]
    assert all("namespace" not in i["metadata"] for i in namespaces["items"])
    assert namespaces["items"][0]["status"] == {"phase": "Active"}
    # all-namespaces deployments under a group
    await call(api, "POST", DEPLOYMENTS, deployment("d"), status=201)
    out = await call(api, "GET", "/apis/apps/v1/deployments", status=200)
    assert out["kind"] == "DeploymentList" and [i["metadata"]["name"] for i in out["items"]] == ["d"]


async def test_get_single_object_watch_by_name_path(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a", k="v"), status=201)
    got = await call(api, "GET", f"{CONFIGMAPS}/a", status=200)
    assert got["data"] == {"k": "v"} and got["kind"] == "ConfigMap"
