"""PUT: optimistic concurrency, no-op writes, generation, and the status subresource split."""

from __future__ import annotations

import copy

from pocketkube.storage.memory import MemoryStore
from tests.component.conftest import (
    CONFIGMAPS,
    DEPLOYMENTS,
    PODS,
    Client,
    Obj,
    call,
    configmap,
    deployment,
    failure,
    pod,
)


async def test_stale_resource_version_is_conflict(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a", v="1"), status=201)
    first = copy.deepcopy(created)
    first["data"] = {"v": "2"}
    await call(api, "PUT", f"{CONFIGMAPS}/a", first, status=200)
    stale = copy.deepcopy(created)
    stale["data"] = {"v": "3"}
    out = await failure(api, "PUT", f"{CONFIGMAPS}/a", stale, status=409, reason="Conflict")
    assert out["message"] == ('Operation cannot be fulfilled on configmaps "a": the object has been modified; '
                              "please apply your changes to the latest version and try again")
    assert out["details"] == {"name": "a", "kind": "configmaps"}
    assert (await call(api, "GET", f"{CONFIGMAPS}/a", status=200))["data"] == {"v": "2"}


async def test_stale_conflict_names_the_group(api: Client) -> None:
    created = await call(api, "POST", DEPLOYMENTS, deployment("d"), status=201)
    await call(api, "PUT", f"{DEPLOYMENTS}/d", {**created, "spec": {**created["spec"], "replicas": 3}},
               status=200)
    out = await failure(api, "PUT", f"{DEPLOYMENTS}/d", created, status=409, reason="Conflict")
    assert out["message"].startswith('Operation cannot be fulfilled on deployments.apps "d": ')


async def test_put_without_resource_version_succeeds(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a", v="1"), status=201)
    updated = await call(api, "PUT", f"{CONFIGMAPS}/a", configmap("a", v="2"), status=200)
    assert updated["data"] == {"v": "2"}
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    assert updated["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]


async def test_put_missing_is_404_and_name_mismatch_is_400(api: Client) -> None:
    await failure(api, "PUT", f"{CONFIGMAPS}/a", configmap("a"), status=404, reason="NotFound")
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    out = await failure(api, "PUT", f"{CONFIGMAPS}/a", configmap("b"), status=400, reason="BadRequest")
    assert out["message"] == "the name of the object (b) does not match the name on the URL (a)"


async def test_noop_put_keeps_resource_version(api: Client, store: MemoryStore) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a", v="1"), status=201)
    revision = await store.current_revision()
    same = await call(api, "PUT", f"{CONFIGMAPS}/a", created, status=200)
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert await store.current_revision() == revision  # nothing was written


async def _deployment(api: Client) -> Obj:
    return await call(api, "POST", DEPLOYMENTS, deployment("d"), status=201)


async def test_generation_bumps_only_on_spec_change(api: Client) -> None:
    created = await _deployment(api)
    assert created["metadata"]["generation"] == 1
    relabelled = copy.deepcopy(created)
    relabelled["metadata"]["labels"] = {"x": "y"}
    out = await call(api, "PUT", f"{DEPLOYMENTS}/d", relabelled, status=200)
    assert out["metadata"]["generation"] == 1 and out["metadata"]["labels"] == {"x": "y"}
    scaled = copy.deepcopy(out)
    scaled["spec"]["replicas"] = 4
    out = await call(api, "PUT", f"{DEPLOYMENTS}/d", scaled, status=200)
    assert out["metadata"]["generation"] == 2
    # a client cannot set generation itself
    forged = copy.deepcopy(out)
    forged["metadata"]["generation"] = 40
    out = await call(api, "PUT", f"{DEPLOYMENTS}/d", forged, status=200)
    assert out["metadata"]["generation"] == 2


async def test_main_resource_put_ignores_status(api: Client) -> None:
    created = await _deployment(api)
    assert created["status"] == {}
    changed = copy.deepcopy(created)
    changed["status"] = {"replicas": 7}
    changed["spec"]["replicas"] = 2
    out = await call(api, "PUT", f"{DEPLOYMENTS}/d", changed, status=200)
    assert out["spec"]["replicas"] == 2 and out["status"] == {}


async def test_status_put_changes_only_status(api: Client) -> None:
    created = await _deployment(api)
    changed = copy.deepcopy(created)
    changed["status"] = {"replicas": 1, "observedGeneration": 1}
    changed["spec"]["replicas"] = 9
    changed["metadata"]["labels"] = {"sneaky": "yes"}
    out = await call(api, "PUT", f"{DEPLOYMENTS}/d/status", changed, status=200)
    assert out["status"] == {"replicas": 1, "observedGeneration": 1}
    assert out["spec"]["replicas"] == 1
    assert "labels" not in out["metadata"]
    assert out["metadata"]["generation"] == 1
    stored = await call(api, "GET", f"{DEPLOYMENTS}/d", status=200)
    assert stored["status"] == out["status"] and stored["spec"]["replicas"] == 1


async def test_status_patch_changes_only_status(api: Client) -> None:
    await _deployment(api)
    patch = {"spec": {"replicas": 5}, "status": {"readyReplicas": 1}}
    out = await call(api, "PATCH", f"{DEPLOYMENTS}/d/status", patch, status=200,
                     content_type="application/merge-patch+json")
    assert out["status"] == {"readyReplicas": 1} and out["spec"]["replicas"] == 1


async def test_status_put_with_stale_version_conflicts(api: Client) -> None:
    created = await _deployment(api)
    fresh = copy.deepcopy(created)
    fresh["status"] = {"replicas": 1}
    await call(api, "PUT", f"{DEPLOYMENTS}/d/status", fresh, status=200)
    created["status"] = {"replicas": 2}
    await failure(api, "PUT", f"{DEPLOYMENTS}/d/status", created, status=409, reason="Conflict")


async def test_status_of_missing_object_is_404(api: Client) -> None:
    await failure(api, "PUT", f"{DEPLOYMENTS}/nope/status", deployment("nope"), status=404, reason="NotFound")


async def test_pod_spec_is_immutable_but_image_is_not(api: Client) -> None:
    created = await call(api, "POST", PODS, pod("p"), status=201)
    changed = copy.deepcopy(created)
    changed["spec"]["containers"][0]["image"] = "nginx:2"
    out = await call(api, "PUT", f"{PODS}/p", changed, status=200)
    assert out["spec"]["containers"][0]["image"] == "nginx:2"
    assert out["metadata"]["generation"] == 2
    forbidden = copy.deepcopy(out)
    forbidden["spec"]["containers"][0]["command"] = ["sh"]
    status = await failure(api, "PUT", f"{PODS}/p", forbidden, status=422, reason="Invalid")
    assert status["message"].startswith('Pod "p" is invalid: spec: Forbidden: pod updates may not change '
                                        "fields other than")
    assert status["details"]["causes"][0]["field"] == "spec"
    assert status["details"]["kind"] == "Pod" and status["details"]["name"] == "p"


async def test_update_creates_where_kube_allows_it(api: Client) -> None:
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
             "spec": {"holderIdentity": "me"}}
    path = "/apis/coordination.k8s.io/v1/namespaces/default/leases/l"
    created = await call(api, "PUT", path, lease, status=201)
    assert created["spec"]["holderIdentity"] == "me" and created["metadata"]["uid"]
