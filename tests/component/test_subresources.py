"""Subresources: scale, binding, eviction, log and namespaces/finalize."""

from __future__ import annotations

import pytest

from pocketkube.api.obj import Obj
from tests.component.conftest import DEPLOYMENTS, PODS, Client, call, deployment, failure, pod

MERGE = "application/merge-patch+json"
APPS = "/apis/apps/v1/namespaces/default"


def _workload(kind: str, name: str) -> Obj:
    obj = deployment(name, replicas=2)
    obj["kind"] = kind
    if kind == "StatefulSet":
        obj["spec"]["serviceName"] = name
    return obj


@pytest.mark.parametrize(("plural", "kind"), [("deployments", "Deployment"), ("replicasets", "ReplicaSet"),
                                              ("statefulsets", "StatefulSet")])
async def test_scale_get_put_patch(api: Client, plural: str, kind: str) -> None:
    created = await call(api, "POST", f"{APPS}/{plural}", _workload(kind, "w"), status=201)
    path = f"{APPS}/{plural}/w/scale"
    scale = await call(api, "GET", path, status=200)
    assert (scale["kind"], scale["apiVersion"]) == ("Scale", "autoscaling/v1")
    assert scale["metadata"]["name"] == "w" and scale["metadata"]["namespace"] == "default"
    assert scale["metadata"]["uid"] == created["metadata"]["uid"]
    assert scale["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 0, "selector": "app=w"}

    scale["spec"]["replicas"] = 5
    put = await call(api, "PUT", path, scale, status=200)
    assert put["spec"]["replicas"] == 5 and put["kind"] == "Scale"
    owner = await call(api, "GET", f"{APPS}/{plural}/w", status=200)
    assert owner["spec"]["replicas"] == 5 and owner["metadata"]["generation"] == 2
    assert put["metadata"]["resourceVersion"] == owner["metadata"]["resourceVersion"]

    # a PUT with the now stale resourceVersion conflicts
    await failure(api, "PUT", path, scale, status=409, reason="Conflict")

    patched = await call(api, "PATCH", path, {"spec": {"replicas": 1}}, status=200, content_type=MERGE)
    assert patched["spec"]["replicas"] == 1
    assert (await call(api, "GET", f"{APPS}/{plural}/w", status=200))["spec"]["replicas"] == 1


async def test_scale_selector_with_expressions(api: Client) -> None:
    obj = deployment("d")
    obj["spec"]["selector"]["matchExpressions"] = [{"key": "tier", "operator": "In", "values": ["a", "b"]}]
    obj["spec"]["template"]["metadata"]["labels"]["tier"] = "a"
    await call(api, "POST", DEPLOYMENTS, obj, status=201)
    scale = await call(api, "GET", f"{DEPLOYMENTS}/d/scale", status=200)
    assert scale["status"]["selector"] == "app=d,tier in (a,b)"


async def test_scale_to_negative_is_422(api: Client) -> None:
    await call(api, "POST", DEPLOYMENTS, deployment("d"), status=201)
    out = await failure(api, "PATCH", f"{DEPLOYMENTS}/d/scale", {"spec": {"replicas": -1}}, status=422,
                        reason="Invalid", content_type=MERGE)
    assert out["details"]["causes"][0]["field"] == "spec.replicas"


async def test_scale_of_missing_object_is_404(api: Client) -> None:
    await failure(api, "GET", f"{DEPLOYMENTS}/nope/scale", status=404, reason="NotFound")


def _binding(name: str, node: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}}


async def test_binding_assigns_node_once(api: Client) -> None:
    created = await call(api, "POST", PODS, pod("p"), status=201)
    out = await call(api, "POST", f"{PODS}/p/binding", _binding("p", "n1"), status=201)
    assert out["kind"] == "Status" and out["status"] == "Success" and out["code"] == 201
    bound = await call(api, "GET", f"{PODS}/p", status=200)
    assert bound["spec"]["nodeName"] == "n1"
    scheduled = [c for c in bound["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert len(scheduled) == 1 and scheduled[0]["status"] == "True" and scheduled[0]["lastTransitionTime"]
    assert bound["metadata"]["generation"] == created["metadata"]["generation"]
    again = await failure(api, "POST", f"{PODS}/p/binding", _binding("p", "n2"), status=409, reason="Conflict")
    assert again["message"] == ('Operation cannot be fulfilled on pods/binding "p": pod p is already assigned '
                                'to node "n1"')
    assert (await call(api, "GET", f"{PODS}/p", status=200))["spec"]["nodeName"] == "n1"


async def test_binding_without_target_is_422(api: Client) -> None:
    await call(api, "POST", PODS, pod("p"), status=201)
    body = _binding("p", "")
    await failure(api, "POST", f"{PODS}/p/binding", body, status=422, reason="Invalid")


async def test_binding_missing_pod_is_404(api: Client) -> None:
    await failure(api, "POST", f"{PODS}/nope/binding", _binding("nope", "n1"), status=404, reason="NotFound")


async def test_eviction_deletes_the_pod(api: Client) -> None:
    await call(api, "POST", PODS, pod("p"), status=201)
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p", "namespace": "default"}}
    out = await call(api, "POST", f"{PODS}/p/eviction", eviction, status=201)
    assert out["kind"] == "Status" and out["status"] == "Success"
    await failure(api, "GET", f"{PODS}/p", status=404, reason="NotFound")


async def test_eviction_of_bound_pod_is_graceful(api: Client) -> None:
    await call(api, "POST", PODS, pod("p", node="n1"), status=201)
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"},
                "deleteOptions": {"gracePeriodSeconds": 3}}
    await call(api, "POST", f"{PODS}/p/eviction", eviction, status=201)
    left = await call(api, "GET", f"{PODS}/p", status=200)
    assert left["metadata"]["deletionGracePeriodSeconds"] == 3


async def test_log_of_unbound_pod_is_400(api: Client) -> None:
    await call(api, "POST", PODS, pod("p"), status=201)
    out = await failure(api, "GET", f"{PODS}/p/log", status=400, reason="BadRequest")
    assert out["message"] == "pod p does not have a host assigned"
    await failure(api, "GET", f"{PODS}/nope/log", status=404, reason="NotFound")


async def test_finalize_on_live_namespace_keeps_it(api: Client) -> None:
    await call(api, "POST", "/api/v1/namespaces", {"metadata": {"name": "ns"}}, status=201)
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}, "spec": {"finalizers": []}}
    out = await call(api, "PUT", "/api/v1/namespaces/ns/finalize", body, status=200)
    assert out["status"]["phase"] == "Active"
    await call(api, "GET", "/api/v1/namespaces/ns", status=200)


async def test_unsupported_subresource_verb_is_405(api: Client) -> None:
    await call(api, "POST", PODS, pod("p"), status=201)
    await failure(api, "DELETE", f"{PODS}/p/binding", status=405, reason="MethodNotAllowed")
