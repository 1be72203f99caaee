"""The scheduler against an in-process API server: binds what fits, explains what doesn't."""

from __future__ import annotations

import asyncio

from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.scheduler.scheduler import Scheduler
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
EVENTS = resources.require("", "v1", "events")


def node(name: str, cpu: str = "2", labels: dict[str, str] | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels or {}},
            "status": {"allocatable": {"cpu": cpu, "memory": "4Gi", "pods": "110"},
                       "capacity": {"cpu": cpu, "memory": "4Gi", "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name: str, cpu: str = "100m", selector: dict[str, str] | None = None) -> Obj:
    spec: Obj = {"containers": [{"name": "c", "image": "busybox:1.35",
                                 "resources": {"requests": {"cpu": cpu}}}]}
    if selector:
        spec["nodeSelector"] = selector
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": spec}


async def bound_to(client: ApiClient, name: str) -> str:
    return str((await client.get(PODS, name, "default"))["spec"].get("nodeName") or "")


async def test_binds_spreads_and_waits_for_a_fitting_node() -> None:
    async with inprocess_api() as api:
        client = api.client
        await client.create(NODES, node("n1"))
        await client.create(NODES, node("n2"))
        scheduler = Scheduler(client)
        task = asyncio.create_task(scheduler.run())
        try:
            for i in range(6):
                await client.create(PODS, pod(f"web-{i}", cpu="500m"))
            await client.create(PODS, pod("picky", selector={"disk": "ssd"}))
            nodes: dict[str, str] = {}

            async def all_bound() -> bool:
                for i in range(6):
                    nodes[f"web-{i}"] = await bound_to(client, f"web-{i}")
                return all(nodes.values())

            await until(all_bound, within=10)
            assert sorted(nodes.values()).count("n1") == 3 and sorted(nodes.values()).count("n2") == 3
            # The picky pod fits nowhere: it stays Pending with the reason, then lands on a new ssd node.

            async def unschedulable() -> list[Obj] | None:
                conditions: list[Obj] = (await client.get(PODS, "picky", "default"))["status"].get("conditions") or []
                return conditions if any(c["type"] == "PodScheduled" and c["reason"] == "Unschedulable"
                                         for c in conditions) else None

            conditions = await until(unschedulable, within=10)
            assert "node(s) didn't match Pod's node affinity/selector" in conditions[0]["message"]

            async def events(reason: str) -> list[Obj]:
                return list((await client.list(EVENTS, "default", field_selector=f"reason={reason}"))["items"])

            failed = await until(lambda: events("FailedScheduling"), within=10)
            assert failed[0]["involvedObject"]["name"] == "picky"
            await client.create(NODES, node("n3", labels={"disk": "ssd"}))
            assert await until(lambda: bound_to(client, "picky"), within=10) == "n3"

            async def seven_scheduled() -> bool:
                return len(await events("Scheduled")) >= 7

            await until(seven_scheduled, within=10)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
