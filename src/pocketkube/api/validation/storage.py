"""Validation of PersistentVolumes, PersistentVolumeClaims and StorageClasses (kube's
ValidatePersistentVolume*, ValidateStorageClass*), limited to what users run into: access modes,
the storage request or capacity, exactly one volume source, reclaim policy, volume mode, and what a
claim or a class may not change after creation.

A claim's spec is immutable except `resources.requests`, plus the two writes the PV controller
makes: `volumeName` from empty to a volume (binding) and `storageClassName` from unset to a class
(retroactive default class).
"""

from __future__ import annotations

from typing import Any

from pocketkube.api.errors import forbidden, invalid_value, not_supported, required
from pocketkube.api.quantity import QUANTITY_ERROR, is_quantity, parse_quantity
from pocketkube.api.validation import names
from pocketkube.api.validation.common import (
    Errors,
    as_dict,
    as_list,
    child,
    enum,
    format_errors,
    immutable,
    index,
    key,
)

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
VOLUME_MODES = ["Block", "Filesystem"]
PV_RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"]
SC_RECLAIM_POLICIES = ["Delete", "Retain"]
BINDING_MODES = ["Immediate", "WaitForFirstConsumer"]
# The volume sources pocketkube's agent can use, plus the common ones kube accepts on a PV.
PV_SOURCES = ("hostPath", "local", "nfs", "csi", "iscsi", "fc", "rbd", "cephfs", "glusterfs", "azureFile",
              "azureDisk", "gcePersistentDisk", "awsElasticBlockStore", "cinder", "flexVolume",
              "vsphereVolume", "portworxVolume", "scaleIO", "storageos", "photonPersistentDisk", "quobyte",
              "flocker")
CLAIM_UPDATE_MESSAGE = ("spec is immutable after creation except resources.requests and "
                        "volumeAttributesClassName for bound claims")


def _access_modes(modes: Any, path: str, required_detail: str) -> Errors:
    values = as_list(modes)
    if not values:
        return [required(path, required_detail)]
    errs: Errors = []
    for mode in values:
        if mode not in ACCESS_MODES:
            errs.append(not_supported(path, mode, ACCESS_MODES))
    if "ReadWriteOncePod" in values and len(values) > 1:
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def _storage_quantity(value: Any, path: str) -> Errors:
    if not is_quantity(value):
        return [invalid_value(path, value, QUANTITY_ERROR)]
    if parse_quantity(value) <= 0:
        return [invalid_value(path, value, "must be greater than zero")]
    return []


def _storage_class_name(value: Any, path: str) -> Errors:
    if value in (None, ""):
        return []
    return format_errors(path, value, names.dns1123_subdomain(str(value)))


def validate_persistent_volume(obj: dict[str, Any]) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = _access_modes(spec.get("accessModes"), "spec.accessModes", "must specify at least 1 access mode")
    capacity = as_dict(spec.get("capacity"))
    if not capacity:
        errs.append(required("spec.capacity", ""))
    elif "storage" not in capacity or len(capacity) > 1:
        errs.append(not_supported("spec.capacity", capacity, ["storage"]))
    else:
        errs += _storage_quantity(capacity["storage"], key("spec.capacity", "storage"))
    errs += enum(spec.get("persistentVolumeReclaimPolicy"), "spec.persistentVolumeReclaimPolicy",
                 PV_RECLAIM_POLICIES)
    errs += enum(spec.get("volumeMode"), "spec.volumeMode", VOLUME_MODES, require=False)
    errs += _storage_class_name(spec.get("storageClassName"), "spec.storageClassName")
    sources = [s for s in PV_SOURCES if spec.get(s) is not None]
    if not sources:
        errs.append(required("spec", "must specify a volume type"))
    for extra in sources[1:]:
        errs.append(forbidden(child("spec", extra), "may not specify more than 1 volume type"))
    for source in ("hostPath", "local"):
        if source in sources:
            path = as_dict(spec[source]).get("path")
            if not path:
                errs.append(required(f"spec.{source}.path", ""))
            elif source == "local" and not str(path).startswith("/"):
                errs.append(invalid_value("spec.local.path", path, "must be an absolute path"))
    if "local" in sources and not as_dict(spec.get("nodeAffinity")):
        errs.append(required("spec.nodeAffinity", "Local volume requires node affinity"))
    return errs


def validate_persistent_volume_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs: Errors = []
    if old_spec.get("volumeMode") is not None:
        errs += immutable(new_spec.get("volumeMode"), old_spec.get("volumeMode"), "spec.volumeMode")
    if {s: new_spec.get(s) for s in PV_SOURCES} != {s: old_spec.get(s) for s in PV_SOURCES}:
        errs.append(forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is forbidden."))
    return errs


def validate_persistent_volume_claim(obj: dict[str, Any]) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = _access_modes(spec.get("accessModes"), "spec.accessModes", "at least 1 access mode is required")
    requests = as_dict(as_dict(spec.get("resources")).get("requests"))
    path = key("spec.resources", "storage")
    if "storage" not in requests:
        errs.append(required(path, ""))
    else:
        errs += _storage_quantity(requests["storage"], path)
    errs += enum(spec.get("volumeMode"), "spec.volumeMode", VOLUME_MODES, require=False)
    errs += _storage_class_name(spec.get("storageClassName"), "spec.storageClassName")
    return errs


def validate_persistent_volume_claim_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    new_spec, old_spec = dict(as_dict(new.get("spec"))), dict(as_dict(old.get("spec")))
    # What may change: requests (expansion), binding, and a class given to a claim that had none.
    for spec in (new_spec, old_spec):
        spec["resources"] = {k: v for k, v in as_dict(spec.get("resources")).items() if k != "requests"}
        spec.pop("volumeAttributesClassName", None)
    if not old_spec.get("volumeName"):
        old_spec["volumeName"] = new_spec.get("volumeName")
    if old_spec.get("storageClassName") is None:
        old_spec["storageClassName"] = new_spec.get("storageClassName")
    if {k: v for k, v in new_spec.items() if v is not None} != {k: v for k, v in old_spec.items() if v is not None}:
        return [forbidden("spec", CLAIM_UPDATE_MESSAGE)]
    return []


def validate_storage_class(obj: dict[str, Any]) -> Errors:
    errs: Errors = []
    provisioner = obj.get("provisioner")
    if not provisioner:
        errs.append(required("provisioner", ""))
    else:
        errs += format_errors("provisioner", provisioner, names.qualified_name(str(provisioner).lower()))
    errs += enum(obj.get("reclaimPolicy"), "reclaimPolicy", SC_RECLAIM_POLICIES, require=False)
    errs += enum(obj.get("volumeBindingMode"), "volumeBindingMode", BINDING_MODES)
    for i, mode in enumerate(as_list(obj.get("mountOptions"))):
        if not isinstance(mode, str):
            errs.append(invalid_value(index("mountOptions", i), mode, "must be a string"))
    return errs


def validate_storage_class_update(new: dict[str, Any], old: dict[str, Any]) -> Errors:
    errs: Errors = []
    if new.get("parameters") != old.get("parameters"):
        errs.append(forbidden("parameters", "updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        errs.append(forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        errs.append(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    errs += immutable(new.get("volumeBindingMode"), old.get("volumeBindingMode"), "volumeBindingMode")
    return errs
