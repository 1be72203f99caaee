"""VolumeManager: a pod's volumes on the host, laid out as the kubelet lays them out.

    <root>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>      0777 dir, or tmpfs (medium: Memory)
    <root>/pods/<uid>/volumes/kubernetes.io~configmap/<name>      atomic-writer layout, on disk
    <root>/pods/<uid>/volumes/kubernetes.io~secret/<name>         atomic-writer layout, on tmpfs
    <root>/pods/<uid>/volumes/kubernetes.io~downward-api/<name>   atomic-writer layout, on disk
    <root>/pods/<uid>/volumes/kubernetes.io~projected/<name>      atomic-writer layout, on tmpfs
    hostPath volumes are the host path itself (after the `type` check).
    persistentVolumeClaim volumes are the bound volume's directory (`pvc`), also used in place.

Objects are fetched first (async, through `sources`), then the filesystem work runs in a thread.
A memory-backed volume's tmpfs `size=` follows the kubelet's SizeMemoryBackedVolumes rule: the
node's allocatable memory (default: MemTotal), lowered to the pod's memory limit when every
container has one, lowered again to the emptyDir `sizeLimit` when set; secrets and projected
volumes use the same rule. Teardown unmounts everything mounted under the pod directory (deepest
first) before deleting it, so it never deletes through a mount and leaves no mount behind.

Errors are `VolumeError`, whose message is the kubelet's FailedMount event text
(`MountVolume.SetUp failed for volume "cfg" : configmap "x" not found`); the pod stays
ContainerCreating while it persists.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from typing import Any

from pocketkube.agent.env import ConfigSources, Json
from pocketkube.agent.volumes import atomic, payloads, pvc
from pocketkube.agent.volumes.hostpath import HostPathError, check_host_path
from pocketkube.api.quantity import to_bytes
from pocketkube.images import mounts as sysmount

PLUGIN_DIRS = {
    "emptyDir": "kubernetes.io~empty-dir",
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
    "projected": "kubernetes.io~projected",
}
PAYLOAD_KINDS = ("configMap", "secret", "downwardAPI", "projected")
MEMORY_BACKED = ("secret", "projected")
FAILED_MOUNT = "FailedMount"


class VolumeError(Exception):
    """A volume that cannot be set up; `reason` is the event reason, str(self) the event message."""

    def __init__(self, volume: str, detail: str) -> None:
        super().__init__(f'MountVolume.SetUp failed for volume "{volume}" : {detail}')
        self.volume = volume
        self.detail = detail
        self.reason = FAILED_MOUNT


def volume_kind(volume: Json) -> str:
    for kind in ("emptyDir", "hostPath", "persistentVolumeClaim", *PAYLOAD_KINDS):
        if volume.get(kind) is not None:
            return kind
    return ""


def _mem_total() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pod_memory_limit(pod: Json) -> int | None:
    """The pod cgroup's memory limit: sum of app containers, at least the largest init container;
    None when some container has no limit (the pod is then unbounded)."""
    spec = pod.get("spec") or {}

    def limit(container: Json) -> int | None:
        value = ((container.get("resources") or {}).get("limits") or {}).get("memory")
        return to_bytes(value) if value is not None else None

    total = 0
    for container in spec.get("containers") or []:
        value = limit(container)
        if value is None:
            return None
        total += value
    for container in spec.get("initContainers") or []:
        value = limit(container)
        if value is None:
            return None
        total = max(total, value)
    return total


def memory_volume_size(pod: Json, size_limit: Any, allocatable_memory: int) -> int:
    """tmpfs size in bytes (0: let the kernel pick, only when nothing at all is known)."""
    size = allocatable_memory
    pod_limit = pod_memory_limit(pod)
    if pod_limit and (not size or pod_limit <= size):
        size = pod_limit
    if size_limit is not None:
        volume_limit = to_bytes(size_limit)
        if volume_limit > 0 and (not size or volume_limit <= size):
            size = volume_limit
    return size


class VolumeManager:
    def __init__(self, pod_dir_root: str, *, allocatable_memory: int | None = None,
                 allocatable: Mapping[str, Any] | None = None) -> None:
        self.root = pod_dir_root
        self.allocatable_memory = allocatable_memory if allocatable_memory is not None else _mem_total()
        # Node allocatable for resourceFieldRef items whose limit is unset.
        self.allocatable = dict(allocatable or {"memory": str(self.allocatable_memory), "cpu": str(os.cpu_count())})

    def pod_dir(self, pod_uid: str) -> str:
        return os.path.join(self.root, "pods", pod_uid)

    def volume_dir(self, pod_uid: str, kind: str, name: str) -> str:
        return os.path.join(self.pod_dir(pod_uid), "volumes", PLUGIN_DIRS[kind], name)

    async def _fetch(self, pod: Json, sources: ConfigSources) -> dict[tuple[str, str], Json | None]:
        namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
        objects: dict[tuple[str, str], Json | None] = {}
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            for ref in payloads.referenced_objects(volume):
                if ref not in objects:
                    kind, name = ref
                    objects[ref] = await (sources.configmap(namespace, name) if kind == "configmap"
                                          else sources.secret(namespace, name))
        return objects

    def _payload(self, pod: Json, volume: Json, objects: Mapping[tuple[str, str], Json | None]) -> atomic.Payload:
        kind = volume_kind(volume)
        source = volume[kind]
        if kind == "configMap":
            return payloads.configmap_payload(source, objects.get(("configmap", str(source.get("name", "")))))
        if kind == "secret":
            return payloads.secret_payload(source, objects.get(("secret", str(source.get("secretName", "")))))
        if kind == "downwardAPI":
            return payloads.downward_payload(pod, source.get("items") or [],
                                             int(source.get("defaultMode", payloads.DEFAULT_MODE)), self.allocatable)
        return payloads.projected_payload(pod, source, objects, self.allocatable)

    def _mount_tmpfs(self, path: str, size: int) -> None:
        if sysmount.mount_count(path):
            return  # already set up (agent restart): keep what containers see
        sysmount.mount("tmpfs", path, "tmpfs", 0, f"size={size}" if size else "")

    def _setup_one(self, pod: Json, volume: Json, objects: Mapping[tuple[str, str], Json | None]) -> str:
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        name = str(volume.get("name", ""))
        kind = volume_kind(volume)
        if kind == "hostPath":
            source = volume["hostPath"]
            try:
                check_host_path(str(source.get("path", "")), source.get("type"))
            except HostPathError as err:
                raise VolumeError(name, str(err)) from None
            return str(source.get("path", ""))
        if kind == "persistentVolumeClaim":
            try:
                return pvc.claim_path(volume, objects)
            except pvc.ClaimError as err:
                raise VolumeError(name, str(err)) from None
        if not kind:
            raise VolumeError(name, "unsupported volume type")
        path = self.volume_dir(uid, kind, name)
        try:
            # Build the payload before touching the disk so a missing object leaves nothing behind.
            payload = self._payload(pod, volume, objects) if kind in PAYLOAD_KINDS else None
        except (payloads.PayloadSourceError, atomic.PayloadError) as err:
            raise VolumeError(name, str(err)) from None
        os.makedirs(path, exist_ok=True)
        memory = (kind == "emptyDir" and volume["emptyDir"].get("medium") == "Memory") or kind in MEMORY_BACKED
        if memory:
            size_limit = volume["emptyDir"].get("sizeLimit") if kind == "emptyDir" else None
            try:
                self._mount_tmpfs(path, memory_volume_size(pod, size_limit, self.allocatable_memory))
            except OSError as err:
                raise VolumeError(name, str(err)) from None
        if kind == "emptyDir":
            if os.stat(path).st_mode & 0o777 != 0o777:
                os.chmod(path, 0o777)
        elif payload is not None:
            atomic.write(path, payload)
        return path

    def _setup(self, pod: Json, objects: Mapping[tuple[str, str], Json | None]) -> dict[str, str]:
        return {str(v.get("name", "")): self._setup_one(pod, v, objects)
                for v in (pod.get("spec") or {}).get("volumes") or []}

    async def setup(self, pod: Json, sources: ConfigSources) -> dict[str, str]:
        """Make every volume of `pod` ready; volume name → host path. Idempotent."""
        objects = await self._fetch(pod, sources)
        objects.update(await pvc.fetch_claims(pod, sources))  # setup only: a refresh leaves claims alone
        return await asyncio.to_thread(self._setup, pod, objects)

    def _refresh(self, pod: Json, objects: Mapping[tuple[str, str], Json | None]) -> list[str]:
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        changed = []
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            kind = volume_kind(volume)
            name = str(volume.get("name", ""))
            path = self.volume_dir(uid, kind, name) if kind in PAYLOAD_KINDS else ""
            if not path or not os.path.isdir(path):
                continue
            try:
                payload = self._payload(pod, volume, objects)
            except (payloads.PayloadSourceError, atomic.PayloadError) as err:
                raise VolumeError(name, str(err)) from None
            if atomic.write(path, payload):
                changed.append(name)
        return changed

    async def refresh(self, pod: Json, sources: ConfigSources) -> list[str]:
        """Re-project configMap/secret/downwardAPI/projected volumes already set up, each swapped
        atomically; returns the names of the volumes whose content changed."""
        objects = await self._fetch(pod, sources)
        return await asyncio.to_thread(self._refresh, pod, objects)

    def _teardown(self, pod_uid: str) -> None:
        pod_dir = self.pod_dir(pod_uid)
        if not os.path.isdir(pod_dir):
            return
        real = os.path.realpath(pod_dir)
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as handle:
            points = sysmount.parse_mountinfo(handle.read())
        inside = [p for p in points if p.startswith(real + "/")]
        for point in sorted(set(inside), key=len, reverse=True):
            while sysmount.mount_count(point):
                try:
                    sysmount.umount(point)
                except OSError as err:
                    if sysmount.is_not_mounted(err):
                        break
                    sysmount.umount(point, sysmount.MNT_DETACH)
        shutil.rmtree(pod_dir)

    async def teardown(self, pod_uid: str) -> None:
        """Unmount and delete every volume of the pod (and its pod directory). Idempotent."""
        await asyncio.to_thread(self._teardown, pod_uid)
