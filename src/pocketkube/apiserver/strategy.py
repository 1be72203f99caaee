"""Per-kind behaviour on create, update and delete (kube-apiserver's "rest strategies").

The generic registry does the same thing for every kind; a Strategy says where a kind differs:
which part is status (kept on spec writes, the only thing status writes change), whether spec
changes bump metadata.generation, whether deletion is graceful (pods), and what create resets.
"""

from __future__ import annotations

import copy

from pocketkube.api import podutil
from pocketkube.api.defaults import job_prepare_for_create
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo

# Status subresource writes may not touch these metadata fields (ResetObjectMetaForStatus).
_STATUS_KEEPS_META = ("labels", "annotations", "finalizers", "ownerReferences", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation")


class Strategy:
    tracks_generation = False
    allow_create_on_update = False
    graceful_delete = False
    status_on_create: Obj | None = None  # None: keep what the client sent

    def __init__(self, resource: ResourceInfo):
        self.resource = resource
        self.has_status = resource.subresource("status") is not None

    def prepare_for_create(self, obj: Obj) -> None:
        if self.has_status and self.status_on_create is not None:
            obj["status"] = copy.deepcopy(self.status_on_create)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """A write to the main resource: status is kept as it was."""
        if self.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        """A write to /status: everything but status (and a few metadata fields) is kept."""
        status = new.get("status")
        meta = new.get("metadata") or {}
        for key in list(new):
            if key not in ("metadata", "status", "apiVersion", "kind"):
                del new[key]
        for key, value in old.items():
            if key not in ("metadata", "status"):
                new[key] = copy.deepcopy(value)
        old_meta = old.get("metadata") or {}
        for field in _STATUS_KEEPS_META:
            if field in old_meta:
                meta[field] = copy.deepcopy(old_meta[field])
            else:
                meta.pop(field, None)
        new["metadata"] = meta
        if status is None:
            new.pop("status", None)

    def spec_changed(self, new: Obj, old: Obj) -> bool:
        return bool(new.get("spec") != old.get("spec"))

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        """Seconds a deletion waits for the object's owner to finish it (0: delete now)."""
        return 0

    def on_deletion_marked(self, obj: Obj) -> None:
        """Called when deletionTimestamp is first set (the object stays until finalized)."""


class PodStrategy(Strategy):
    tracks_generation = True
    graceful_delete = True

    def prepare_for_create(self, obj: Obj) -> None:
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}

    def spec_changed(self, new: Obj, old: Obj) -> bool:
        return bool(new.get("spec") != old.get("spec"))

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec = obj.get("spec") or {}
        if not spec.get("nodeName") or podutil.is_pod_terminal(obj):
            return 0
        if requested is not None:
            return max(0, requested)
        value = spec.get("terminationGracePeriodSeconds")
        return int(value) if value is not None else 30


class WorkloadStrategy(Strategy):
    """Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs: status starts empty."""

    tracks_generation = True
    status_on_create: Obj | None = {}


class JobStrategy(WorkloadStrategy):
    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        job_prepare_for_create(obj, obj["metadata"]["uid"])


class NamespaceStrategy(Strategy):
    status_on_create: Obj | None = {"phase": "Active"}

    def on_deletion_marked(self, obj: Obj) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"


class ServiceStrategy(Strategy):
    status_on_create: Obj | None = {"loadBalancer": {}}


class CreateOnUpdateStrategy(Strategy):
    allow_create_on_update = True


_STRATEGIES: dict[str, type[Strategy]] = {
    "core/pods": PodStrategy,
    "core/namespaces": NamespaceStrategy,
    "core/services": ServiceStrategy,
    "core/endpoints": CreateOnUpdateStrategy,
    "core/events": CreateOnUpdateStrategy,
    "coordination.k8s.io/leases": CreateOnUpdateStrategy,
    "apps/deployments": WorkloadStrategy,
    "apps/replicasets": WorkloadStrategy,
    "apps/statefulsets": WorkloadStrategy,
    "apps/daemonsets": WorkloadStrategy,
    "batch/jobs": JobStrategy,
    "batch/cronjobs": WorkloadStrategy,
}


def strategy_for(resource: ResourceInfo) -> Strategy:
    return _STRATEGIES.get(resource.storage_name, Strategy)(resource)


def qos_class(spec: Obj) -> str:
    """Guaranteed, Burstable or BestEffort, from the containers' requests and limits."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for container in containers:
        res = container.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        if requests or limits:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in limits or str(requests.get(name, limits[name])) != str(limits[name]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
