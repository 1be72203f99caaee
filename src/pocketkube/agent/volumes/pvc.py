"""`persistentVolumeClaim` volumes: claim → bound PersistentVolume → a directory on this host.

The claim must be Bound (`spec.volumeName` set, phase Bound) to a volume whose `claimRef` is that
claim; the volume must be a `hostPath` or `local` volume (what the local-path provisioner and
users' static volumes give). The directory is used in place, like a hostPath volume, so data
outlives the pod: a replacement pod mounting the same claim finds it. A missing directory is
created 0777, as rancher's local-path helper does, so any container user can write to it.
Messages follow the kubelet's FailedMount wording for unbound or missing claims.

Objects are fetched before the filesystem work (`fetch_claims`, async) and the directory made in
the manager's thread (`claim_path`), mirroring configMap and secret volumes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from pocketkube.api.obj import Obj

Json = Obj  # a pod or container spec, as decoded JSON
CLAIM = "persistentvolumeclaim"


@runtime_checkable
class ClaimSources(Protocol):
    async def persistent_volume_claim(self, namespace: str, name: str) -> Json | None: ...

    async def persistent_volume(self, name: str) -> Json | None: ...


class ClaimError(Exception):
    pass


def claim_name(volume: Json) -> str:
    return str((volume.get("persistentVolumeClaim") or {}).get("claimName") or "")


def resolve(namespace: str, name: str, claim: Json | None, pv: Json | None) -> str:
    """The host path behind a claim, or ClaimError saying why there is none (pure)."""
    if claim is None:
        raise ClaimError(f'error processing PVC {namespace}/{name}: persistentvolumeclaim "{name}" not found')
    spec, phase = claim.get("spec") or {}, (claim.get("status") or {}).get("phase")
    volume_name = str(spec.get("volumeName") or "")
    if phase != "Bound" or not volume_name:
        raise ClaimError(f'PVC {namespace}/{name} has non-bound phase ("{phase or ""}") or empty '
                         f'pvc.Spec.VolumeName ("{volume_name}")')
    if pv is None:
        raise ClaimError(f'error processing PVC {namespace}/{name}: persistentvolume "{volume_name}" not found')
    pv_spec = pv.get("spec") or {}
    ref = pv_spec.get("claimRef") or {}
    uid = (claim.get("metadata") or {}).get("uid")
    if ref.get("name") != name or ref.get("namespace") != namespace or (ref.get("uid") and ref["uid"] != uid):
        raise ClaimError(f'error processing PVC {namespace}/{name}: volume "{volume_name}" is bound to a '
                         f'different claim')
    for source in ("hostPath", "local"):
        path = (pv_spec.get(source) or {}).get("path")
        if path:
            return str(path)
    raise ClaimError(f'error processing PVC {namespace}/{name}: volume "{volume_name}" is not a hostPath or '
                     f'local volume')


async def fetch_claims(pod: Json, sources: object) -> dict[tuple[str, str], Json | None]:
    """For each claim the pod mounts: ("persistentvolumeclaim", name) → {"path"} or {"error"}."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    found: dict[tuple[str, str], Json | None] = {}
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = claim_name(volume)
        if volume.get("persistentVolumeClaim") is None or (CLAIM, name) in found:
            continue
        if not isinstance(sources, ClaimSources):
            found[(CLAIM, name)] = {"error": "this node agent cannot read PersistentVolumeClaims"}
            continue
        claim = await sources.persistent_volume_claim(namespace, name)
        volume_name = str(((claim or {}).get("spec") or {}).get("volumeName") or "")
        pv = await sources.persistent_volume(volume_name) if volume_name else None
        try:
            found[(CLAIM, name)] = {"path": resolve(namespace, name, claim, pv)}
        except ClaimError as err:
            found[(CLAIM, name)] = {"error": str(err)}
    return found


def claim_path(volume: Json, objects: Mapping[tuple[str, str], Json | None]) -> str:
    """The claim's directory, created 0777 when missing (runs in the manager's thread)."""
    resolved = objects.get((CLAIM, claim_name(volume))) or {"error": "claim was not resolved"}
    if "error" in resolved:
        raise ClaimError(str(resolved["error"]))
    path = str(resolved["path"])
    if not os.path.isdir(path):
        try:
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o777)  # not subject to the umask, unlike makedirs' mode
        except OSError as err:
            raise ClaimError(f"error creating {path}: {err}") from None
    return path
