"""The scheduling loop: pending pods in a work queue, nodes and pods from informers, one bind each.

A pod just bound is "assumed" on its node until the pod informer sees the binding, so a burst of
pods is spread by what was already decided, not only by what the cache has caught up with.
Unschedulable pods wait until a node or a pod changes, then are tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from pocketkube.api import errors, meta, resources
from pocketkube.client.events import EventRecorder
from pocketkube.client.informer import Handlers, Informer, object_key
from pocketkube.client.rest import ApiClient
from pocketkube.client.workqueue import ShutDown, WorkQueue
from pocketkube.scheduler.fit import Resources, choose_node, is_terminal, pod_requests

log = logging.getLogger(__name__)

Obj = dict[str, Any]
PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")

SCHEDULER_NAME = "default-scheduler"


def wants_scheduling(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    return (not spec.get("nodeName") and not meta.is_being_deleted(pod) and not is_terminal(pod)
            and spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
            and not spec.get("schedulingGates"))


class Scheduler:
    def __init__(self, client: ApiClient, workers: int = 4):
        self.client = client
        self.pods = Informer(client, PODS)
        self.nodes = Informer(client, NODES)
        self.queue = WorkQueue(base_delay=1.0, max_delay=10.0)
        self.recorder = EventRecorder(client, SCHEDULER_NAME)
        self.workers = workers
        self._assumed: dict[str, tuple[str, Resources]] = {}  # pod key → (node, requests)
        self._unschedulable: set[str] = set()
        self.pods.add_handlers(Handlers(on_add=self._pod_changed, on_update=lambda _o, n: self._pod_changed(n),
                                        on_delete=self._pod_deleted))
        self.nodes.add_handlers(Handlers(on_add=self._cluster_changed,
                                         on_update=lambda _o, n: self._cluster_changed(n),
                                         on_delete=self._cluster_changed))

    # -- event handlers: enqueue only --------------------------------------------------------------

    def _pod_changed(self, pod: Obj) -> None:
        key = object_key(pod)
        if (pod.get("spec") or {}).get("nodeName"):
            self._assumed.pop(key, None)
        if wants_scheduling(pod):
            self.queue.add(key)

    def _pod_deleted(self, pod: Obj) -> None:
        self._assumed.pop(object_key(pod), None)
        self._cluster_changed(pod)

    def _cluster_changed(self, _obj: Obj) -> None:
        for key in list(self._unschedulable):
            self.queue.add(key)
        self._unschedulable.clear()

    # -- the loop -----------------------------------------------------------------------------------

    async def run(self) -> None:
        informers = [asyncio.create_task(self.pods.run()), asyncio.create_task(self.nodes.run())]
        workers: list[asyncio.Task[None]] = []
        try:
            await self.pods.synced.wait()
            await self.nodes.synced.wait()
            workers = [asyncio.create_task(self._worker()) for _ in range(self.workers)]
            await asyncio.gather(*informers)
        finally:
            self.queue.shutdown()
            for task in informers + workers:
                task.cancel()
            for task in informers + workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.schedule(key)
                self.queue.forget(key)
            except Exception as exc:  # retried with backoff; the pod stays Pending meanwhile
                log.warning("scheduling %s failed: %s", key, exc)
                self.queue.add_rate_limited(key)
            finally:
                self.queue.done(key)

    def _used(self) -> dict[str, Resources]:
        used: dict[str, Resources] = {}
        for pod in self.pods.list():
            node = (pod.get("spec") or {}).get("nodeName")
            if node and not is_terminal(pod):
                used[node] = used.get(node, Resources()) + pod_requests(pod)
        for node, requests in self._assumed.values():
            used[node] = used.get(node, Resources()) + requests
        return used

    async def schedule(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None or not wants_scheduling(pod) or key in self._assumed:
            return
        node, why = choose_node(pod, self.nodes.list(), self._used())
        md = pod["metadata"]
        if node is None:
            self._unschedulable.add(key)
            self.recorder.event(pod, "Warning", "FailedScheduling", why)
            await self._mark_unschedulable(pod, why)
            return
        self._assumed[key] = (node, pod_requests(pod))
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": md["name"], "namespace": md["namespace"], "uid": md.get("uid")},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        try:
            await self.client.request("POST", f"/api/v1/namespaces/{md['namespace']}/pods/{md['name']}/binding",
                                      body=binding)
        except errors.StatusError as exc:
            self._assumed.pop(key, None)
            if exc.code in (404, 409):  # gone, or bound by someone else meanwhile
                return
            raise
        self.recorder.event(pod, "Normal", "Scheduled",
                            f"Successfully assigned {md['namespace']}/{md['name']} to {node}")

    async def _mark_unschedulable(self, pod: Obj, message: str) -> None:
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("message") == message:
                return
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
                     "lastProbeTime": None, "lastTransitionTime": meta.rfc3339(meta.now())}
        md = pod["metadata"]
        patch = {"status": {"conditions": [condition]}}
        with contextlib.suppress(errors.StatusError):
            await self.client.patch(PODS, md["name"], patch, md["namespace"], subresource="status",
                                    patch_type="application/strategic-merge-patch+json")
