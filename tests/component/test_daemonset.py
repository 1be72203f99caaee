"""DaemonSet controller on fake Node objects: one pod per eligible node, taints, new nodes, rollout."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from pocketkube.api import meta, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.controllers.daemonset import DaemonSetController
from pocketkube.controllers.daemonset.nodes import target_node
from tests.support.fake_kubelet import running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

DS = resources.require("apps", "v1", "daemonsets")
PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
REVISIONS = resources.require("apps", "v1", "controllerrevisions")


def node(name: str, taints: list[Obj] | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {"taints": taints or []}}


async def make_node(client: ApiClient, name: str, taints: list[Obj] | None = None) -> None:
    await client.create(NODES, node(name, taints))
    now = meta.rfc3339(meta.now())
    await client.patch(NODES, name, {"status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": now,
         "lastTransitionTime": now}]}}, subresource="status")


def daemonset(name: str, image: str = "agent:1", **spec: Any) -> Obj:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": labels}, **spec, "template": {
                "metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": image}]}}}}


@contextlib.asynccontextmanager
async def daemons() -> AsyncIterator[ApiClient]:
    async with inprocess_api() as api:
        async with running(DaemonSetController(api.client)):
            yield api.client


async def pods_by_node(client: ApiClient) -> dict[str, list[Obj]]:
    out: dict[str, list[Obj]] = {}
    for pod in (await client.list(PODS, "default"))["items"]:
        if not pod["metadata"].get("deletionTimestamp"):
            out.setdefault(target_node(pod) or "", []).append(pod)
    return out


async def until_nodes(client: ApiClient, expected: set[str], within: float = 5.0) -> dict[str, list[Obj]]:
    async def one_on_each() -> dict[str, list[Obj]] | None:
        got = await pods_by_node(client)
        return got if set(got) == expected and all(len(v) == 1 for v in got.values()) else None

    return await until(one_on_each, within=within)


async def mark_ready(client: ApiClient) -> None:
    for pod in (await client.list(PODS, "default"))["items"]:
        if not pod["metadata"].get("deletionTimestamp"):
            await client.patch(PODS, pod["metadata"]["name"], {"status": {
                "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}, "default",
                subresource="status")


async def test_one_pod_per_node_and_taints_and_new_nodes() -> None:
    async with daemons() as client:
        await make_node(client, "n1")
        await make_node(client, "n2")
        await make_node(client, "tainted", [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
        await client.create(DS, daemonset("agent"), "default")
        got = await until_nodes(client, {"n1", "n2"})
        pod = got["n1"][0]
        assert pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}
        assert any(t["key"] == "node.kubernetes.io/not-ready" for t in pod["spec"]["tolerations"])
        assert pod["metadata"]["labels"]["controller-revision-hash"]
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"
        await make_node(client, "n3")
        await until_nodes(client, {"n1", "n2", "n3"})
        await mark_ready(client)

        async def all_ready() -> Obj | None:
            status: Obj = (await client.get(DS, "agent", "default")).get("status") or {}
            return status if status.get("numberReady") == 3 else None

        status = await until(all_ready)
        assert status["desiredNumberScheduled"] == 3 and status["currentNumberScheduled"] == 3
        assert status["updatedNumberScheduled"] == 3 and status["numberAvailable"] == 3
        assert status["numberMisscheduled"] == 0 and status["observedGeneration"] == 1
        revisions = (await client.list(REVISIONS, "default"))["items"]
        assert [r["revision"] for r in revisions] == [1]
        assert revisions[0]["metadata"]["labels"]["controller-revision-hash"] == \
            pod["metadata"]["labels"]["controller-revision-hash"]


async def test_toleration_admits_the_tainted_node_and_no_execute_evicts() -> None:
    async with daemons() as client:
        await make_node(client, "n1")
        await make_node(client, "tainted", [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
        ds = daemonset("tolerant")
        ds["spec"]["template"]["spec"]["tolerations"] = [{"key": "dedicated", "operator": "Exists",
                                                          "effect": "NoSchedule"}]
        await client.create(DS, ds, "default")
        await until_nodes(client, {"n1", "tainted"})
        await client.patch(NODES, "n1", {"spec": {"taints": [{"key": "evict", "effect": "NoExecute"}]}})
        await until_nodes(client, {"tainted"})


async def test_rolling_update_replaces_pods_and_records_a_revision() -> None:
    async with daemons() as client:
        await make_node(client, "n1")
        await make_node(client, "n2")
        await client.create(DS, daemonset("roll"), "default")
        first = await until_nodes(client, {"n1", "n2"})
        await mark_ready(client)
        old_hash = first["n1"][0]["metadata"]["labels"]["controller-revision-hash"]
        await client.patch(DS, "roll", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "agent:2"}]}}}}, "default")

        async def rolled() -> dict[str, list[Obj]] | None:
            await mark_ready(client)
            got = await pods_by_node(client)
            images = {p["spec"]["containers"][0]["image"] for ps in got.values() for p in ps}
            one_each = set(got) == {"n1", "n2"} and all(len(v) == 1 for v in got.values())
            return got if images == {"agent:2"} and one_each else None

        got = await until(rolled, within=8, interval=0.05)
        new_hash = got["n1"][0]["metadata"]["labels"]["controller-revision-hash"]
        assert new_hash != old_hash
        revisions = sorted((r["revision"], r["metadata"]["labels"]["controller-revision-hash"])
                           for r in (await client.list(REVISIONS, "default"))["items"])
        assert revisions == [(1, old_hash), (2, new_hash)]
