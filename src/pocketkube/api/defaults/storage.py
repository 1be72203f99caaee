"""Defaults of the storage kinds: PersistentVolume, PersistentVolumeClaim (core/v1) and StorageClass.

As kube's SetDefaults_*: a PV is Retain + Filesystem and starts Pending, a claim is Filesystem and
starts Pending, a class reclaims with Delete and binds Immediate. The default StorageClass is not
filled in here (defaulting has no I/O): the PV binder assigns it to claims without a class, as
kube's retroactive default-class assignment does (`pocketkube.controllers.volumes`).
"""

from __future__ import annotations

from pocketkube.api.defaults.pod import default_resources
from pocketkube.api.obj import Obj


def _sub(parent: Obj, key: str) -> Obj:
    child = parent.get(key)
    if not isinstance(child, dict):
        child = parent[key] = {}
    return child


def default_persistent_volume(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")
    host_path = spec.get("hostPath")
    if isinstance(host_path, dict):
        host_path.setdefault("type", "")
    capacity = spec.get("capacity")
    if isinstance(capacity, dict):
        default_resources({"requests": capacity})
    status = _sub(obj, "status")
    status.setdefault("phase", "Pending")


def default_persistent_volume_claim(obj: Obj) -> None:
    spec = _sub(obj, "spec")
    spec.setdefault("volumeMode", "Filesystem")
    resources = spec.get("resources")
    if isinstance(resources, dict):
        default_resources(resources)
    status = _sub(obj, "status")
    status.setdefault("phase", "Pending")


def default_storage_class(obj: Obj) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")
