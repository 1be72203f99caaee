"""The local-path provisioner's objects and disk work, as rancher's local-path-provisioner.

Each claim of the `local-path` class gets a PersistentVolume `pvc-<claim uid>`: a `hostPath`
directory `<volumes root>/pvc-<claim uid>` (type DirectoryOrCreate), pre-bound to the claim
(claimRef with its UID), with the class's reclaim policy. The node agent creates the directory
(0777) when a pod first mounts the claim; the provisioner removes it when it deletes the volume,
which works because pocketkube's controllers run on the node (a multi-host cluster would need a
helper pod on the volume's node, as rancher's does).
"""

from __future__ import annotations

import os
import shutil

from pocketkube.api.obj import Obj
from pocketkube.controllers.volumes.matching import PROVISIONED_BY

PROVISIONER = "pocketkube.io/local-path"
CLASS_NAME = "local-path"
DEFAULT_VOLUMES_ROOT = "/var/lib/pocketkube/volumes"


def default_storage_class() -> Obj:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": CLASS_NAME,
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": PROVISIONER, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}


def volume_name(claim: Obj) -> str:
    return f"pvc-{claim['metadata']['uid']}"


def new_volume(claim: Obj, storage_class: Obj, root: str) -> Obj:
    md, spec = claim["metadata"], claim.get("spec") or {}
    name = volume_name(claim)
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER}},
        "spec": {
            "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "0")},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
            "storageClassName": storage_class["metadata"]["name"],
            "hostPath": {"path": os.path.join(root, name), "type": "DirectoryOrCreate"},
            "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": md["namespace"],
                         "name": md["name"], "uid": md["uid"], "resourceVersion": md.get("resourceVersion", "")},
        },
    }


def is_provisioned_here(pv: Obj) -> bool:
    return ((pv.get("metadata") or {}).get("annotations") or {}).get(PROVISIONED_BY) == PROVISIONER


def remove_directory(root: str, path: str) -> None:
    """Delete a volume's directory, refusing anything that is not directly under `root`."""
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    if os.path.dirname(real) != real_root:
        raise ValueError(f"refusing to delete {path}: not a volume directory under {root}")
    shutil.rmtree(real, ignore_errors=True)
