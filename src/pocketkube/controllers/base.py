"""What every controller shares: informers feeding a work queue, workers calling `reconcile(key)`.

Handlers only enqueue keys (`enqueue`, `enqueue_owner`); `reconcile` reads the current state from
the informer caches, compares desired with actual, and writes — safe to run twice. A reconcile
that raises is retried with backoff (409 conflicts included: the next run re-reads); one that
returns a number of seconds is run again after that long (e.g. minReadySeconds, deadlines),
measured on the controller's clock, which also gives its "now": a test moves a fake clock instead
of waiting.
"""

from __future__ import annotations

import logging
from typing import Any

from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.client.events import EventRecorder
from pocketkube.client.informer import Handlers, Informer, object_key, shared_informers
from pocketkube.client.rest import ApiClient
from pocketkube.client.runner import run_workers
from pocketkube.client.workqueue import WorkQueue
from pocketkube.clock import REAL_CLOCK, Clock

log = logging.getLogger(__name__)


def controller_of(obj: Obj) -> Obj | None:
    """The ownerReference with controller: true, if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def controller_key(obj: Obj, kind: str) -> str | None:
    """The work-queue key of the object's controller when it is of `kind` (same namespace), else None."""
    ref = controller_of(obj)
    if ref is None or ref.get("kind") != kind:
        return None
    ns = (obj.get("metadata") or {}).get("namespace")
    return f"{ns}/{ref['name']}" if ns else str(ref["name"])


def owner_reference(owner: Obj, block_owner_deletion: bool = True) -> Obj:
    md = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": md["name"], "uid": md["uid"],
            "controller": True, "blockOwnerDeletion": block_owner_deletion}


class Controller:
    """Subclasses set `name`, create informers with `informer()`, and implement `reconcile`."""

    name = "controller"
    workers = 2

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        self.client = client
        self.clock = clock
        self.queue = WorkQueue(clock=clock)
        self.recorder = EventRecorder(client, self.name)
        self.informers: list[Informer] = []

    def informer(self, resource: ResourceInfo, handlers: Handlers | None = None, **kw: Any) -> Informer:
        inf = shared_informers(self.client).get(resource, **kw)
        if handlers is not None:
            inf.add_handlers(handlers)
        self.informers.append(inf)
        return inf

    def enqueue(self, obj: Obj) -> None:
        self.queue.add(object_key(obj))

    def enqueue_owner(self, obj: Obj, kind: str) -> None:
        """Enqueue the controller owner of `obj` when it is of `kind` (same namespace)."""
        key = controller_key(obj, kind)
        if key is not None:
            self.queue.add(key)

    def watch_owned(self, kind: str) -> Handlers:
        """Handlers for objects owned by this controller's kind: any change enqueues the owner."""
        def updated(old: Obj, new: Obj) -> None:
            self.enqueue_owner(old, kind)
            self.enqueue_owner(new, kind)

        return Handlers(on_add=lambda o: self.enqueue_owner(o, kind), on_update=updated,
                        on_delete=lambda o: self.enqueue_owner(o, kind))

    def own(self) -> Handlers:
        return Handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n), on_delete=self.enqueue)

    async def reconcile(self, key: str) -> float | None:
        raise NotImplementedError

    async def run(self) -> None:
        await run_workers(self.informers, self.queue, self.reconcile, self.workers, self.name)
