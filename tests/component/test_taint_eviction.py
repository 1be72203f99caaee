"""The taint-eviction controller against an in-process API server, on a fake clock: tolerationSeconds
run out when the test moves the clock, not after a wait."""

from __future__ import annotations

import asyncio
from typing import Any

from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.taints import no_execute_taints
from pocketkube.client import ApiClient
from pocketkube.clock import FakeClock
from pocketkube.controllers.tainteviction import TaintEvictionController
from tests.support.fake_kubelet import running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
EVENTS = resources.require("", "v1", "events")
MAINTENANCE = {"key": "maintenance", "effect": "NoExecute"}
FOREVER = [{"key": "maintenance", "operator": "Exists", "effect": "NoExecute"}]


def node(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name: str, **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}], "nodeName": "n1", **spec}}


def for_seconds(seconds: int) -> list[Obj]:
    return [{**FOREVER[0], "tolerationSeconds": seconds}]


async def staying(client: ApiClient) -> set[str]:
    """Pods not (yet) evicted: an evicted pod is Terminating, as no kubelet finishes it here."""
    return {p["metadata"]["name"] for p in (await client.list(PODS, "default"))["items"]
            if not p["metadata"].get("deletionTimestamp")}


async def taint(client: ApiClient, *taints: Obj) -> None:
    await client.patch(NODES, "n1", {"spec": {"taints": list(taints) or None}})


async def settled(controller: TaintEvictionController) -> None:
    """Give the controller's queue a moment to drain before a check that something did not happen."""
    await until(lambda: len(controller.queue) == 0)
    await asyncio.sleep(0.05)


async def test_eviction_waits_for_toleration_seconds_on_the_clock() -> None:
    clock = FakeClock()
    async with inprocess_api() as api:
        client = api.client
        await client.create(NODES, node("n1"))
        await client.create(PODS, pod("plain"))
        await client.create(PODS, pod("brief", tolerations=for_seconds(60)))
        await client.create(PODS, pod("stays", tolerations=FOREVER))
        controller = TaintEvictionController(client, clock=clock)
        async with running(controller):
            await settled(controller)
            assert await staying(client) == {"plain", "brief", "stays"}  # no NoExecute taint yet
            await taint(client, MAINTENANCE)
            # Untolerated: evicted at once. Tolerated for 60 s: a timer on the clock.
            await until(lambda: _equals(staying(client), {"brief", "stays"}))
            await until(lambda: clock.sleepers == 1)
            await clock.advance(59)
            await settled(controller)
            assert await staying(client) == {"brief", "stays"}
            await clock.advance(1)
            await until(lambda: _equals(staying(client), {"stays"}))
            await clock.advance(3600)  # tolerated forever
            await settled(controller)
            assert await staying(client) == {"stays"}

            evicted = await client.get(PODS, "plain", "default")
            target = next(c for c in evicted["status"]["conditions"] if c["type"] == "DisruptionTarget")
            assert (target["status"], target["reason"]) == ("True", "DeletionByTaintManager")
            events = (await client.list(EVENTS, "default", field_selector="reason=TaintManagerEviction"))["items"]
            assert {e["message"] for e in events} == {"Marking for deletion Pod default/plain",
                                                     "Marking for deletion Pod default/brief"}


async def test_lifting_the_taint_cancels_a_pending_eviction() -> None:
    clock = FakeClock()
    async with inprocess_api() as api:
        client = api.client
        await client.create(NODES, node("n1"))
        await client.create(PODS, pod("brief", tolerations=for_seconds(30)))
        controller = TaintEvictionController(client, clock=clock)
        async with running(controller):
            await taint(client, MAINTENANCE)
            await until(lambda: clock.sleepers == 1)
            await clock.advance(20)
            await taint(client)
            await until(lambda: clock.sleepers == 0)  # the timer is gone
            await clock.advance(60)
            await settled(controller)
            assert await staying(client) == {"brief"}
            # Tainted again, the grace period starts afresh: 30 s from now, not from the first taint.
            await taint(client, MAINTENANCE)
            await until(lambda: clock.sleepers == 1)
            await clock.advance(29)
            await settled(controller)
            assert await staying(client) == {"brief"}
            await clock.advance(1)
            await until(lambda: _equals(staying(client), set()))


async def test_the_smallest_toleration_seconds_of_the_taints_wins() -> None:
    clock = FakeClock()
    other = {"key": "other", "effect": "NoExecute"}
    async with inprocess_api() as api:
        client = api.client
        await client.create(NODES, node("n1"))
        await client.create(PODS, pod("two", tolerations=for_seconds(100) + [
            {"key": "other", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}]))
        controller = TaintEvictionController(client, clock=clock)
        async with running(controller):
            await taint(client, MAINTENANCE)
            await until(lambda: clock.sleepers == 1)
            await taint(client, MAINTENANCE, other)  # the grace period started with the first taint
            await until(lambda: len(no_execute_taints(controller.nodes.get("n1"))) == 2)
            await clock.advance(9)
            await settled(controller)
            assert await staying(client) == {"two"}
            await clock.advance(1)
            await until(lambda: _equals(staying(client), set()))


async def _equals(names: Any, expected: set[str]) -> bool:
    return bool(await names == expected)
