"""PersistentVolume binding and local-path provisioning against an in-process API server."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.controllers.volumes import LocalPathProvisioner, PersistentVolumeController
from tests.support.fake_kubelet import running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

CLAIMS = resources.require("", "v1", "persistentvolumeclaims")
VOLUMES = resources.require("", "v1", "persistentvolumes")
CLASSES = resources.require("storage.k8s.io", "v1", "storageclasses")


def claim(name: str, storage: str = "1Gi", **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}, **spec}}


def static_volume(name: str, storage: str, path: str, **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": storage}, "accessModes": ["ReadWriteOnce"],
                     "hostPath": {"path": path}, **spec}}


async def get(client: ApiClient, resource: Any, name: str, namespace: str | None = None) -> Obj | None:
    try:
        return await client.get(resource, name, namespace)
    except errors.StatusError as exc:
        assert exc.code == 404
        return None


def phase(obj: Obj | None) -> str:
    return str(((obj or {}).get("status") or {}).get("phase") or "")


async def test_claim_gets_default_class_a_provisioned_volume_and_deletion_reclaims(tmp_path: Path) -> None:
    root = str(tmp_path / "volumes")
    async with inprocess_api() as api:
        client = api.client
        async with running(PersistentVolumeController(client), LocalPathProvisioner(client, root)):
            async def class_exists() -> bool:
                return await get(client, CLASSES, "local-path") is not None

            await until(class_exists, within=8)
            sc = await client.get(CLASSES, "local-path")
            assert sc["provisioner"] == "pocketkube.io/local-path" and sc["reclaimPolicy"] == "Delete"
            assert sc["volumeBindingMode"] == "Immediate"
            assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"

            created = await client.create(CLAIMS, claim("data", "2Gi"))
            assert "storageClassName" not in created["spec"] and phase(created) == "Pending"

            async def bound() -> bool:
                return phase(await get(client, CLAIMS, "data", "default")) == "Bound"

            await until(bound, within=8)
            pvc = await client.get(CLAIMS, "data", "default")
            uid = pvc["metadata"]["uid"]
            assert pvc["spec"]["storageClassName"] == "local-path"
            assert pvc["spec"]["volumeName"] == f"pvc-{uid}"
            assert pvc["status"]["capacity"] == {"storage": "2Gi"}
            assert pvc["status"]["accessModes"] == ["ReadWriteOnce"]
            assert pvc["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
            pv = await client.get(VOLUMES, f"pvc-{uid}")
            assert phase(pv) == "Bound"
            assert pv["spec"]["hostPath"]["path"] == os.path.join(root, f"pvc-{uid}")
            assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
            assert pv["spec"]["claimRef"]["uid"] == uid and pv["spec"]["claimRef"]["name"] == "data"
            assert pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "pocketkube.io/local-path"

            # The agent would create the directory on first mount; pretend it did, with data in it.
            directory = Path(pv["spec"]["hostPath"]["path"])
            directory.mkdir(parents=True)
            (directory / "file").write_text("x")
            await client.delete(CLAIMS, "data", "default")

            async def reclaimed() -> bool:
                return await get(client, VOLUMES, f"pvc-{uid}") is None

            await until(reclaimed, within=8)
            assert not directory.exists()


async def test_static_volume_binds_the_smallest_fit_and_retain_keeps_it_released(tmp_path: Path) -> None:
    async with inprocess_api() as api:
        client = api.client
        for name, size in (("big", "10Gi"), ("small", "1Gi"), ("fits", "3Gi")):
            await client.create(VOLUMES, static_volume(name, size, str(tmp_path / name), storageClassName="manual"))
        pv = await client.get(VOLUMES, "fits")
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain" and pv["spec"]["volumeMode"] == "Filesystem"
        assert phase(pv) == "Pending"
        async with running(PersistentVolumeController(client)):
            async def available() -> bool:
                return all([phase(await get(client, VOLUMES, n)) == "Available" for n in ("big", "small", "fits")])

            await until(available, within=8)
            await client.create(CLAIMS, claim("want2", "2Gi", storageClassName="manual"))

            async def bound() -> bool:
                return phase(await get(client, CLAIMS, "want2", "default")) == "Bound"

            await until(bound, within=8)
            pvc = await client.get(CLAIMS, "want2", "default")
            assert pvc["spec"]["volumeName"] == "fits" and pvc["status"]["capacity"] == {"storage": "3Gi"}
            fits = await client.get(VOLUMES, "fits")
            assert phase(fits) == "Bound" and fits["spec"]["claimRef"]["name"] == "want2"
            assert fits["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"

            # No volume of that class can hold 50Gi and "manual" has no provisioner: the claim waits.
            await client.create(CLAIMS, claim("huge", "50Gi", storageClassName="manual"))
            await asyncio.sleep(0.3)
            assert phase(await client.get(CLAIMS, "huge", "default")) == "Pending"

            await client.delete(CLAIMS, "want2", "default")

            async def released() -> bool:
                return phase(await get(client, VOLUMES, "fits")) == "Released"

            await until(released, within=8)
            await asyncio.sleep(0.2)
            assert phase(await client.get(VOLUMES, "fits")) == "Released"  # Retain: never reused, never deleted
            # A new claim skips the Released volume and takes the only Available one that fits.
            await client.create(CLAIMS, claim("again", "2Gi", storageClassName="manual"))

            async def again_bound() -> bool:
                return phase(await get(client, CLAIMS, "again", "default")) == "Bound"

            await until(again_bound, within=8)
            assert (await client.get(CLAIMS, "again", "default"))["spec"]["volumeName"] == "big"
            assert phase(await client.get(VOLUMES, "fits")) == "Released"
