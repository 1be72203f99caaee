"""The local-path provisioner: creates the default `local-path` StorageClass at start (when there is
none of that name), provisions a volume for each claim the PV controller hands it (annotated
`volume.kubernetes.io/storage-provisioner: pocketkube.io/local-path`), and deletes its Released
volumes whose reclaim policy is Delete, directory first. See `local_path` for the layout.
"""

from __future__ import annotations

import asyncio
import logging

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller
from pocketkube.controllers.volumes import local_path, matching

log = logging.getLogger(__name__)

CLAIMS = resources.require("", "v1", "persistentvolumeclaims")
VOLUMES = resources.require("", "v1", "persistentvolumes")
CLASSES = resources.require("storage.k8s.io", "v1", "storageclasses")


class LocalPathProvisioner(Controller):
    name = "local-path-provisioner"

    def __init__(self, client: ApiClient, volumes_root: str = local_path.DEFAULT_VOLUMES_ROOT,
                 create_default_class: bool = True, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.volumes_root = volumes_root
        self.create_default_class = create_default_class
        self.claims = self.informer(CLAIMS, self.own())
        self.volumes = self.informer(VOLUMES, self.own())
        self.classes = self.informer(CLASSES)

    async def run(self) -> None:
        if self.create_default_class:
            await self._ensure_default_class()
        await super().run()

    async def _ensure_default_class(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self.client.create(CLASSES, local_path.default_storage_class())
                return
            except errors.StatusError as exc:
                if exc.code == 409:
                    return
                log.warning("%s: creating StorageClass %s: %s", self.name, local_path.CLASS_NAME, exc.message)
            except OSError as exc:  # the API server may not be up yet
                log.debug("%s: %s; retrying", self.name, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def reconcile(self, key: str) -> float | None:
        if "/" in key:
            claim = self.claims.get(key)
            if claim is not None:
                await self._provision(claim)
        else:
            pv = self.volumes.get(key)
            if pv is not None:
                await self._reclaim(pv)
        return None

    async def _provision(self, claim: Obj) -> None:
        md, spec = claim["metadata"], claim.get("spec") or {}
        annotations = md.get("annotations") or {}
        if md.get("deletionTimestamp") or spec.get("volumeName"):
            return
        if annotations.get(matching.STORAGE_PROVISIONER) != local_path.PROVISIONER:
            return
        sc = self.classes.get(matching.claim_class(claim))
        if sc is None or sc.get("provisioner") != local_path.PROVISIONER:
            return
        if self.volumes.get(local_path.volume_name(claim)) is not None:
            return
        key = f"{md['namespace']}/{md['name']}"
        self.recorder.event(claim, "Normal", "Provisioning",
                            f"External provisioner is provisioning volume for claim \"{key}\"")
        pv = local_path.new_volume(claim, sc, self.volumes_root)
        try:
            await self.client.create(VOLUMES, pv)
        except errors.StatusError as exc:
            if exc.code == 409:
                return
            self.recorder.event(claim, "Warning", "ProvisioningFailed",
                                f"failed to provision volume with StorageClass \"{sc['metadata']['name']}\": "
                                f"{exc.message}")
            raise
        self.recorder.event(claim, "Normal", "ProvisioningSucceeded",
                            f"Successfully provisioned volume {pv['metadata']['name']}")

    async def _reclaim(self, pv: Obj) -> None:
        spec = pv.get("spec") or {}
        if pv["metadata"].get("deletionTimestamp") or not local_path.is_provisioned_here(pv):
            return
        if (pv.get("status") or {}).get("phase") != "Released" or \
                spec.get("persistentVolumeReclaimPolicy") != "Delete":
            return
        path = str((spec.get("hostPath") or {}).get("path") or "")
        if path:
            try:
                await asyncio.to_thread(local_path.remove_directory, self.volumes_root, path)
            except (OSError, ValueError) as exc:
                self.recorder.event(pv, "Warning", "VolumeFailedDelete", str(exc))
                return
        try:
            await self.client.delete(VOLUMES, pv["metadata"]["name"],
                                     preconditions={"uid": pv["metadata"]["uid"]})
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
