"""The scheduling loop: pending pods in a work queue, the cluster in a cache fed by informers.

Handlers keep the `ClusterCache` current (O(1) per event) and enqueue pods; a worker takes a pod,
decides synchronously against the cache (`framework.schedule_pod`), assumes the pod on its node
at once — so the next decision already counts it — and only then awaits the binding, so several
bindings are in flight while decisions stay serial, as kube's scheduling and binding cycles.
Unschedulable pods wait until a node, a namespace or a bound pod changes, then are tried again.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_terminal
from pocketkube.client.events import EventRecorder
from pocketkube.client.informer import Handlers, object_key, shared_informers
from pocketkube.client.rest import ApiClient
from pocketkube.client.runner import run_workers
from pocketkube.client.workqueue import WorkQueue
from pocketkube.scheduler.framework import schedule_pod
from pocketkube.scheduler.nodeinfo import ClusterCache

log = logging.getLogger(__name__)

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
NAMESPACES = resources.require("", "v1", "namespaces")

SCHEDULER_NAME = "default-scheduler"


def wants_scheduling(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    return (not spec.get("nodeName") and not meta.is_being_deleted(pod) and not is_pod_terminal(pod)
            and spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
            and not spec.get("schedulingGates"))


def _labels(obj: Obj) -> Any:
    return (obj.get("metadata") or {}).get("labels")


class Scheduler:
    def __init__(self, client: ApiClient, workers: int = 16):
        self.client = client
        self.pods = shared_informers(client).get(PODS)
        self.nodes = shared_informers(client).get(NODES)
        self.namespaces = shared_informers(client).get(NAMESPACES)
        self.queue = WorkQueue(base_delay=1.0, max_delay=10.0)
        self.recorder = EventRecorder(client, SCHEDULER_NAME)
        self.workers = workers
        self.cache = ClusterCache()
        self._unschedulable: set[str] = set()
        self.pods.add_handlers(Handlers(on_add=self._pod_added, on_update=self._pod_updated,
                                        on_delete=self._pod_deleted))
        self.nodes.add_handlers(Handlers(on_add=self._node_changed, on_update=lambda _o, n: self._node_changed(n),
                                         on_delete=self._node_deleted))
        self.namespaces.add_handlers(Handlers(on_add=self._retry_unschedulable,
                                              on_update=lambda _o, n: self._retry_unschedulable(n)))

    # -- event handlers: update the cache, enqueue -------------------------------------------------

    def _pod_added(self, pod: Obj) -> None:
        self.cache.update_pod(pod)
        if (pod.get("spec") or {}).get("nodeName"):
            self._retry_unschedulable(pod)  # a new neighbour may satisfy affinity or spreading
        elif wants_scheduling(pod):
            self.queue.add(object_key(pod))

    def _pod_updated(self, old: Obj, pod: Obj) -> None:
        key = object_key(pod)
        was_bound = bool((old.get("spec") or {}).get("nodeName"))
        self.cache.update_pod(pod)
        bound = bool((pod.get("spec") or {}).get("nodeName"))
        if bound:
            if not was_bound or _labels(old) != _labels(pod) or is_pod_terminal(pod) != is_pod_terminal(old):
                self._retry_unschedulable(pod)
            return
        if not wants_scheduling(pod):
            return
        # Our own status patch on an unschedulable pod changes nothing worth another try.
        if key in self._unschedulable and old.get("spec") == pod.get("spec") and _labels(old) == _labels(pod):
            return
        self._unschedulable.discard(key)
        self.queue.add(key)

    def _pod_deleted(self, pod: Obj) -> None:
        key = object_key(pod)
        self.cache.forget(key)
        self._unschedulable.discard(key)
        self._retry_unschedulable(pod)

    def _node_changed(self, node: Obj) -> None:
        self.cache.set_node(node)
        self._retry_unschedulable(node)

    def _node_deleted(self, node: Obj) -> None:
        self.cache.remove_node(node["metadata"]["name"])

    def _retry_unschedulable(self, _obj: Obj) -> None:
        for key in self._unschedulable:
            self.queue.add(key)
        self._unschedulable.clear()

    # -- the loop -----------------------------------------------------------------------------------

    async def run(self) -> None:
        await run_workers((self.pods, self.nodes, self.namespaces), self.queue, self._schedule_key, self.workers,
                          "scheduler")

    async def _schedule_key(self, key: str) -> float | None:
        await self.schedule(key)
        return None

    def _namespace_labels(self) -> dict[str, dict[str, str]]:
        return {str(ns["metadata"]["name"]): _labels(ns) or {} for ns in self.namespaces.list()}

    async def schedule(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None or not wants_scheduling(pod) or key in self.cache.assumed:
            return
        decision = schedule_pod(pod, self.cache.nodes(), self._namespace_labels())
        md = pod["metadata"]
        if decision.node is None:
            self._unschedulable.add(key)
            self.recorder.event(pod, "Warning", "FailedScheduling", decision.message)
            await self._mark_unschedulable(pod, decision.message)
            return
        node = decision.node
        self.cache.assume(pod, node)
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": md["name"], "namespace": md["namespace"], "uid": md.get("uid")},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        try:
            await self.client.request("POST", f"/api/v1/namespaces/{md['namespace']}/pods/{md['name']}/binding",
                                      body=binding)
        except errors.StatusError as exc:
            self.cache.forget(key)
            if current := self.pods.get(key):
                self.cache.update_pod(current)
            if exc.code in (404, 409):  # gone, or bound by someone else meanwhile
                return
            raise
        except BaseException:
            self.cache.forget(key)
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
