"""The ReplicaSet controller: keep `replicas` pods matching the selector, report their status.

reconcile(key): claim pods (adopt orphans, release non-matching), then — only once earlier
creations and deletions have been seen (expectations) — create the missing pods in slow-start
batches or delete the surplus in `ActivePods` order, then write status when it changed.
"""

from __future__ import annotations

import asyncio
import logging

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_active
from pocketkube.api.selectors import selector_from_object
from pocketkube.client import ApiClient
from pocketkube.client.informer import Handlers, object_key
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller, owner_reference
from pocketkube.controllers.common.expectations import Expectations
from pocketkube.controllers.common.ownership import claim_objects, controller_key, labels_of
from pocketkube.controllers.replicaset.ranking import pods_to_delete
from pocketkube.controllers.replicaset.status import calculate_status, next_available_in

log = logging.getLogger(__name__)

PODS = resources.require("", "v1", "pods")
REPLICASETS = resources.require("apps", "v1", "replicasets")

BURST_REPLICAS = 500  # most pods one sync creates or deletes, as kube's burstReplicas


def pod_from_template(rs: Obj) -> Obj:
    """A pod of the ReplicaSet's template, named `<rs>-xxxxx` by the server, controlled by the ReplicaSet."""
    template = (rs.get("spec") or {}).get("template") or {}
    tmd = template.get("metadata") or {}
    md: Obj = {"generateName": f"{rs['metadata']['name']}-", "namespace": rs["metadata"].get("namespace"),
               "ownerReferences": [owner_reference(rs)]}
    for name in ("labels", "annotations", "finalizers"):
        if tmd.get(name):
            md[name] = tmd[name]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": template.get("spec") or {}}


def slow_start_batches(count: int, initial: int = 1) -> list[int]:
    """Batch sizes 1, 2, 4, … summing to `count`: a failing create stops early, not after `count` errors."""
    sizes, size, left = [], min(count, initial), count
    while left > 0:
        sizes.append(size)
        left -= size
        size = min(size * 2, left)
    return sizes


class ReplicaSetController(Controller):
    name = "replicaset-controller"
    workers = 4

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.expectations = Expectations(clock=clock)
        self.replicasets = self.informer(REPLICASETS, self.own())
        self.pods = self.informer(PODS, Handlers(on_add=self._pod_added, on_update=self._pod_updated,
                                                 on_delete=self._pod_deleted))
        self.pods.add_handlers(self.expectations.observer(self._owner_key))

    # -- handlers: enqueueing only (the expectations' observer ticks them off) -------------------------

    def _owner_key(self, pod: Obj) -> str | None:
        return controller_key(pod, "ReplicaSet")

    def _enqueue_matching(self, pod: Obj) -> None:
        ns, labels = pod["metadata"].get("namespace"), labels_of(pod)
        for rs in self.replicasets.list():
            if rs["metadata"].get("namespace") == ns and \
                    selector_from_object((rs.get("spec") or {}).get("selector")).matches(labels):
                self.enqueue(rs)

    def _pod_added(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.queue.add(key)
        elif not pod["metadata"].get("deletionTimestamp"):
            self._enqueue_matching(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        old_key, key = self._owner_key(old), self._owner_key(new)
        if old_key is not None and old_key != key:
            self.queue.add(old_key)
        if key is not None:
            self.queue.add(key)
        elif labels_of(old) != labels_of(new) or old_key is not None:
            self._enqueue_matching(new)

    def _pod_deleted(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.queue.add(key)

    # -- reconcile ------------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        rs = self.replicasets.get(key)
        if rs is None:
            self.expectations.forget(key)
            return None
        ns = rs["metadata"].get("namespace")
        selector = selector_from_object((rs.get("spec") or {}).get("selector"))
        candidates = [p for p in self.pods.list() if p["metadata"].get("namespace") == ns and is_pod_active(p)]
        owned = await claim_objects(self.client, PODS, rs, selector, candidates)

        create_error: str | None = None
        if self.expectations.satisfied(key) and not rs["metadata"].get("deletionTimestamp"):
            create_error = await self._manage_replicas(key, rs, owned)

        now = self.clock.utcnow()
        status = calculate_status(rs, owned, create_error, now)
        if status != (rs.get("status") or {}):
            await self.client.update(REPLICASETS, {**rs, "status": status}, subresource="status")
        if create_error is not None:
            raise errors.StatusError(500, "InternalError", create_error)
        return next_available_in(rs, owned, now)

    async def _manage_replicas(self, key: str, rs: Obj, owned: list[Obj]) -> str | None:
        """Create or delete pods toward spec.replicas; returns the create error, if any."""
        want = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(owned) - want
        if diff < 0:
            return await self._create(key, rs, min(-diff, BURST_REPLICAS))
        if diff > 0:
            await self._delete(key, rs, pods_to_delete(owned, min(diff, BURST_REPLICAS)))
        return None

    async def _create(self, key: str, rs: Obj, count: int) -> str | None:
        self.expectations.expect_creations(key, count)
        pod = pod_from_template(rs)
        ns = rs["metadata"].get("namespace")
        attempted, failure, terminating = 0, None, None
        for size in slow_start_batches(count):
            attempted += size
            results = await asyncio.gather(*(self.client.create(PODS, pod, ns) for _ in range(size)),
                                           return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    self.expectations.creation_observed(key)
                    if not isinstance(result, errors.StatusError):
                        raise result
                    if namespace_terminating(result):
                        terminating = result.message
                    else:
                        failure = failure or result.message
                else:
                    self.recorder.event(rs, "Normal", "SuccessfulCreate",
                                        f"Created pod: {result['metadata']['name']}")
            if failure is not None or terminating is not None:
                break
        if failure is not None or terminating is not None:
            for _ in range(count - attempted):  # never tried, so never observed
                self.expectations.creation_observed(key)
            self.recorder.event(rs, "Warning", "FailedCreate", f"Error creating: {failure or terminating}")
        # As kube does, a namespace being deleted is no failure of the set: every create there fails, and
        # the set itself is about to go.
        return failure

    async def _delete(self, key: str, rs: Obj, victims: list[Obj]) -> None:
        self.expectations.expect_deletions(key, [object_key(p) for p in victims])

        async def delete(pod: Obj) -> None:
            md = pod["metadata"]
            try:
                await self.client.delete(PODS, md["name"], md.get("namespace"))
            except errors.StatusError as exc:
                self.expectations.deletion_observed(key, object_key(pod))
                if exc.code != 404:
                    raise
                return
            self.recorder.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {md['name']}")

        await asyncio.gather(*(delete(p) for p in victims))


def namespace_terminating(exc: errors.StatusError) -> bool:
    """A create refused because the namespace is being deleted (status cause NamespaceTerminating)."""
    causes = (exc.details or {}).get("causes") or []
    return any(isinstance(c, dict) and c.get("reason") == "NamespaceTerminating" for c in causes)
