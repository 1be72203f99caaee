"""The resources pocketkube serves, described once.

Discovery, OpenAPI, routing and storage keys are all derived from this table, so adding a kind is one
entry here (plus its defaults, validation and table columns where Kubernetes has them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
STATUS_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""


@dataclass(frozen=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    subresources: tuple[Subresource, ...] = ()
    # Resources that are one stored object seen through two APIs (core and events.k8s.io events)
    # share a storage name.
    storage: str = ""
    extras: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def qualified(self) -> str:
        """`pods`, `deployments.apps`: how Kubernetes names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def storage_name(self) -> str:
        return self.storage or f"{self.group or 'core'}/{self.plural}"

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None

    def key(self, namespace: str | None, name: str) -> str:
        """The store key of one object."""
        if self.namespaced:
            return f"/registry/{self.storage_name}/{namespace}/{name}"
        return f"/registry/{self.storage_name}/{name}"

    def prefix(self, namespace: str | None = None) -> str:
        """The store prefix of a list: every namespace, or one."""
        if self.namespaced and namespace:
            return f"/registry/{self.storage_name}/{namespace}/"
        return f"/registry/{self.storage_name}/"


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, STATUS_VERBS)


def _scale() -> Subresource:
    return Subresource("scale", "Scale", STATUS_VERBS, "autoscaling", "v1")


_NS_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")

RESOURCES: tuple[ResourceInfo, ...] = (
    ResourceInfo("", "v1", "Namespace", "namespaces", "namespace", False, ("ns",), verbs=_NS_VERBS,
                 subresources=(_status("Namespace"), Subresource("finalize", "Namespace", ("update",)))),
    ResourceInfo("", "v1", "Pod", "pods", "pod", True, ("po",), ("all",), subresources=(
        _status("Pod"),
        Subresource("binding", "Binding", ("create",)),
        Subresource("eviction", "Eviction", ("create",), "policy", "v1"),
        Subresource("log", "Pod", ("get",)),
        Subresource("exec", "PodExecOptions", ("create", "get")),
        Subresource("attach", "PodAttachOptions", ("create", "get")),
        Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
        Subresource("ephemeralcontainers", "Pod", STATUS_VERBS),
    )),
    ResourceInfo("", "v1", "Node", "nodes", "node", False, ("no",), subresources=(_status("Node"),)),
    ResourceInfo("", "v1", "ConfigMap", "configmaps", "configmap", True, ("cm",)),
    ResourceInfo("", "v1", "Secret", "secrets", "secret", True),
    ResourceInfo("", "v1", "Service", "services", "service", True, ("svc",), ("all",),
                 subresources=(_status("Service"),)),
    ResourceInfo("", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",)),
    ResourceInfo("", "v1", "Event", "events", "event", True, ("ev",), storage="core/events"),
    ResourceInfo("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", True, ("sa",)),
    ResourceInfo("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", False, ("pv",),
                 subresources=(_status("PersistentVolume"),)),
    ResourceInfo("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", True,
                 ("pvc",), subresources=(_status("PersistentVolumeClaim"),)),
    ResourceInfo("apps", "v1", "Deployment", "deployments", "deployment", True, ("deploy",), ("all",),
                 subresources=(_status("Deployment"), _scale())),
    ResourceInfo("apps", "v1", "ReplicaSet", "replicasets", "replicaset", True, ("rs",), ("all",),
                 subresources=(_status("ReplicaSet"), _scale())),
    ResourceInfo("apps", "v1", "StatefulSet", "statefulsets", "statefulset", True, ("sts",), ("all",),
                 subresources=(_status("StatefulSet"), _scale())),
    ResourceInfo("apps", "v1", "DaemonSet", "daemonsets", "daemonset", True, ("ds",), ("all",),
                 subresources=(_status("DaemonSet"),)),
    ResourceInfo("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", True),
    ResourceInfo("batch", "v1", "Job", "jobs", "job", True, (), ("all",), subresources=(_status("Job"),)),
    ResourceInfo("batch", "v1", "CronJob", "cronjobs", "cronjob", True, ("cj",), ("all",),
                 subresources=(_status("CronJob"),)),
    ResourceInfo("coordination.k8s.io", "v1", "Lease", "leases", "lease", True),
    ResourceInfo("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", False, ("sc",)),
    ResourceInfo("events.k8s.io", "v1", "Event", "events", "event", True, ("ev",), storage="core/events"),
)

# Preferred order of groups in discovery, as kube-apiserver lists them.
GROUP_ORDER = ("", "apps", "events.k8s.io", "batch", "storage.k8s.io", "coordination.k8s.io")


def group_versions() -> dict[str, list[str]]:
    """Group name → its versions, in discovery order (core group under "")."""
    out: dict[str, list[str]] = {}
    for res in RESOURCES:
        versions = out.setdefault(res.group, [])
        if res.version not in versions:
            versions.append(res.version)
    return {g: out[g] for g in sorted(out, key=lambda g: GROUP_ORDER.index(g) if g in GROUP_ORDER else 99)}


def resources_in(group: str, version: str) -> list[ResourceInfo]:
    return [r for r in RESOURCES if r.group == group and r.version == version]


_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND = {(r.group, r.version, r.kind): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> ResourceInfo | None:
    return _BY_PATH.get((group, version, plural))


def lookup_kind(group: str, version: str, kind: str) -> ResourceInfo | None:
    return _BY_KIND.get((group, version, kind))


def require(group: str, version: str, plural: str) -> ResourceInfo:
    """A served resource, for code that names it literally (a missing one is a programming error)."""
    found = _BY_PATH.get((group, version, plural))
    if found is None:
        raise KeyError(f"{plural}.{group}/{version} is not served")
    return found
