"""Scheduler plugins against an in-process API server (taint eviction: test_taint_eviction.py)."""

from __future__ import annotations

from typing import Any

from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.scheduler.scheduler import Scheduler
from tests.support.fake_kubelet import running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
EVENTS = resources.require("", "v1", "events")
GPU = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def node(name: str, taints: list[Obj] | None = None) -> Obj:
    alloc = {"cpu": "2", "memory": "4Gi", "pods": "110"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {"taints": taints} if taints else {},
            "status": {"allocatable": alloc, "capacity": alloc, "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name: str, labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}], **spec}}


async def node_of(client: ApiClient, name: str) -> str:
    return str((await client.get(PODS, name, "default"))["spec"].get("nodeName") or "")


async def failed_scheduling(client: ApiClient, name: str) -> str:
    events = (await client.list(EVENTS, "default", field_selector=f"involvedObject.name={name}"))["items"]
    return next((e["message"] for e in events if e["reason"] == "FailedScheduling"), "")


async def test_taints_affinity_and_the_failed_scheduling_message() -> None:
    async with inprocess_api() as api, running(Scheduler(api.client)):
        client = api.client
        await client.create(NODES, node("gpu-1", [GPU]))
        await client.create(NODES, node("cpu-1"))
        anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}
        # Without a toleration only cpu-1 fits; the first web pod goes there.
        await client.create(PODS, pod("web-0", {"app": "web"}, affinity=anti))
        assert await until(lambda: node_of(client, "web-0")) == "cpu-1"
        # The second can't share cpu-1 and doesn't tolerate gpu-1.
        await client.create(PODS, pod("web-1", {"app": "web"}, affinity=anti))
        message = await until(lambda: failed_scheduling(client, "web-1"))
        assert message == (
            "0/2 nodes are available: 1 node(s) didn't match pod anti-affinity rules, "
            "1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes are available: "
            "1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.")
        conditions = (await client.get(PODS, "web-1", "default"))["status"]["conditions"]
        assert conditions[0]["reason"] == "Unschedulable" and conditions[0]["message"] == message
        # A tolerating pod and a node whose taint is lifted both unblock scheduling.
        await client.create(PODS, pod("trainer", tolerations=[{"key": "dedicated", "operator": "Exists"}],
                                      nodeSelector={"kubernetes.io/hostname": "gpu-1"}))
        assert await until(lambda: node_of(client, "trainer")) == "gpu-1"
        await client.patch(NODES, "gpu-1", {"spec": {"taints": None}})
        assert await until(lambda: node_of(client, "web-1")) == "gpu-1"
