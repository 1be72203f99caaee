"""Namespace deletion: the controller empties the namespace, then the API server removes it."""

from __future__ import annotations

import asyncio
import contextlib

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.controllers.namespace import NamespaceController, namespaced_resources
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

NAMESPACES = resources.require("", "v1", "namespaces")
PODS = resources.require("", "v1", "pods")
CM = resources.require("", "v1", "configmaps")
DEPLOY = resources.require("apps", "v1", "deployments")


def test_namespaced_resources_lists_each_stored_kind_once() -> None:
    storage = [r.storage_name for r in namespaced_resources()]
    assert len(storage) == len(set(storage))
    assert "core/pods" in storage and "core/events" in storage and "batch/jobs" in storage
    assert "core/namespaces" not in storage and "core/nodes" not in storage


async def test_deleting_a_namespace_empties_it_and_removes_it() -> None:
    async with inprocess_api() as api:
        client = api.client
        await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
        await client.create(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, "doomed")
        await client.create(PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, "doomed")
        await client.create(DEPLOY, {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
            "doomed")
        # a finalizer holds one object back: the namespace must wait for it
        await client.create(CM, {"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "held", "finalizers": ["example.com/hold"]}}, "doomed")
        await client.create(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}},
                            "default")
        controller = NamespaceController(client)
        task = asyncio.create_task(controller.run())
        try:
            marked = await client.delete(NAMESPACES, "doomed")
            assert marked["status"]["phase"] == "Terminating"

            async def emptied() -> bool:
                return not (await client.list(PODS, "doomed"))["items"] and \
                    not (await client.list(DEPLOY, "doomed"))["items"]

            await until(emptied)

            async def finalizers_remaining() -> dict[str, Obj] | None:
                ns = await client.get(NAMESPACES, "doomed")
                types = {c["type"]: c for c in ns["status"].get("conditions") or []}
                return types if types.get("NamespaceFinalizersRemaining", {}).get("status") == "True" else None

            types = await until(finalizers_remaining)
            assert types["NamespaceFinalizersRemaining"]["reason"] == "SomeFinalizersRemain"
            assert "example.com/hold in 1 resource instances" in types["NamespaceFinalizersRemaining"]["message"]
            await client.patch(CM, "held", {"metadata": {"finalizers": None}}, "doomed")

            async def removed() -> bool:
                try:
                    await client.get(NAMESPACES, "doomed")
                except errors.StatusError as exc:
                    assert exc.code == 404
                    return True
                return False

            await until(removed)
            assert [c["metadata"]["name"] for c in (await client.list(CM, "default"))["items"]] == ["other"]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
