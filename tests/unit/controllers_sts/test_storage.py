"""Storage kinds at the API (defaults, validation, tables), claim matching, and claim → host path."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from pocketkube.agent.volumes.pvc import ClaimError, resolve
from pocketkube.api.defaults import apply_defaults
from pocketkube.api.obj import Obj
from pocketkube.api.resources import require
from pocketkube.api.tables import column_definitions, row_cells
from pocketkube.api.validation import validate_create, validate_update
from pocketkube.controllers.volumes import local_path, matching

PV = require("", "v1", "persistentvolumes")
PVC = require("", "v1", "persistentvolumeclaims")
SC = require("storage.k8s.io", "v1", "storageclasses")
NOW = datetime(2026, 1, 2, tzinfo=UTC)


def pvc(**spec: Any) -> Obj:
    base: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    base.update(spec)
    return {"metadata": {"name": "data", "namespace": "ns", "uid": "c1", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {k: v for k, v in base.items() if v is not None}}


def pv(name: str = "v", storage: str = "1Gi", **spec: Any) -> Obj:
    base: Obj = {"capacity": {"storage": storage}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/d"}}
    base.update(spec)
    return {"metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {k: v for k, v in base.items() if v is not None}}


def test_defaults() -> None:
    claim = pvc()
    apply_defaults(PVC, claim)
    assert claim["spec"]["volumeMode"] == "Filesystem" and claim["status"] == {"phase": "Pending"}
    assert "storageClassName" not in claim["spec"]
    volume = pv(storage="1024Mi")
    apply_defaults(PV, volume)
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert volume["spec"]["volumeMode"] == "Filesystem" and volume["status"] == {"phase": "Pending"}
    assert volume["spec"]["capacity"] == {"storage": "1Gi"} and volume["spec"]["hostPath"]["type"] == ""
    sc: Obj = {"metadata": {"name": "fast"}, "provisioner": "x.io/y"}
    apply_defaults(SC, sc)
    assert sc["reclaimPolicy"] == "Delete" and sc["volumeBindingMode"] == "Immediate"


def messages(errors: list[Any]) -> list[str]:
    return [str(e) for e in errors]


@pytest.mark.parametrize(("resource", "obj", "expected"), [
    (PVC, pvc(), []),
    (PVC, pvc(accessModes=None), ["spec.accessModes: Required value: at least 1 access mode is required"]),
    (PVC, pvc(resources={}), ["spec.resources[storage]: Required value"]),
    (PVC, pvc(resources={"requests": {"storage": "0"}}),
     ['spec.resources[storage]: Invalid value: "0": must be greater than zero']),
    (PVC, pvc(accessModes=["ReadWriteSometimes"]),
     ['spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", '
      '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"']),
    (PVC, pvc(volumeMode="Tape"), ['spec.volumeMode: Unsupported value: "Tape": supported values: "Block", '
                                   '"Filesystem"']),
    (PV, pv(), []),
    (PV, pv(accessModes=None), ["spec.accessModes: Required value: must specify at least 1 access mode"]),
    (PV, pv(capacity=None), ["spec.capacity: Required value"]),
    (PV, pv(hostPath=None), ["spec: Required value: must specify a volume type"]),
    (PV, pv(nfs={"server": "s", "path": "/"}), ["spec.nfs: Forbidden: may not specify more than 1 volume type"]),
    (PV, pv(persistentVolumeReclaimPolicy="Shred"),
     ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Shred": supported values: "Delete", '
      '"Recycle", "Retain"']),
    (SC, {"metadata": {"name": "s"}}, ["provisioner: Required value"]),
    (SC, {"metadata": {"name": "s"}, "provisioner": "a.io/b", "volumeBindingMode": "Later"},
     ['volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"']),
])
def test_validation(resource: Any, obj: Obj, expected: list[str]) -> None:
    obj = copy.deepcopy(obj)
    apply_defaults(resource, obj)
    assert messages(validate_create(resource, obj)) == expected


def test_claim_updates_allow_binding_and_a_first_class_only() -> None:
    old = pvc()
    apply_defaults(PVC, old)
    new = copy.deepcopy(old)
    new["spec"].update(volumeName="pv-1", storageClassName="local-path")
    new["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert validate_update(PVC, new, old) == []
    changed = copy.deepcopy(new)
    changed["spec"]["storageClassName"] = "other"
    assert messages(validate_update(PVC, changed, new)) == [
        "spec: Forbidden: spec is immutable after creation except resources.requests and "
        "volumeAttributesClassName for bound claims"]
    old_sc: Obj = {"metadata": {"name": "s", "resourceVersion": "1"}, "provisioner": "a.io/b"}
    apply_defaults(SC, old_sc)
    new_sc = {**copy.deepcopy(old_sc), "provisioner": "c.io/d"}
    assert messages(validate_update(SC, new_sc, old_sc)) == [
        "provisioner: Forbidden: updates to provisioner are forbidden."]


def cells(resource: Any, obj: Obj) -> dict[str, Any]:
    return {c["name"]: v for c, v in zip(column_definitions(resource), row_cells(resource, obj, NOW), strict=True)}


def test_tables() -> None:
    volume = pv(accessModes=["ReadWriteMany", "ReadWriteOnce"], persistentVolumeReclaimPolicy="Delete",
                storageClassName="local-path", volumeMode="Filesystem",
                claimRef={"namespace": "ns", "name": "data"})
    volume["status"] = {"phase": "Bound"}
    assert cells(PV, volume) == {"Name": "v", "Capacity": "1Gi", "Access Modes": "RWO,RWX",
                                 "Reclaim Policy": "Delete", "Status": "Bound", "Claim": "ns/data",
                                 "StorageClass": "local-path", "VolumeAttributesClass": "<unset>", "Reason": "",
                                 "Age": "24h", "VolumeMode": "Filesystem"}
    claim = pvc(storageClassName="local-path")
    claim["status"] = {"phase": "Pending"}
    assert list(cells(PVC, claim).values()) == ["data", "Pending", "", "", "", "local-path", "<unset>", "24h", ""]
    claim["spec"]["volumeName"] = "v"
    claim["status"] = {"phase": "Bound", "capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"]}
    claim["metadata"]["deletionTimestamp"] = "2026-01-02T00:00:00Z"
    row = cells(PVC, claim)
    assert (row["Status"], row["Volume"], row["Capacity"], row["Access Modes"]) == ("Terminating", "v", "2Gi", "RWO")
    sc = {**local_path.default_storage_class(), "metadata": {
        **local_path.default_storage_class()["metadata"], "creationTimestamp": "2026-01-01T00:00:00Z"}}
    assert list(cells(SC, sc).items()) == [
        ("Name", "local-path (default)"), ("Provisioner", "pocketkube.io/local-path"), ("ReclaimPolicy", "Delete"),
        ("VolumeBindingMode", "Immediate"), ("AllowVolumeExpansion", False), ("Age", "24h")]


@pytest.mark.parametrize(("volume", "fits"), [
    (pv(storage="1Gi"), True),
    (pv(storage="512Mi"), False),
    (pv(storageClassName="fast"), False),
    (pv(accessModes=["ReadOnlyMany"]), False),
    (pv(volumeMode="Block"), False),
    (pv(claimRef={"namespace": "ns", "name": "other"}), False),
    (pv(claimRef={"namespace": "ns", "name": "data"}), True),
    (pv(claimRef={"namespace": "ns", "name": "data", "uid": "old"}), False),
])
def test_fits(volume: Obj, fits: bool) -> None:
    assert matching.fits(volume, pvc()) is fits


def test_find_volume_prefers_prebound_then_smallest() -> None:
    volumes = [pv("big", "10Gi"), pv("small", "2Gi"), pv("tiny", "100Mi")]
    assert matching.find_volume(pvc(), volumes)["metadata"]["name"] == "small"  # type: ignore[index]
    pre = pv("pre", "10Gi", claimRef={"namespace": "ns", "name": "data", "uid": "c1"})
    assert matching.find_volume(pvc(), [*volumes, pre])["metadata"]["name"] == "pre"  # type: ignore[index]
    selective = pvc(selector={"matchLabels": {"disk": "ssd"}})
    assert matching.find_volume(selective, volumes) is None
    released = pv("r", "2Gi")
    released["status"] = {"phase": "Released"}
    assert matching.find_volume(pvc(), [released]) is None


def test_default_class_is_the_newest_default() -> None:
    def sc(name: str, created: str, default: bool) -> Obj:
        annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
        return {"metadata": {"name": name, "creationTimestamp": created, "annotations": annotations}}

    classes = [sc("a", "2026-01-01T00:00:00Z", True), sc("b", "2026-01-03T00:00:00Z", True),
               sc("c", "2026-01-04T00:00:00Z", False)]
    assert matching.default_class(classes)["metadata"]["name"] == "b"  # type: ignore[index]
    assert matching.default_class(classes[2:]) is None


def test_provisioned_volume() -> None:
    claim = pvc(storageClassName="local-path")
    claim["metadata"]["resourceVersion"] = "7"
    volume = local_path.new_volume(claim, local_path.default_storage_class(), "/var/lib/pocketkube/volumes")
    assert volume["metadata"]["name"] == "pvc-c1"
    assert volume["spec"]["hostPath"] == {"path": "/var/lib/pocketkube/volumes/pvc-c1", "type": "DirectoryOrCreate"}
    assert volume["spec"]["claimRef"]["uid"] == "c1" and volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert matching.find_volume(claim, [volume]) is volume
    apply_defaults(PV, volume)
    assert validate_create(PV, volume) == []


def test_remove_directory_stays_under_the_root(tmp_path: Any) -> None:
    (tmp_path / "pvc-1").mkdir()
    local_path.remove_directory(str(tmp_path), str(tmp_path / "pvc-1"))
    assert not (tmp_path / "pvc-1").exists()
    with pytest.raises(ValueError):
        local_path.remove_directory(str(tmp_path), str(tmp_path / "a" / "b"))
    with pytest.raises(ValueError):
        local_path.remove_directory(str(tmp_path), str(tmp_path / ".."))


def bound(claim: Obj) -> Obj:
    claim = copy.deepcopy(claim)
    claim["spec"]["volumeName"] = "v"
    claim["status"] = {"phase": "Bound"}
    return claim


@pytest.mark.parametrize(("claim", "volume", "result"), [
    (bound(pvc()), pv(claimRef={"namespace": "ns", "name": "data", "uid": "c1"}), "/d"),
    (bound(pvc()), pv(hostPath=None, local={"path": "/l"}, claimRef={"namespace": "ns", "name": "data"}), "/l"),
    (None, None, 'error processing PVC ns/data: persistentvolumeclaim "data" not found'),
    (pvc(), None, 'PVC ns/data has non-bound phase ("") or empty pvc.Spec.VolumeName ("")'),
    (bound(pvc()), None, 'error processing PVC ns/data: persistentvolume "v" not found'),
    (bound(pvc()), pv(claimRef={"namespace": "ns", "name": "data", "uid": "zz"}),
     'error processing PVC ns/data: volume "v" is bound to a different claim'),
    (bound(pvc()), pv(hostPath=None, nfs={"path": "/"}, claimRef={"namespace": "ns", "name": "data"}),
     'error processing PVC ns/data: volume "v" is not a hostPath or local volume'),
])
def test_resolve_claim(claim: Obj | None, volume: Obj | None, result: str) -> None:
    if result.startswith("/"):
        assert resolve("ns", "data", claim, volume) == result
    else:
        with pytest.raises(ClaimError) as err:
            resolve("ns", "data", claim, volume)
        assert str(err.value) == result
