"""The scheduler against an in-process API server: binds what fits, explains what doesn't."""

from __future__ import annotations

import asyncio
from typing import Any

from pocketkube.api import resources
from pocketkube.client import ApiClient
from pocketkube.scheduler.scheduler import Scheduler
from tests.support.inprocess import inprocess_api

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
EVENTS = resources.require("", "v1", "events")
Obj = dict[str, Any]


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

            async with asyncio.timeout(10):
                while not await all_bound():
                    await asyncio.sleep(0.05)
            assert sorted(nodes.values()).count("n1") == 3 and sorted(nodes.values()).count("n2") == 3
            # The picky pod fits nowhere: it stays Pending with the reason, then lands on a new ssd node.
            async with asyncio.timeout(10):
                while True:
                    picky = await client.get(PODS, "picky", "default")
                    conditions = picky["status"].get("conditions") or []
                    if any(c["type"] == "PodScheduled" and c["reason"] == "Unschedulable" for c in conditions):
                        break
                    await asyncio.sleep(0.05)
            assert "node(s) didn't match Pod's node affinity/selector" in conditions[0]["message"]
            async with asyncio.timeout(10):
                while not (events := (await client.list(EVENTS, "default",
                                                         field_selector="reason=FailedScheduling"))["items"]):
                    await asyncio.sleep(0.05)
            assert events[0]["involvedObject"]["name"] == "picky"
            await client.create(NODES, node("n3", labels={"disk": "ssd"}))
            async with asyncio.timeout(10):
                while await bound_to(client, "picky") != "n3":
                    await asyncio.sleep(0.05)
            async with asyncio.timeout(10):
                while len((await client.list(EVENTS, "default", field_selector="reason=Scheduled"))["items"]) < 7:
                    await asyncio.sleep(0.05)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
