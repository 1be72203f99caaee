"""Which PersistentVolume a claim binds to — kube's PV controller's matching, as pure functions.

A volume fits a claim when it is not bound elsewhere, is not being deleted, has the claim's storage
class (`""` matching `""`), volume mode, every requested access mode, at least the requested
storage, and the labels the claim's selector asks for. A volume pre-bound to the claim (claimRef
naming it, the provisioner's way) is taken first; otherwise the smallest that fits, as kube does.
"""

from __future__ import annotations

from collections.abc import Iterable

from pocketkube.api.obj import Obj
from pocketkube.api.quantity import parse_quantity
from pocketkube.api.selectors import selector_from_object

DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                             "storageclass.beta.kubernetes.io/is-default-class")
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"


def claim_key(claim: Obj) -> str:
    md = claim.get("metadata") or {}
    return f"{md.get('namespace')}/{md.get('name')}"


def claim_class(claim: Obj) -> str:
    return str((claim.get("spec") or {}).get("storageClassName") or "")


def volume_class(pv: Obj) -> str:
    return str((pv.get("spec") or {}).get("storageClassName") or "")


def requested_storage(claim: Obj) -> int:
    value = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    return int(parse_quantity(value)) if value is not None else 0


def capacity(pv: Obj) -> int:
    value = ((pv.get("spec") or {}).get("capacity") or {}).get("storage")
    return int(parse_quantity(value)) if value is not None else 0


def is_default_class(sc: Obj) -> bool:
    annotations = (sc.get("metadata") or {}).get("annotations") or {}
    return any(annotations.get(a) == "true" for a in DEFAULT_CLASS_ANNOTATIONS)


def default_class(classes: Iterable[Obj]) -> Obj | None:
    """The default StorageClass; with several, the newest (then by name), as kube picks."""
    defaults = [sc for sc in classes if is_default_class(sc)]
    if not defaults:
        return None
    return max(defaults, key=lambda sc: (str(sc["metadata"].get("creationTimestamp") or ""),
                                         sc["metadata"]["name"]))


def is_prebound_to(pv: Obj, claim: Obj) -> bool:
    """The volume's claimRef names this claim (and, when it carries a UID, this very claim)."""
    ref = (pv.get("spec") or {}).get("claimRef") or {}
    md = claim.get("metadata") or {}
    if not ref or ref.get("name") != md.get("name") or ref.get("namespace") != md.get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == md.get("uid")


def fits(pv: Obj, claim: Obj) -> bool:
    spec, cspec = pv.get("spec") or {}, claim.get("spec") or {}
    if (pv.get("metadata") or {}).get("deletionTimestamp"):
        return False
    if spec.get("claimRef") and not is_prebound_to(pv, claim):
        return False
    if (pv.get("status") or {}).get("phase") in ("Released", "Failed"):
        return False
    if volume_class(pv) != claim_class(claim):
        return False
    if (spec.get("volumeMode") or "Filesystem") != (cspec.get("volumeMode") or "Filesystem"):
        return False
    if not set(cspec.get("accessModes") or ()) <= set(spec.get("accessModes") or ()):
        return False
    if capacity(pv) < requested_storage(claim):
        return False
    selector = cspec.get("selector")
    if selector and not selector_from_object(selector).matches((pv.get("metadata") or {}).get("labels") or {}):
        return False
    return True


def find_volume(claim: Obj, volumes: Iterable[Obj]) -> Obj | None:
    """The volume this claim should bind to, or None."""
    candidates = [pv for pv in volumes if fits(pv, claim)]
    prebound = [pv for pv in candidates if is_prebound_to(pv, claim)]
    if prebound:
        return prebound[0]
    if not candidates:
        return None
    return min(candidates, key=lambda pv: (capacity(pv), pv["metadata"]["name"]))
