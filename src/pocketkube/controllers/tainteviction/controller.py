"""Taint-based eviction (kube's taint-eviction-controller): pods on a node with NoExecute taints
they do not tolerate are deleted, at once or after their tolerationSeconds.

Pod and node events enqueue pod keys (a node's NoExecute taints changing enqueues every pod bound
to it); reconcile asks `api.scheduling.taints.eviction_delay` how long the pod may stay: 0 when a
NoExecute taint is not tolerated at all, the smallest `tolerationSeconds` of the tolerations it
relies on, or forever. The grace period starts when this controller first sees the pod under the
taints (kube: when the eviction is scheduled) and is forgotten once the taints are gone or
tolerated forever. A pending eviction is the work queue's timer on the injected clock (reconcile returns
the time left; lifting the taint cancels it), as kube's TimedWorkerQueue, so tests move a fake clock.

Eviction marks the pod with a DisruptionTarget condition (reason DeletionByTaintManager), deletes
it (guarded by its uid), and records `TaintManagerEviction`, as kube does.
"""

from __future__ import annotations

import logging

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_terminal, is_pod_terminating
from pocketkube.api.scheduling.taints import eviction_delay, no_execute_taints, pod_tolerations
from pocketkube.client.informer import Handlers, object_key
from pocketkube.client.rest import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller

log = logging.getLogger(__name__)

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")


class TaintEvictionController(Controller):
    name = "taint-eviction-controller"
    workers = 4

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self._since: dict[str, float] = {}  # pod key → when it first came under the NoExecute taints
        self.pods = self.informer(PODS, Handlers(on_add=self._pod_changed,
                                                 on_update=lambda _o, n: self._pod_changed(n),
                                                 on_delete=self._pod_deleted))
        self.nodes = self.informer(NODES, Handlers(on_add=self._node_changed, on_update=self._node_updated,
                                                   on_delete=self._node_changed))

    # -- handlers: enqueueing only -------------------------------------------------------------------

    def _pod_changed(self, pod: Obj) -> None:
        if (pod.get("spec") or {}).get("nodeName"):
            self.enqueue(pod)

    def _pod_deleted(self, pod: Obj) -> None:
        self._cancel(object_key(pod))

    def _node_changed(self, node: Obj) -> None:
        if no_execute_taints(node):
            self._enqueue_pods_on(node["metadata"]["name"])

    def _node_updated(self, old: Obj, node: Obj) -> None:
        if no_execute_taints(old) != no_execute_taints(node):
            self._enqueue_pods_on(node["metadata"]["name"])

    def _enqueue_pods_on(self, node_name: str) -> None:
        for pod in self.pods.list():
            if (pod.get("spec") or {}).get("nodeName") == node_name:
                self.enqueue(pod)

    # -- reconcile -----------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        """Evict now, schedule the eviction, or cancel a scheduled one."""
        pod = self.pods.get(key)
        node_name = ((pod or {}).get("spec") or {}).get("nodeName")
        if pod is None or not node_name or is_pod_terminating(pod) or is_pod_terminal(pod):
            self._cancel(key)
            return None
        delay = eviction_delay(no_execute_taints(self.nodes.get(node_name)), pod_tolerations(pod))
        if delay is None:
            self._cancel(key)
            return None
        now = self.clock.now()
        remaining = self._since.setdefault(key, now) + delay - now
        if remaining > 0:
            return remaining  # the work queue's timer on the clock brings the pod back then
        await self._evict(pod)
        self._cancel(key)  # only now: an eviction that failed is retried without a new grace period
        return None

    def _cancel(self, key: str) -> None:
        self._since.pop(key, None)
        self.queue.cancel_after(key)

    async def _evict(self, pod: Obj) -> None:
        md = pod["metadata"]
        condition = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                     "message": "Taint manager: deleting due to NoExecute taint",
                     "lastTransitionTime": meta.rfc3339(self.clock.utcnow())}
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
