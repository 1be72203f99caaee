"""Taint-based eviction: pods on a node with NoExecute taints they don't tolerate are deleted.

In Kubernetes this is the node lifecycle controller's taint eviction loop. For each bound pod,
`taints.eviction_delay` says how long it may stay: 0 when a NoExecute taint is not tolerated at all,
the smallest `tolerationSeconds` of the tolerations it relies on, or forever. The clock starts when
this controller first sees the pod under the taints (kube: when the eviction is scheduled), and
stops — forgotten — once the taints are gone or tolerated forever. Eviction marks the pod with a
DisruptionTarget condition (reason DeletionByTaintManager), deletes it, and records
`TaintManagerEviction`, as kube does.

It is written against the client directly (informers + work queue), not controllers.base: the
scheduler package may not import the controllers package (they are sibling layers).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pocketkube.api import errors, meta, resources
from pocketkube.client.events import EventRecorder
from pocketkube.client.informer import Handlers, object_key, shared_informers
from pocketkube.client.rest import ApiClient
from pocketkube.client.runner import run_workers
from pocketkube.client.workqueue import WorkQueue
from pocketkube.scheduler.fit import is_terminal
from pocketkube.scheduler.taints import NO_EXECUTE, eviction_delay, pod_tolerations

log = logging.getLogger(__name__)

Obj = dict[str, Any]
PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
COMPONENT = "taint-eviction-controller"


def no_execute_taints(node: Obj | None) -> list[Obj]:
    return [t for t in ((node or {}).get("spec") or {}).get("taints") or [] if t.get("effect") == NO_EXECUTE]


class TaintEvictionController:
    workers = 4

    def __init__(self, client: ApiClient, clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.clock = clock
        self.queue = WorkQueue()
        self.recorder = EventRecorder(client, COMPONENT)
        self.pods = shared_informers(client).get(PODS)
        self.nodes = shared_informers(client).get(NODES)
        self._since: dict[str, float] = {}  # pod key → when it first came under NoExecute taints
        self.pods.add_handlers(Handlers(on_add=self._pod_changed, on_update=lambda _o, n: self._pod_changed(n),
                                        on_delete=self._pod_deleted))
        self.nodes.add_handlers(Handlers(on_add=self._node_changed, on_update=self._node_updated))

    def _pod_changed(self, pod: Obj) -> None:
        if (pod.get("spec") or {}).get("nodeName"):
            self.queue.add(object_key(pod))

    def _pod_deleted(self, pod: Obj) -> None:
        self._since.pop(object_key(pod), None)

    def _node_changed(self, node: Obj) -> None:
        if no_execute_taints(node):
            self._enqueue_pods_on(node["metadata"]["name"])

    def _node_updated(self, old: Obj, node: Obj) -> None:
        if no_execute_taints(old) != no_execute_taints(node):
            self._enqueue_pods_on(node["metadata"]["name"])

    def _enqueue_pods_on(self, node_name: str) -> None:
        for pod in self.pods.list():
            if (pod.get("spec") or {}).get("nodeName") == node_name:
                self.queue.add(object_key(pod))

    async def reconcile(self, key: str) -> float | None:
        """Evict now, or say in how many seconds to look again; None when nothing is pending."""
        pod = self.pods.get(key)
        node_name = ((pod or {}).get("spec") or {}).get("nodeName")
        if pod is None or not node_name or meta.is_being_deleted(pod) or is_terminal(pod):
            self._since.pop(key, None)
            return None
        delay = eviction_delay(no_execute_taints(self.nodes.get(node_name)), pod_tolerations(pod))
        if delay is None:
            self._since.pop(key, None)
            return None
        now = self.clock()
        remaining = self._since.setdefault(key, now) + delay - now
        if remaining > 0:
            return remaining
        await self._evict(pod)
        self._since.pop(key, None)
        return None

    async def _evict(self, pod: Obj) -> None:
        md = pod["metadata"]
        condition = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                     "message": "Taint manager: deleting due to NoExecute taint",
                     "lastTransitionTime": meta.rfc3339(meta.now())}
        try:
            await self.client.patch(PODS, md["name"], {"status": {"conditions": [condition]}}, md["namespace"],
                                    subresource="status", patch_type="application/strategic-merge-patch+json")
            await self.client.delete(PODS, md["name"], md["namespace"], preconditions={"uid": md.get("uid")})
        except errors.StatusError as exc:
            if exc.code in (404, 409):  # already gone, or replaced by a pod of the same name
                return
            raise
        self.recorder.event(pod, "Normal", "TaintManagerEviction",
                            f"Marking for deletion Pod {md['namespace']}/{md['name']}")

    async def run(self) -> None:
        await run_workers((self.pods, self.nodes), self.queue, self.reconcile, self.workers, "taint-eviction")

