"""Garbage collector against the in-process API server: background, foreground and orphan deletion."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.controllers.base import owner_reference
from pocketkube.controllers.gc import GarbageCollector
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

PODS = resources.require("", "v1", "pods")
RS = resources.require("apps", "v1", "replicasets")
CM = resources.require("", "v1", "configmaps")


def replicaset(name: str) -> Obj:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def owned_pod(name: str, owner: Obj, block: bool = True) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "ownerReferences": [owner_reference(owner, block)]},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


@contextlib.asynccontextmanager
async def collector() -> AsyncIterator[ApiClient]:
    async with inprocess_api() as api:
        gc = GarbageCollector(api.client)
        task = asyncio.create_task(gc.run())
        try:
            yield api.client
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def names(client: ApiClient, res: resources.ResourceInfo) -> set[str]:
    return {o["metadata"]["name"] for o in (await client.list(res, "default"))["items"]}


async def exists(client: ApiClient, res: resources.ResourceInfo, name: str) -> bool:
    try:
        await client.get(res, name, "default")
        return True
    except errors.StatusError as exc:
        assert exc.code == 404
        return False


async def make_family(client: ApiClient) -> Obj:
    rs = await client.create(RS, replicaset("web"), "default")
    for i in range(2):
        await client.create(PODS, owned_pod(f"web-{i}", rs), "default")
    await client.create(PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "loner"},
                               "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, "default")
    return rs


async def test_background_deletion_removes_dependents() -> None:
    async with collector() as client:
        await make_family(client)
        await client.delete(RS, "web", "default", propagation="Background")
        await until(lambda: _equals(names(client, PODS), {"loner"}))


async def _equals(coro: Any, expected: set[str]) -> bool:
    return bool(await coro == expected)


async def test_dependent_of_a_never_existing_owner_is_collected() -> None:
    async with collector() as client:
        ghost = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                 "metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"}}
        await client.create(PODS, owned_pod("orphaned", ghost), "default")
        await until(lambda: _equals(names(client, PODS), set()))


async def test_foreground_deletion_waits_for_dependents() -> None:
    async with collector() as client:
        await make_family(client)
        # a finalizer on one pod keeps it (and so the owner) around until it is removed
        await client.patch(PODS, "web-0", {"metadata": {"finalizers": ["example.com/hold"]}}, "default")
        deleted = await client.delete(RS, "web", "default", propagation="Foreground")
        assert "foregroundDeletion" in deleted["metadata"]["finalizers"]
        assert deleted["metadata"]["deletionTimestamp"]
        await until(lambda: _equals(names(client, PODS), {"web-0", "loner"}))
        await asyncio.sleep(0.2)
        assert await exists(client, RS, "web"), "the owner must wait for its blocking dependent"
        await client.patch(PODS, "web-0", {"metadata": {"finalizers": None}}, "default")
        await until(lambda: _not(exists(client, RS, "web")))
        assert await names(client, PODS) == {"loner"}


async def _not(coro: Any) -> bool:
    return not await coro


async def test_foreground_does_not_wait_for_non_blocking_dependents() -> None:
    async with collector() as client:
        rs = await client.create(RS, replicaset("web"), "default")
        await client.create(PODS, owned_pod("free", rs, block=False), "default")
        await client.patch(PODS, "free", {"metadata": {"finalizers": ["example.com/hold"]}}, "default")
        await client.delete(RS, "web", "default", propagation="Foreground")
        await until(lambda: _not(exists(client, RS, "web")))
        pod = await client.get(PODS, "free", "default")
        assert pod["metadata"]["deletionTimestamp"]
        await client.patch(PODS, "free", {"metadata": {"finalizers": None}}, "default")


async def test_orphan_deletion_keeps_dependents_and_drops_references() -> None:
    async with collector() as client:
        await make_family(client)
        deleted = await client.delete(RS, "web", "default", propagation="Orphan")
        assert deleted["metadata"]["finalizers"] == ["orphan"]
        await until(lambda: _not(exists(client, RS, "web")))
        for name in ("web-0", "web-1"):
            pod = await client.get(PODS, name, "default")
            assert not pod["metadata"].get("ownerReferences")
            assert not pod["metadata"].get("deletionTimestamp")


async def test_dependent_with_another_solid_owner_only_loses_the_reference() -> None:
    async with collector() as client:
        rs = await client.create(RS, replicaset("web"), "default")
        cm = await client.create(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep"}},
                                 "default")
        pod = owned_pod("shared", rs)
        keep_ref = owner_reference(cm)
        keep_ref["controller"] = False
        pod["metadata"]["ownerReferences"].append(keep_ref)
        await client.create(PODS, pod, "default")
        await client.delete(RS, "web", "default")

        async def dropped() -> bool:
            refs = (await client.get(PODS, "shared", "default"))["metadata"].get("ownerReferences") or []
            return [r["uid"] for r in refs] == [cm["metadata"]["uid"]]
        await until(dropped)


@pytest.mark.parametrize("policy,expected", [
    ("Orphan", ["orphan"]), ("Foreground", ["foregroundDeletion"]),
])
async def test_api_server_adds_the_policy_finalizer(policy: str, expected: list[str]) -> None:
    async with inprocess_api() as api:  # no collector: the finalizer stays
        await api.client.create(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
                                "default")
        marked = await api.client.delete(CM, "x", "default", propagation=policy)
        assert marked["metadata"]["finalizers"] == expected
        # a Background delete afterwards drops the collector's finalizer: the object goes
        await api.client.delete(CM, "x", "default", propagation="Background")
        assert not await exists(api.client, CM, "x")
