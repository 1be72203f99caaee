"""Deleting a namespace: every namespaced object in it is deleted, then the namespace is finalized.

A deleted namespace is kept by the `kubernetes` entry of its spec.finalizers (phase Terminating).
This controller deletes everything in it, kind by kind (pods too: the node agent terminates them),
checks again after a short wait while anything remains (graceful pods, finalizers), and when the
namespace is empty PUTs `namespaces/<name>/finalize` without `kubernetes`; the API server then
removes the namespace. Status conditions say what is left, as kube's namespace controller does.
"""

from __future__ import annotations

import logging

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.api.resources import RESOURCES, ResourceInfo
from pocketkube.client.rest import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller

log = logging.getLogger(__name__)

NAMESPACES = resources.require("", "v1", "namespaces")
FINALIZER = "kubernetes"
_RECHECK = 1.0


def namespaced_resources() -> list[ResourceInfo]:
    """Each stored namespaced kind once (events.k8s.io Events are core Events)."""
    seen: set[str] = set()
    out = []
    for res in RESOURCES:
        if res.namespaced and res.storage_name not in seen:
            seen.add(res.storage_name)
            out.append(res)
    return out


def content_conditions(remaining: dict[str, int], finalizers: dict[str, int], failed: list[str]) -> list[Obj]:
    """kube's namespace deletion conditions, from what is left (kind plural → count)."""
    now = meta.rfc3339(meta.now())

    def cond(type_: str, bad: bool, reason_bad: str, msg_bad: str, reason_ok: str, msg_ok: str) -> Obj:
        return {"type": type_, "status": "True" if bad else "False", "lastTransitionTime": now,
                "reason": reason_bad if bad else reason_ok, "message": msg_bad if bad else msg_ok}

    left = ", ".join(f"{plural} has {n} resource instances" for plural, n in sorted(remaining.items()))
    fin = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
    return [
        cond("NamespaceDeletionDiscoveryFailure", False, "", "", "ResourcesDiscovered",
             "All resources successfully discovered"),
        cond("NamespaceDeletionGroupVersionParsingFailure", False, "", "", "ParsedGroupVersions",
             "All legacy kube types successfully parsed"),
        cond("NamespaceDeletionContentFailure", bool(failed), "ContentDeletionFailed",
             "Failed to delete all resource types, " + "; ".join(failed), "ContentDeleted",
             "All content successfully deleted, may be waiting on finalization"),
        cond("NamespaceContentRemaining", bool(remaining), "SomeResourcesRemain",
             f"Some resources are remaining: {left}", "ContentRemoved", "All content successfully removed"),
        cond("NamespaceFinalizersRemaining", bool(finalizers), "SomeFinalizersRemain",
             f"Some content in the namespace has finalizers remaining: {fin}", "ContentHasNoFinalizers",
             "All content-preserving finalizers finished"),
    ]


class NamespaceController(Controller):
    name = "namespace-controller"

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.namespaces = self.informer(NAMESPACES, self.own())

    async def reconcile(self, key: str) -> float | None:
        ns = self.namespaces.get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or []):
            return None
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        failed: list[str] = []
        for res in namespaced_resources():
            try:
                items = (await self.client.list(res, key))["items"]
            except errors.StatusError as exc:
                failed.append(f"{res.qualified}: {exc.message}")
                continue
            for obj in items:
                md = obj["metadata"]
                for f in md.get("finalizers") or []:
                    finalizers[f] = finalizers.get(f, 0) + 1
                if md.get("deletionTimestamp"):
                    continue
                try:
                    await self.client.delete(res, md["name"], key, propagation="Background")
                except errors.StatusError as exc:
                    if exc.code != 404:
                        failed.append(f"{res.qualified}/{md['name']}: {exc.message}")
            if items:
                # what remains after the deletes: graceful pods, finalizers
                left = len((await self.client.list(res, key))["items"])
                if left:
                    remaining[res.qualified] = left
        if remaining or failed:
            await self._set_conditions(ns, content_conditions(remaining, finalizers, failed))
            return _RECHECK
        kept = [f for f in ns["spec"].get("finalizers") or [] if f != FINALIZER]
        body = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": key, "resourceVersion": ns["metadata"]["resourceVersion"]},
                "spec": {"finalizers": kept}}
        try:
            await self.client.request("PUT", f"/api/v1/namespaces/{key}/finalize", body=body)
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
        log.info("namespace %s finalized", key)
        return None

    async def _set_conditions(self, ns: Obj, conditions: list[Obj]) -> None:
        old = {c["type"]: c for c in (ns.get("status") or {}).get("conditions") or []}
        for c in conditions:  # keep lastTransitionTime when a condition did not change
            before = old.get(c["type"])
            if before and before.get("status") == c["status"]:
                c["lastTransitionTime"] = before.get("lastTransitionTime", c["lastTransitionTime"])
        if [old.get(c["type"]) for c in conditions] == conditions:
            return
        try:
            await self.client.patch(NAMESPACES, ns["metadata"]["name"], {"status": {"conditions": conditions}},
                                    subresource="status")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
