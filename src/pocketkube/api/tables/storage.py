"""Printers for PersistentVolumes, PersistentVolumeClaims and StorageClasses, as kube's printers.go.

Access modes print as kube's GetAccessModesAsString (RWO, ROX, RWX, RWOP in that fixed order); a
claim shows capacity and access modes only once bound (from its status); an object being deleted
shows `Terminating`; the default class's name is followed by ` (default)`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pocketkube.api.tables.format import (
    Column,
    Printer,
    age,
    age_column,
    dig,
    doc,
    name_column,
    name_of,
    wide,
)

_CORE = "io.k8s.api.core.v1."
_STORAGE = "io.k8s.api.storage.v1."
_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP"))
DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                             "storageclass.beta.kubernetes.io/is-default-class")
UNSET = "<unset>"


def access_modes(modes: Any) -> str:
    present = set(modes or ())
    return ",".join(short for mode, short in _MODES if mode in present)


def is_default_class(sc: dict[str, Any]) -> bool:
    annotations = (sc.get("metadata") or {}).get("annotations") or {}
    return any(annotations.get(a) == "true" for a in DEFAULT_CLASS_ANNOTATIONS)


def _deleting(obj: dict[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def pv_cells(pv: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    phase = "Terminating" if _deleting(pv) else str(status.get("phase") or "")
    return [name_of(pv), str(dig(spec, "capacity", "storage") or ""), access_modes(spec.get("accessModes")),
            str(spec.get("persistentVolumeReclaimPolicy") or ""), phase, claim,
            str(spec.get("storageClassName") or ""), spec.get("volumeAttributesClassName") or UNSET,
            str(status.get("reason") or ""), age(pv, now), str(spec.get("volumeMode") or "")]


def pvc_cells(pvc: dict[str, Any], now: datetime) -> list[Any]:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = "Terminating" if _deleting(pvc) else str(status.get("phase") or "")
    capacity = modes = ""
    if spec.get("volumeName"):
        modes = access_modes(status.get("accessModes"))
        capacity = str(dig(status, "capacity", "storage") or "")
    return [name_of(pvc), phase, str(spec.get("volumeName") or ""), capacity, modes,
            str(spec.get("storageClassName") or ""), spec.get("volumeAttributesClassName") or UNSET,
            age(pvc, now), str(spec.get("volumeMode") or "")]


def storage_class_cells(sc: dict[str, Any], now: datetime) -> list[Any]:
    name = name_of(sc) + (" (default)" if is_default_class(sc) else "")
    return [name, str(sc.get("provisioner") or ""), str(sc.get("reclaimPolicy") or "Delete"),
            str(sc.get("volumeBindingMode") or "Immediate"), bool(sc.get("allowVolumeExpansion") or False),
            age(sc, now)]


def printers() -> dict[tuple[str, str], Printer]:
    name, age_col = name_column(), age_column()
    pv_spec, pvc_spec = _CORE + "PersistentVolumeSpec", _CORE + "PersistentVolumeClaimSpec"
    sc = _STORAGE + "StorageClass"
    return {
        ("", "persistentvolumes"): Printer((
            name, Column("Capacity", "string", doc(pv_spec, "capacity")),
            Column("Access Modes", "string", doc(pv_spec, "accessModes")),
            Column("Reclaim Policy", "string", doc(pv_spec, "persistentVolumeReclaimPolicy")),
            Column("Status", "string", doc(_CORE + "PersistentVolumeStatus", "phase")),
            Column("Claim", "string", doc(pv_spec, "claimRef")),
            Column("StorageClass", "string", "StorageClass of the pv"),
            Column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
            Column("Reason", "string", doc(_CORE + "PersistentVolumeStatus", "reason")), age_col,
            wide("VolumeMode", doc(pv_spec, "volumeMode")),
        ), pv_cells),
        ("", "persistentvolumeclaims"): Printer((
            name, Column("Status", "string", doc(_CORE + "PersistentVolumeClaimStatus", "phase")),
            Column("Volume", "string", doc(pvc_spec, "volumeName")),
            Column("Capacity", "string", doc(_CORE + "PersistentVolumeClaimStatus", "capacity")),
            Column("Access Modes", "string", doc(_CORE + "PersistentVolumeClaimStatus", "accessModes")),
            Column("StorageClass", "string", "StorageClass of the pvc"),
            Column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"), age_col,
            wide("VolumeMode", doc(pvc_spec, "volumeMode")),
        ), pvc_cells),
        ("storage.k8s.io", "storageclasses"): Printer((
            name, Column("Provisioner", "string", doc(sc, "provisioner")),
            Column("ReclaimPolicy", "string", doc(sc, "reclaimPolicy")),
            Column("VolumeBindingMode", "string", doc(sc, "volumeBindingMode")),
            Column("AllowVolumeExpansion", "string", doc(sc, "allowVolumeExpansion")), age_col,
        ), storage_class_cells),
    }
