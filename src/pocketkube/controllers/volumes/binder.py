"""The PersistentVolume controller (kube's pv-binder): binds claims to volumes and releases them.

Keys are claims (`ns/name`) and volumes (`name`). A claim without a class gets the default
StorageClass (kube's retroactive default-class assignment; done here rather than in admission
because defaulting has no I/O). A pending claim binds to the volume `matching.find_volume` picks;
when none fits and its class has a provisioner, the claim is annotated
`volume.kubernetes.io/storage-provisioner` for that provisioner, which creates a volume pre-bound
to it. Binding writes, in kube's order: volume claimRef, volume status Bound, claim volumeName,
claim status Bound (with the volume's capacity and access modes) — each a write with the cached
resourceVersion, so two claims never take one volume. A volume whose claim is gone is Released;
volumes of the local-path provisioner are then deleted by it, a Delete policy without a deleter
marks the volume Failed, Retain keeps it.
"""

from __future__ import annotations

import copy
import logging

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.client.informer import Handlers
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.controllers.base import Controller
from pocketkube.controllers.volumes import matching

log = logging.getLogger(__name__)

CLAIMS = resources.require("", "v1", "persistentvolumeclaims")
VOLUMES = resources.require("", "v1", "persistentvolumes")
CLASSES = resources.require("storage.k8s.io", "v1", "storageclasses")


def _annotations(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


class PersistentVolumeController(Controller):
    name = "persistentvolume-binder-controller"

    def __init__(self, client: ApiClient, clock: Clock = REAL_CLOCK):
        super().__init__(client, clock)
        self.claims = self.informer(CLAIMS, Handlers(on_add=self.enqueue, on_update=lambda _o, n: self.enqueue(n),
                                                     on_delete=self._claim_deleted))
        self.volumes = self.informer(VOLUMES, Handlers(on_add=self._volume_event,
                                                       on_update=lambda _o, n: self._volume_event(n),
                                                       on_delete=self._volume_event))
        self.classes = self.informer(CLASSES, Handlers(on_add=self._class_event,
                                                       on_update=lambda _o, n: self._class_event(n)))

    def _claim_deleted(self, claim: Obj) -> None:
        """Its volume (bound, or pre-bound by the provisioner) is now Released."""
        key = matching.claim_key(claim)
        self.queue.add(key)
        for pv in self.volumes.list():
            ref = (pv.get("spec") or {}).get("claimRef") or {}
            if f"{ref.get('namespace')}/{ref.get('name')}" == key:
                self.enqueue(pv)

    def _volume_event(self, pv: Obj) -> None:
        self.enqueue(pv)
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if ref.get("name") and ref.get("namespace"):
            self.queue.add(f"{ref['namespace']}/{ref['name']}")

    def _class_event(self, _sc: Obj) -> None:
        for claim in self.claims.list():
            if not (claim.get("spec") or {}).get("volumeName"):
                self.enqueue(claim)

    async def reconcile(self, key: str) -> float | None:
        if "/" in key:
            claim = self.claims.get(key)
            if claim is not None and not claim["metadata"].get("deletionTimestamp"):
                await self._sync_claim(claim)
        else:
            pv = self.volumes.get(key)
            if pv is not None and not pv["metadata"].get("deletionTimestamp"):
                await self._sync_volume(pv)
        return None

    # -- claims ---------------------------------------------------------------------------------------

    async def _sync_claim(self, claim: Obj) -> None:
        md, spec = claim["metadata"], claim.get("spec") or {}
        if spec.get("storageClassName") is None:
            default = matching.default_class(self.classes.list())
            if default is not None:
                await self.client.patch(CLAIMS, md["name"], {"metadata": {"resourceVersion": md["resourceVersion"]},
                                        "spec": {"storageClassName": default["metadata"]["name"]}},
                                        md["namespace"])
                return
        volume_name = spec.get("volumeName")
        if not volume_name:
            pv = matching.find_volume(claim, self.volumes.list())
            if pv is not None:
                await self._bind(pv, claim)
            else:
                await self._no_volume(claim)
            return
        pv = self.volumes.get(volume_name)
        if pv is None:
            if (claim.get("status") or {}).get("phase") == "Bound":
                await self._claim_status(claim, {"phase": "Lost"})
                self.recorder.event(claim, "Warning", "ClaimLost",
                                    "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            return
        if not (pv.get("spec") or {}).get("claimRef") or matching.is_prebound_to(pv, claim):
            await self._bind(pv, claim)
        else:
            self.recorder.event(claim, "Warning", "FailedBinding",
                                f"volume \"{volume_name}\" already bound to a different claim.")

    async def _no_volume(self, claim: Obj) -> None:
        class_name = matching.claim_class(claim)
        if not class_name:
            self.recorder.event(claim, "Normal", "FailedBinding",
                                "no persistent volumes available for this claim and no storage class is set")
            return
        sc = self.classes.get(class_name)
        if sc is None:
            self.recorder.event(claim, "Warning", "ProvisioningFailed",
                                f"storageclass.storage.k8s.io \"{class_name}\" not found")
            return
        provisioner = str(sc.get("provisioner") or "")
        if provisioner and _annotations(claim).get(matching.STORAGE_PROVISIONER) != provisioner:
            md = claim["metadata"]
            patch = {"metadata": {"resourceVersion": md["resourceVersion"], "annotations": {
                matching.STORAGE_PROVISIONER: provisioner, matching.BETA_STORAGE_PROVISIONER: provisioner}}}
            await self.client.patch(CLAIMS, md["name"], patch, md["namespace"])
            self.recorder.event(claim, "Normal", "ExternalProvisioning",
                                f"Waiting for a volume to be created either by the external provisioner "
                                f"'{provisioner}' or manually by the system administrator. If volume creation is "
                                f"delayed, please verify that the provisioner is running and correctly registered.")

    async def _bind(self, pv: Obj, claim: Obj) -> None:
        cmd, pmd = claim["metadata"], pv["metadata"]
        pv_spec = pv.get("spec") or {}
        ref = pv_spec.get("claimRef") or {}
        if ref.get("uid") != cmd["uid"]:
            new_pv = copy.deepcopy(pv)
            new_pv["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "apiVersion": "v1",
                                          "namespace": cmd["namespace"], "name": cmd["name"], "uid": cmd["uid"],
                                          "resourceVersion": cmd.get("resourceVersion", "")}
            if not ref:
                new_pv["metadata"].setdefault("annotations", {})[matching.BOUND_BY_CONTROLLER] = "yes"
            pv = await self.client.update(VOLUMES, new_pv)
        if (pv.get("status") or {}).get("phase") != "Bound":
            await self.client.patch(VOLUMES, pmd["name"], {"status": {"phase": "Bound"}}, subresource="status")
        if (claim.get("spec") or {}).get("volumeName") != pmd["name"] or \
                _annotations(claim).get(matching.BIND_COMPLETED) != "yes":
            new_claim = copy.deepcopy(claim)
            new_claim["spec"]["volumeName"] = pmd["name"]
            annotations = new_claim["metadata"].setdefault("annotations", {})
            annotations[matching.BIND_COMPLETED] = "yes"
            if not (claim.get("spec") or {}).get("volumeName"):
                annotations[matching.BOUND_BY_CONTROLLER] = "yes"
            claim = await self.client.update(CLAIMS, new_claim)
        status = {"phase": "Bound", "accessModes": list(pv_spec.get("accessModes") or []),
                  "capacity": dict(pv_spec.get("capacity") or {})}
        current = claim.get("status") or {}
        if any(current.get(k) != v for k, v in status.items()):
            await self._claim_status(claim, status)

    async def _claim_status(self, claim: Obj, status: Obj) -> None:
        md = claim["metadata"]
        await self.client.patch(CLAIMS, md["name"], {"status": status}, md["namespace"], subresource="status")

    # -- volumes --------------------------------------------------------------------------------------

    async def _sync_volume(self, pv: Obj) -> None:
        spec, phase = pv.get("spec") or {}, (pv.get("status") or {}).get("phase")
        ref = spec.get("claimRef") or {}
        if not ref:
            await self._volume_phase(pv, "Available")
            return
        claim = self.claims.get(f"{ref.get('namespace')}/{ref.get('name')}")
        if claim is None and ref.get("uid"):
            claim = await self._live_claim(ref)  # the cache may lag behind a just-created claim
        if claim is None or (ref.get("uid") and claim["metadata"]["uid"] != ref.get("uid")):
            if not ref.get("uid"):
                await self._volume_phase(pv, "Available")  # pre-bound by name, waiting for its claim
                return
            if phase not in ("Released", "Failed"):
                await self._volume_phase(pv, "Released")
                return
            policy = spec.get("persistentVolumeReclaimPolicy", "Retain")
            if phase == "Released" and policy != "Retain" and not _annotations(pv).get(matching.PROVISIONED_BY):
                message = (f"error getting deleter volume plugin for volume \"{pv['metadata']['name']}\": "
                           f"no deletable volume plugin matched")
                await self._volume_phase(pv, "Failed", message)
                self.recorder.event(pv, "Warning", "VolumeFailedDelete", message)
            return
        bound_to = (claim.get("spec") or {}).get("volumeName")
        if bound_to == pv["metadata"]["name"]:
            await self._volume_phase(pv, "Bound")
        elif not bound_to:
            self.enqueue(claim)  # the claim's sync completes the binding; the phase stays as it is
        elif _annotations(pv).get(matching.BOUND_BY_CONTROLLER) == "yes":
            new_pv = copy.deepcopy(pv)  # we bound it, the claim went elsewhere: unbind
            del new_pv["spec"]["claimRef"]
            await self.client.update(VOLUMES, new_pv)
        else:
            await self._volume_phase(pv, "Available")

    async def _live_claim(self, ref: Obj) -> Obj | None:
        try:
            return await self.client.get(CLAIMS, str(ref.get("name")), str(ref.get("namespace")))
        except errors.StatusError as exc:
            if exc.code == 404:
                return None
            raise

    async def _volume_phase(self, pv: Obj, phase: str, message: str = "") -> None:
        status = pv.get("status") or {}
        if status.get("phase") == phase and (status.get("message") or "") == message:
            return
        new: Obj = {"phase": phase, "message": message or None}
        if status.get("phase") != phase:
            new["lastPhaseTransitionTime"] = meta.rfc3339(self.clock.utcnow())
        await self.client.patch(VOLUMES, pv["metadata"]["name"], {"status": new}, subresource="status")
