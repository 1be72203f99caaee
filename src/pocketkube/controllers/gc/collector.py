"""The garbage collector controller: one informer per kind, a uid index and an owner → dependents
index, and a work queue of objects to look at.

An object is looked at when it has owner references (are its owners still there?) and when it is
being deleted with one of the collector's finalizers: `foregroundDeletion` (delete the dependents,
drop the finalizer once no blocking dependent is left) or `orphan` (remove the owner reference
from every dependent, then drop the finalizer). An owner missing from the caches is looked up on
the API before its dependents are deleted: a cache may simply lag behind a new owner.
Queue keys are `<storage name>|<namespace>/<name>`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.api.resources import RESOURCES, ResourceInfo
from pocketkube.client.informer import Handlers, Informer, object_key
from pocketkube.client.rest import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller
from pocketkube.controllers.gc.plan import (
    FOREGROUND,
    ORPHAN,
    OwnerState,
    blocking,
    owner_state,
    plan_dependent,
    without_owner,
)

log = logging.getLogger(__name__)

# Events are never owners nor collected; everything else served is watched.
_SKIPPED = {"core/events"}


def collectable_resources() -> list[ResourceInfo]:
    seen: set[str] = set()
    out = []
    for res in RESOURCES:
        if res.storage_name in _SKIPPED or res.storage_name in seen or "watch" not in res.verbs:
            continue
        seen.add(res.storage_name)
        out.append(res)
    return out


def _refs(obj: Obj) -> list[Obj]:
    return [r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if r.get("uid")]


def _gc_finalizing(obj: Obj) -> bool:
    md = obj.get("metadata") or {}
    return bool(md.get("deletionTimestamp")) and bool({ORPHAN, FOREGROUND} & set(md.get("finalizers") or []))


class GarbageCollector(Controller):
    name = "garbage-collector-controller"
    workers = 4

    def __init__(self, client: ApiClient, resources: list[ResourceInfo] | None = None,
                 clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.kinds: dict[tuple[str, str], ResourceInfo] = {}  # (apiVersion, kind) → resource
        self.by_storage: dict[str, tuple[ResourceInfo, Informer]] = {}
        self.uids: dict[str, str] = {}  # uid → queue key
        self.dependents: dict[str, set[str]] = defaultdict(set)  # owner uid → dependents' queue keys
        for res in RESOURCES:
            self.kinds.setdefault((res.api_version, res.kind), res)
        for res in resources or collectable_resources():
            inf = self.informer(res, self._handlers(res))
            self.by_storage[res.storage_name] = (res, inf)

    # -- indexes and handlers ---------------------------------------------------------------------

    def _key(self, res: ResourceInfo, obj: Obj) -> str:
        return f"{res.storage_name}|{object_key(obj)}"

    def _handlers(self, res: ResourceInfo) -> Handlers:
        def add(obj: Obj) -> None:
            self._index(res, None, obj)
            self._look_at(res, obj)

        def update(old: Obj, new: Obj) -> None:
            self._index(res, old, new)
            self._look_at(res, new)
            self._wake_waiting_owners(old)

        def delete(obj: Obj) -> None:
            key = self._key(res, obj)
            uid = obj["metadata"].get("uid", "")
            self._index(res, obj, None)
            if self.uids.get(uid) == key:
                del self.uids[uid]
            for dependent in list(self.dependents.get(uid, ())):
                self.queue.add(dependent)  # their owner is gone
            self._wake_waiting_owners(obj)

        return Handlers(on_add=add, on_update=update, on_delete=delete)

    def _index(self, res: ResourceInfo, old: Obj | None, new: Obj | None) -> None:
        key = self._key(res, new or old or {})
        for ref in _refs(old or {}):
            deps = self.dependents.get(ref["uid"])
            if deps is not None:
                deps.discard(key)
                if not deps:
                    del self.dependents[ref["uid"]]
        if new is not None:
            self.uids[new["metadata"].get("uid", "")] = key
            for ref in _refs(new):
                self.dependents[ref["uid"]].add(key)

    def _look_at(self, res: ResourceInfo, obj: Obj) -> None:
        if _refs(obj) or _gc_finalizing(obj):
            self.queue.add(self._key(res, obj))
        self._wake_waiting_owners(obj)

    def _wake_waiting_owners(self, obj: Obj) -> None:
        """A dependent changed or went: an owner deleting in the foreground may now be done."""
        for ref in _refs(obj):
            key = self.uids.get(ref["uid"])
            owner = self._cached(key) if key else None
            if owner is not None and _gc_finalizing(owner):
                self.queue.add(key or "")

    def _cached(self, key: str) -> Obj | None:
        storage, _, obj_key = key.partition("|")
        entry = self.by_storage.get(storage)
        return entry[1].get(obj_key) if entry else None

    def _resource_of(self, key: str) -> ResourceInfo:
        return self.by_storage[key.partition("|")[0]][0]

    # -- reconcile --------------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        obj = self._cached(key)
        if obj is None:
            return None
        res = self._resource_of(key)
        md = obj["metadata"]
        finalizers = md.get("finalizers") or []
        if md.get("deletionTimestamp"):
            if FOREGROUND in finalizers:
                await self._delete_dependents(res, obj)
                return None
            if ORPHAN in finalizers:
                await self._orphan_dependents(res, obj)
                return None
            return None  # already going; nothing to decide
        refs = _refs(obj)
        if not refs:
            return None
        states = {ref["uid"]: await self._owner_state(obj, ref) for ref in refs}
        plan = plan_dependent(refs, states, has_dependents=bool(self.dependents.get(md.get("uid", ""))))
        if plan.delete:
            log.info("gc: deleting %s (owners gone or waiting)", key)
            await self._ignore_gone(self.client.delete(res, md["name"], md.get("namespace"),
                                                       propagation=plan.propagation,
                                                       preconditions={"uid": md["uid"]}))
        elif plan.remove_uids:
            await self._set_owner_refs(res, obj, without_owner(list(md.get("ownerReferences") or []),
                                                                plan.remove_uids))
        return None

    async def _owner_state(self, dependent: Obj, ref: Obj) -> OwnerState:
        res = self.kinds.get((ref.get("apiVersion", ""), ref.get("kind", "")))
        if res is None:
            return OwnerState.SOLID  # a kind we do not serve: never collect on its account
        key = self.uids.get(ref["uid"])
        owner = self._cached(key) if key else None
        if owner is not None:
            return owner_state(owner, ref["uid"])
        namespace = (dependent.get("metadata") or {}).get("namespace")
        if res.namespaced and not namespace:
            return OwnerState.DANGLING  # a cluster-scoped object cannot have a namespaced owner
        try:
            live = await self.client.get(res, ref.get("name", ""), namespace if res.namespaced else None)
        except errors.StatusError as exc:
            if exc.code == 404:
                return OwnerState.DANGLING
            raise
        return owner_state(live, ref["uid"])

    def _dependents_of(self, uid: str) -> list[tuple[str, Obj]]:
        out = []
        for key in list(self.dependents.get(uid, ())):
            dep = self._cached(key)
            if dep is not None:
                out.append((key, dep))
        return out

    async def _delete_dependents(self, res: ResourceInfo, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        deps = self._dependents_of(uid)
        for key, dep in deps:
            if not (dep.get("metadata") or {}).get("deletionTimestamp"):
                self.queue.add(key)  # its owner now waits: reconcile deletes it
        if not blocking([d for _, d in deps], uid):
            await self._remove_finalizer(res, owner, FOREGROUND)

    async def _orphan_dependents(self, res: ResourceInfo, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        for key, dep in self._dependents_of(uid):
            refs = list(dep["metadata"].get("ownerReferences") or [])
            await self._set_owner_refs(self._resource_of(key), dep, without_owner(refs, {uid}))
        await self._remove_finalizer(res, owner, ORPHAN)

    async def _set_owner_refs(self, res: ResourceInfo, obj: Obj, refs: list[Obj]) -> None:
        md = obj["metadata"]
        patch = {"metadata": {"ownerReferences": refs or None, "resourceVersion": md["resourceVersion"]}}
        await self._ignore_gone(self.client.patch(res, md["name"], patch, md.get("namespace")))

    async def _remove_finalizer(self, res: ResourceInfo, obj: Obj, finalizer: str) -> None:
        md = obj["metadata"]
        kept = [f for f in md.get("finalizers") or [] if f != finalizer]
        patch = {"metadata": {"finalizers": kept or None, "resourceVersion": md["resourceVersion"]}}
        await self._ignore_gone(self.client.patch(res, md["name"], patch, md.get("namespace")))

    @staticmethod
    async def _ignore_gone(call: Any) -> None:
        try:
            await call
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
