"""DELETE: immediate and graceful deletion, finalizers, preconditions, collections, namespaces."""

from __future__ import annotations

from datetime import UTC, datetime

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
    namespace,
    pod,
)

MERGE = "application/merge-patch+json"


def _seconds_from_now(timestamp: str) -> float:
    return (datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            - datetime.now(UTC)).total_seconds()


async def test_delete_configmap_returns_success_status(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    out = await call(api, "DELETE", f"{CONFIGMAPS}/a", status=200)
    assert out["kind"] == "Status" and out["status"] == "Success"
    assert out["details"] == {"name": "a", "kind": "configmaps", "uid": created["metadata"]["uid"]}
    await failure(api, "GET", f"{CONFIGMAPS}/a", status=404, reason="NotFound")
    out = await failure(api, "DELETE", f"{CONFIGMAPS}/a", status=404, reason="NotFound")
    assert out["message"] == 'configmaps "a" not found'


async def test_delete_deployment_returns_success_status(api: Client) -> None:
    await call(api, "POST", DEPLOYMENTS, deployment("d"), status=201)
    out = await call(api, "DELETE", f"{DEPLOYMENTS}/d", status=200)
    assert out["kind"] == "Status" and out["details"]["group"] == "apps"


async def test_unbound_pod_is_deleted_at_once(api: Client) -> None:
    await call(api, "POST", PODS, pod("p"), status=201)
    out = await call(api, "DELETE", f"{PODS}/p", status=200)
    assert out["kind"] == "Pod"  # pods return the deleted object (ReturnDeletedObject)
    await failure(api, "GET", f"{PODS}/p", status=404, reason="NotFound")


async def test_bound_pod_is_deleted_gracefully(api: Client) -> None:
    await call(api, "POST", PODS, pod("p", node="n1"), status=201)
    # kube answers 200 with the object while the deletion is pending (202 only for orphanDependents=false)
    marked = await call(api, "DELETE", f"{PODS}/p", status=200)
    md = marked["metadata"]
    assert md["deletionGracePeriodSeconds"] == 30
    assert 28 <= _seconds_from_now(md["deletionTimestamp"]) <= 31
    still = await call(api, "GET", f"{PODS}/p", status=200)
    assert still["metadata"]["deletionTimestamp"] == md["deletionTimestamp"]
    # a later delete may only shorten the grace period; 0 removes the pod
    await call(api, "DELETE", f"{PODS}/p?gracePeriodSeconds=0", status=200)
    await failure(api, "GET", f"{PODS}/p", status=404, reason="NotFound")


@pytest.mark.parametrize("how", ["query", "body"])
async def test_bound_pod_grace_period_from_request(api: Client, how: str) -> None:
    await call(api, "POST", PODS, pod("p", node="n1"), status=201)
    if how == "query":
        marked = await call(api, "DELETE", f"{PODS}/p?gracePeriodSeconds=5", status=200)
    else:
        marked = await call(api, "DELETE", f"{PODS}/p", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                         "gracePeriodSeconds": 5}, status=200)
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 5
    # a longer grace period does not lengthen a pending deletion
    again = await call(api, "DELETE", f"{PODS}/p?gracePeriodSeconds=60", status=200)
    assert again["metadata"]["deletionGracePeriodSeconds"] == 5


async def test_bound_pod_uses_termination_grace_period(api: Client) -> None:
    body = pod("p", node="n1")
    body["spec"]["terminationGracePeriodSeconds"] = 7
    await call(api, "POST", PODS, body, status=201)
    marked = await call(api, "DELETE", f"{PODS}/p", status=200)
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 7


async def test_orphan_dependents_false_pending_is_202(api: Client) -> None:
    await call(api, "POST", PODS, pod("p", node="n1"), status=201)
    await call(api, "DELETE", f"{PODS}/p", {"orphanDependents": False}, status=202)


async def test_finalizers_hold_an_object_until_removed(api: Client) -> None:
    body = configmap("a")
    body["metadata"]["finalizers"] = ["example.com/one", "example.com/two"]
    await call(api, "POST", CONFIGMAPS, body, status=201)
    marked = await call(api, "DELETE", f"{CONFIGMAPS}/a", status=200)
    assert marked["kind"] == "ConfigMap"  # not deleted yet: the object comes back
    assert marked["metadata"]["deletionTimestamp"] and marked["metadata"]["deletionGracePeriodSeconds"] == 0
    got = await call(api, "GET", f"{CONFIGMAPS}/a", status=200)
    assert got["metadata"]["finalizers"] == ["example.com/one", "example.com/two"]
    # removing one finalizer keeps the object; removing the last one lets it go
    await call(api, "PATCH", f"{CONFIGMAPS}/a", {"metadata": {"finalizers": ["example.com/two"]}}, status=200,
               content_type=MERGE)
    await call(api, "GET", f"{CONFIGMAPS}/a", status=200)
    await call(api, "PATCH", f"{CONFIGMAPS}/a", {"metadata": {"finalizers": None}}, status=200,
               content_type=MERGE)
    await failure(api, "GET", f"{CONFIGMAPS}/a", status=404, reason="NotFound")
    assert (await call(api, "GET", CONFIGMAPS, status=200))["items"] == []


async def test_preconditions_mismatch_is_conflict(api: Client) -> None:
    created = await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    uid = created["metadata"]["uid"]
    out = await failure(api, "DELETE", f"{CONFIGMAPS}/a", {"preconditions": {"uid": "other"}}, status=409,
                        reason="Conflict")
    assert out["message"] == (f'Operation cannot be fulfilled on configmaps "a": Precondition failed: UID in '
                              f"precondition: other, UID in object meta: {uid}")
    rv = created["metadata"]["resourceVersion"]
    await call(api, "PATCH", f"{CONFIGMAPS}/a", {"data": {"x": "1"}}, status=200, content_type=MERGE)
    out = await failure(api, "DELETE", f"{CONFIGMAPS}/a", {"preconditions": {"resourceVersion": rv}},
                        status=409, reason="Conflict")
    assert "Precondition failed: ResourceVersion in precondition: " + rv in out["message"]
    await call(api, "GET", f"{CONFIGMAPS}/a", status=200)
    await call(api, "DELETE", f"{CONFIGMAPS}/a", {"preconditions": {"uid": uid}}, status=200)


async def test_bad_propagation_policy_is_422(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    await failure(api, "DELETE", f"{CONFIGMAPS}/a?propagationPolicy=Sideways", status=422, reason="Invalid")


async def test_dry_run_delete_keeps_the_object(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a"), status=201)
    await call(api, "DELETE", f"{CONFIGMAPS}/a?dryRun=All", status=200)
    await call(api, "GET", f"{CONFIGMAPS}/a", status=200)


async def test_delete_collection_with_label_selector(api: Client) -> None:
    await call(api, "POST", CONFIGMAPS, configmap("a", {"app": "x"}), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("b", {"app": "x"}), status=201)
    await call(api, "POST", CONFIGMAPS, configmap("c", {"app": "y"}), status=201)
    out = await call(api, "DELETE", f"{CONFIGMAPS}?labelSelector=app=x", status=200)
    assert out["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in out["items"]] == ["a", "b"]
    left = await call(api, "GET", CONFIGMAPS, status=200)
    assert [i["metadata"]["name"] for i in left["items"]] == ["c"]


async def test_namespace_delete_terminates_then_finalize_removes(api: Client) -> None:
    created = await call(api, "POST", "/api/v1/namespaces", namespace("gone"), status=201)
    assert created["spec"] == {"finalizers": ["kubernetes"]}
    assert created["status"] == {"phase": "Active"}
    await call(api, "POST", "/api/v1/namespaces/gone/configmaps", configmap("a"), status=201)
    marked = await call(api, "DELETE", "/api/v1/namespaces/gone", status=200)
    assert marked["kind"] == "Namespace" and marked["status"]["phase"] == "Terminating"
    assert marked["metadata"]["deletionTimestamp"]
    out = await failure(api, "POST", "/api/v1/namespaces/gone/configmaps", configmap("b"), status=403,
                        reason="Forbidden")
    assert out["message"] == ('configmaps "b" is forbidden: unable to create new content in namespace gone '
                              "because it is being terminated")
    assert out["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    out = await failure(api, "POST", "/apis/apps/v1/namespaces/gone/deployments",
                        {"metadata": {"generateName": "web-"}}, status=403, reason="Forbidden")
    assert out["message"].startswith('deployments.apps "web-" is forbidden: unable to create new content')
    # existing content can still be changed and deleted while terminating
    await call(api, "DELETE", "/api/v1/namespaces/gone/configmaps/a", status=200)
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}, "spec": {"finalizers": []}}
    finalized = await call(api, "PUT", "/api/v1/namespaces/gone/finalize", body, status=200)
    assert finalized["spec"].get("finalizers", []) == []
    await failure(api, "GET", "/api/v1/namespaces/gone", status=404, reason="NotFound")
