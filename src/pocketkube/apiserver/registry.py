"""The generic REST store: create, read, update, patch and delete of any kind over the Store seam.

Every kind goes through the same steps; `strategy` says where a kind differs. Writes are
compare-and-swap on the stored revision: a client's resourceVersion is a precondition (409 on
mismatch), and server-side read-modify-write (patch, delete) retries on a lost race instead.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from datetime import timedelta

from pocketkube.api import errors, meta
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.apiserver import admission, codec
from pocketkube.apiserver.admission import WriteOptions
from pocketkube.apiserver.allocators import ServiceAllocator
from pocketkube.apiserver.strategy import Strategy, strategy_for
from pocketkube.storage import ConflictError, KeyExistsError, KeyNotFoundError, Store

Mutation = Callable[[Obj], Obj]

_RETRIES = 16
_GENERATE_NAME_TRIES = 8


def _modified(resource: ResourceInfo, name: str) -> errors.StatusError:
    return errors.conflict(resource.group, resource.plural, name,
                           "the object has been modified; please apply your changes to the latest "
                           "version and try again")


def check_type(resource: ResourceInfo, obj: Obj) -> None:
    """A body's apiVersion and kind, when given, must be the endpoint's (400 otherwise)."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version and api_version != resource.api_version:
        raise errors.bad_request(f"the API version in the data ({api_version}) does not match the "
                                 f"expected API version ({resource.api_version})")
    if kind and kind != resource.kind:
        raise errors.bad_request(f"the kind in the data ({kind}) does not match the expected kind "
                                 f"({resource.kind})")


class Registry:
    def __init__(self, store: Store, service_cidr: str = "10.96.0.0/12"):
        self.store = store
        self.services = ServiceAllocator(store, service_cidr)
        self._strategies: dict[str, Strategy] = {}

    def strategy(self, resource: ResourceInfo) -> Strategy:
        found = self._strategies.get(resource.storage_name)
        if found is None:
            found = self._strategies[resource.storage_name] = strategy_for(resource)
        return found

    # -- reads ------------------------------------------------------------------------------------

    async def get(self, resource: ResourceInfo, namespace: str | None, name: str) -> Obj:
        kv = await self.store.get(resource.key(namespace, name))
        if kv is None:
            raise errors.not_found(resource.group, resource.plural, name)
        return codec.from_store(kv)

    async def _require_namespace(self, resource: ResourceInfo, namespace: str | None, creating: bool,
                                 name: str = "") -> None:
        if not resource.namespaced:
            return
        kv = await self.store.get(f"/registry/core/namespaces/{namespace}")
        if kv is None:
            raise errors.not_found("", "namespaces", namespace or "")
        if creating and b'"deletionTimestamp"' in kv.value:
            qualified = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
            raise errors.StatusError(
                403, "Forbidden", f'{qualified} "{name}" is forbidden: unable to create new content in '
                f"namespace {namespace} because it is being terminated",
                {"causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                             "message": f"namespace {namespace} is being terminated"}]})

    # -- create -----------------------------------------------------------------------------------

    def _check_identity(self, resource: ResourceInfo, namespace: str | None, obj: Obj) -> None:
        check_type(resource, obj)
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        md = meta.metadata(obj)
        if resource.namespaced:
            if md.get("namespace") and md["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the "
                                         "namespace sent on the request")
            md["namespace"] = namespace
        else:
            md.pop("namespace", None)

    def prepare_new(self, resource: ResourceInfo, namespace: str | None, obj: Obj,
                    opts: WriteOptions) -> Obj:
        """Everything create does before storing: identity, server-owned metadata, admission."""
        self._check_identity(resource, namespace, obj)
        md = obj["metadata"]
        if not md.get("name") and md.get("generateName"):
            md["name"] = meta.generate_name(str(md["generateName"]))
        for owned in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            md.pop(owned, None)
        md["uid"] = meta.new_uid()
        md["creationTimestamp"] = meta.rfc3339(meta.now())
        strategy = self.strategy(resource)
        if strategy.tracks_generation:
            md["generation"] = 1
        else:
            md.pop("generation", None)
        strategy.prepare_for_create(obj)
        admission.admit_create(resource, obj)
        return obj

    async def create(self, resource: ResourceInfo, namespace: str | None, obj: Obj, opts: WriteOptions) -> Obj:
        admission.check_fields(resource, obj, opts)
        given = obj.get("metadata")
        given = given if isinstance(given, dict) else {}
        generated = not given.get("name") and bool(given.get("generateName"))
        # admission names the object before generateName is applied (admission.extractResourceName)
        shown = str(given.get("name") or given.get("generateName") or "")
        # namespace lifecycle is admission, which kube runs before defaulting and validation
        await self._require_namespace(resource, namespace, creating=True, name=shown)
        obj = self.prepare_new(resource, namespace, obj, opts)
        md = obj["metadata"]
        if not opts.apply:
            md.pop("managedFields", None)
            admission.track_fields(resource, None, obj, opts.field_manager, "")
        if opts.dry_run:
            if await self.store.get(resource.key(namespace, md["name"])) is not None:
                raise errors.already_exists(resource.group, resource.plural, md["name"])
            return obj
        if resource.storage_name == "core/services":
            async with self.services.lock:  # held until stored: what is in use is read from the store
                await self.services.allocate(obj)
                return await self._store_new(resource, namespace, obj, generated)
        return await self._store_new(resource, namespace, obj, generated)

    async def _store_new(self, resource: ResourceInfo, namespace: str | None, obj: Obj, generated: bool) -> Obj:
        md = obj["metadata"]
        for _ in range(_GENERATE_NAME_TRIES if generated else 1):
            try:
                kv = await self.store.create(resource.key(namespace, md["name"]), codec.to_store(obj))
            except KeyExistsError:
                if generated:  # a generated name collided: draw another, as kube-apiserver does
                    md["name"] = meta.generate_name(str(md["generateName"]))
                    continue
                raise errors.already_exists(resource.group, resource.plural, md["name"]) from None
            md["resourceVersion"] = str(kv.mod_revision)
            return obj
        raise errors.already_exists(resource.group, resource.plural, md["name"])

    # -- update and patch -------------------------------------------------------------------------

    async def update(self, resource: ResourceInfo, namespace: str | None, name: str, obj: Obj,
                     opts: WriteOptions, subresource: str = "") -> tuple[Obj, bool]:
        """PUT: replace the object (or its status). Returns (object, created)."""
        admission.check_fields(resource, obj, opts)
        self._check_identity(resource, namespace, obj)
        md = obj["metadata"]
        if md.get("name") and md["name"] != name:
            raise errors.bad_request(f"the name of the object ({md['name']}) does not match the name on "
                                     f"the URL ({name})")
        md["name"] = name
        precondition = str(md.get("resourceVersion") or "")
        strategy = self.strategy(resource)
        for _ in range(_RETRIES):
            kv = await self.store.get(resource.key(namespace, name))
            if kv is None:
                if not strategy.allow_create_on_update or subresource:
                    raise errors.not_found(resource.group, resource.plural, name)
                return await self.create(resource, namespace, copy.deepcopy(obj), opts), True
            if precondition and precondition != str(kv.mod_revision):
                raise _modified(resource, name)
            old = codec.from_store(kv)
            try:
                return await self._write_update(resource, namespace, old, copy.deepcopy(obj), opts,
                                                subresource, kv.mod_revision), False
            except ConflictError:
                if precondition:
                    raise _modified(resource, name) from None
                await asyncio.sleep(0)  # let the winning write commit before reading again
        raise _modified(resource, name)

    async def mutate(self, resource: ResourceInfo, namespace: str | None, name: str, mutation: Mutation,
                     opts: WriteOptions, subresource: str = "") -> Obj:
        """Read-modify-write (patch and subresources), retried when another writer got in first.

        `mutation` gets a private copy of the live object and returns the object to write. A
        resourceVersion in the result other than the live one is a client precondition that failed
        (409); on a lost race the mutation runs again on the newer object, so a client's explicit
        version fails then, and an untouched one (the live object's own) just follows along.
        """
        lost = 0
        while True:  # as GuaranteedUpdate: every lost race means another writer made progress
            kv = await self.store.get(resource.key(namespace, name))
            if kv is None:
                raise errors.not_found(resource.group, resource.plural, name)
            old = codec.from_store(kv)
            new = mutation(copy.deepcopy(old))
            self._check_identity(resource, namespace, new)
            new_md = new["metadata"]
            if new_md.get("name", name) != name:
                raise errors.bad_request(f"the name of the object ({new_md.get('name')}) does not match the "
                                         f"name on the URL ({name})")
            precondition = str(new_md.get("resourceVersion") or "")
            if precondition and precondition != str(kv.mod_revision):
                raise _modified(resource, name)
            try:
                return await self._write_update(resource, namespace, old, new, opts, subresource, kv.mod_revision)
            except ConflictError:
                # The winner's write may still be committing: let it land before reading again.
                lost += 1
                await asyncio.sleep(0 if lost < 3 else min(0.05, 0.001 * lost))

    async def _write_update(self, resource: ResourceInfo, namespace: str | None, old: Obj, new: Obj,
                            opts: WriteOptions, subresource: str, revision: int) -> Obj:
        strategy = self.strategy(resource)
        old_md, new_md = old["metadata"], new["metadata"]
        for field in meta.SYSTEM_FIELDS:
            if field in old_md:
                new_md[field] = old_md[field]
            else:
                new_md.pop(field, None)
        new_md["resourceVersion"] = old_md["resourceVersion"]
        if subresource == "status":
            strategy.prepare_for_status_update(new, old)
        elif subresource == "ephemeralcontainers":
            wanted = copy.deepcopy((new.get("spec") or {}).get("ephemeralContainers"))
            new.clear()
            new.update(copy.deepcopy(old))
            new_md = new["metadata"]
            if wanted:
                new.setdefault("spec", {})["ephemeralContainers"] = wanted
        elif subresource in ("", "scale"):
            strategy.prepare_for_update(new, old)
            if strategy.tracks_generation and strategy.spec_changed(new, old):
                new_md["generation"] = int(old_md.get("generation") or 1) + 1
        admission.admit_update(resource, new, old, "" if subresource == "scale" else subresource)
        if "managedFields" not in new_md and "managedFields" in old_md:
            new_md["managedFields"] = old_md["managedFields"]
        if admission.same_object(new, old):
            return old
        if not opts.apply:
            admission.track_fields(resource, old, new, opts.field_manager, subresource)
        if opts.dry_run:
            return new
        key = resource.key(namespace, new_md["name"])
        if self._finished_deleting(new) and not self._pending_finalizers(resource, new):
            await self.store.delete(key, expected_revision=revision)
            return new
        kv = await self.store.update(key, codec.to_store(new), expected_revision=revision)
        new_md["resourceVersion"] = str(kv.mod_revision)
        return new

    @staticmethod
    def _finished_deleting(obj: Obj) -> bool:
        """An object waiting only on finalizers goes once the last one is removed."""
        md = obj["metadata"]
        return bool(md.get("deletionTimestamp") and not md.get("finalizers")
                    and not md.get("deletionGracePeriodSeconds"))

    # -- delete -----------------------------------------------------------------------------------

    async def delete(self, resource: ResourceInfo, namespace: str | None, name: str, *,
                     grace_period: int | None = None, preconditions: Obj | None = None,
                     dry_run: bool = False, propagation: str = "",
                     orphan_dependents: bool | None = None) -> tuple[Obj, bool]:
        """Delete now, or mark for deletion (grace period, finalizers). Returns (object, deleted now).

        `propagation` (DeleteOptions.propagationPolicy) adds the garbage collector's finalizer:
        Orphan → `orphan`, Foreground → `foregroundDeletion`; the collector finishes the deletion.
        """
        strategy = self.strategy(resource)
        key = resource.key(namespace, name)
        for _ in range(_RETRIES):
            kv = await self.store.get(key)
            if kv is None:
                raise errors.not_found(resource.group, resource.plural, name)
            obj = codec.from_store(kv)
            md = obj["metadata"]
            self._check_preconditions(resource, name, md, preconditions or {})
            grace = strategy.grace_period(obj, grace_period) if strategy.graceful_delete else 0
            current = list(md.get("finalizers") or [])
            wanted = gc_finalizers(current, propagation, orphan_dependents)
            finalizers_changed = set(wanted) != set(current)
            if finalizers_changed:
                md["finalizers"] = wanted
                if not wanted:
                    md.pop("finalizers")
            finalizers = wanted + self._pending_finalizers(resource, obj)
            if not finalizers and grace == 0:
                if dry_run:
                    return obj, True
                try:
                    deleted = await self.store.delete(key, expected_revision=kv.mod_revision)
                except (ConflictError, KeyNotFoundError):
                    await asyncio.sleep(0)  # let the winning write commit before reading again
                    continue
                md["resourceVersion"] = str(deleted.mod_revision)
                return obj, True
            marked = self._mark_deleting(md, grace)
            if not marked and not finalizers_changed:
                return obj, False
            if marked:
                strategy.on_deletion_marked(obj)
            if dry_run:
                return obj, False
            try:
                updated = await self.store.update(key, codec.to_store(obj), expected_revision=kv.mod_revision)
            except (ConflictError, KeyNotFoundError):
                await asyncio.sleep(0)  # let the winning write commit before reading again
                continue
            md["resourceVersion"] = str(updated.mod_revision)
            return obj, False
        raise _modified(resource, name)

    @staticmethod
    def _pending_finalizers(resource: ResourceInfo, obj: Obj) -> list[str]:
        if resource.storage_name == "core/namespaces":
            return list((obj.get("spec") or {}).get("finalizers") or [])
        return []

    @staticmethod
    def _mark_deleting(md: Obj, grace: int) -> bool:
        """Set (or shorten) deletionTimestamp; False when there is nothing to change."""
        deadline = meta.now() + timedelta(seconds=grace)
        if md.get("deletionTimestamp"):
            current = md.get("deletionGracePeriodSeconds")
            if current is None or grace >= int(current):
                return False
        md["deletionTimestamp"] = meta.rfc3339(deadline)
        md["deletionGracePeriodSeconds"] = grace
        return True

    @staticmethod
    def _check_preconditions(resource: ResourceInfo, name: str, md: Obj, pre: Obj) -> None:
        uid, rv = pre.get("uid"), pre.get("resourceVersion")
        if uid and uid != md.get("uid"):
            raise errors.conflict(resource.group, resource.plural, name,
                                  f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                                  f"{md.get('uid')}")
        if rv and rv != md.get("resourceVersion"):
            raise errors.conflict(resource.group, resource.plural, name,
                                  f"Precondition failed: ResourceVersion in precondition: {rv}, "
                                  f"ResourceVersion in object meta: {md.get('resourceVersion')}")


ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"


def gc_finalizers(finalizers: list[str], propagation: str, orphan_dependents: bool | None = None) -> list[str]:
    """The finalizers an object has once deleted with this policy (registry deletionFinalizersForGC).

    An unset policy keeps whichever of the two the object already has; Background drops both.
    """
    orphan = ORPHAN_FINALIZER in finalizers
    foreground = FOREGROUND_FINALIZER in finalizers
    if propagation:
        orphan, foreground = propagation == "Orphan", propagation == "Foreground"
    elif orphan_dependents is not None:
        orphan, foreground = orphan_dependents, False
    kept = [f for f in finalizers if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
    return kept + ([ORPHAN_FINALIZER] if orphan else []) + ([FOREGROUND_FINALIZER] if foreground else [])
