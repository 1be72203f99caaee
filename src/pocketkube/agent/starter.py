"""Starting one container of a pod: image, rootfs snapshot, runtime config, create, start.

Failures the user must see come back as `StartFailure(reason, message)`, in the kubelet's words
(ErrImagePull, CreateContainerConfigError, CreateContainerError). A container that was created but
failed to start stays in the runtime, whose status reports StartError with runc's message; the
failure comes back as RunContainerError with `created` set (the reason a restarting container
waits with, as the kubelet's reason cache has it).

The kubelet's container events along the way go to `event(pod, type, reason, message)`: Pulled
(the image is present) and Created; the worker records Started or Failed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketkube.agent import labels
from pocketkube.agent.containers import resolve_container
from pocketkube.agent.env import ConfigSources, ContainerConfigError
from pocketkube.agent.logs import container_log_path
from pocketkube.api.obj import Obj
from pocketkube.images.base import ImageError, ImageService, Snapshotter
from pocketkube.runtime.base import (
    ContainerConfig,
    ContainerStartError,
    Mount,
    RuntimeService,
    RuntimeServiceError,
    Sandbox,
)

SNAPSHOT_ANNOTATION = "io.pocketkube.snapshot"


class StartFailure(Exception):
    def __init__(self, reason: str, message: str, created: bool = False):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.created = created  # a runtime container exists (it failed to start)


EventSink = Callable[[Obj, str, str, str], None]  # (pod, type, reason, message)


def _no_events(_pod: Obj, _type: str, _reason: str, _message: str) -> None:
    return None


@dataclass
class ContainerStarter:
    runtime: RuntimeService
    images: ImageService
    snapshots: Snapshotter
    sources: ConfigSources
    logs_root: Path
    pods_root: Path
    allocatable: dict[str, Any]
    event: EventSink = _no_events

    def termination_log(self, uid: str, name: str, attempt: int) -> Path:
        return self.pods_root / uid / "containers" / name / f"{attempt}-termination-log"

    async def start(self, pod: Obj, sandbox: Sandbox, container: Obj, ctype: labels.ContainerType, attempt: int,
                    volume_paths: dict[str, str], pod_ips: list[str], host_ip: str) -> str:
        md = pod["metadata"]
        name = container["name"]
        ref = str(container.get("image") or "")
        try:
            image = await self.images.get(ref)
        except ImageError as exc:
            raise StartFailure("InvalidImageName", f'Failed to apply default image tag "{ref}": {exc}') from None
        if image is None:
            raise StartFailure("ErrImagePull", f'Failed to pull image "{ref}": image not found in the local store '
                                               f"(import it with `pocketkube image import`; registry pulls are not "
                                               f"available yet)")
        self.event(pod, "Normal", "Pulled", f'Container image "{ref}" already present on machine')
        key = f"{sandbox.id[:12]}-{name}-{attempt}"
        rootfs = await self.snapshots.prepare(key, image)
        term_log = self.termination_log(md["uid"], name, attempt)
        term_log.parent.mkdir(parents=True, exist_ok=True)
        term_log.touch(mode=0o666)
        os.chmod(term_log, 0o666)
        mounts = [Mount(sandbox.hostname_path, "/etc/hostname")]
        if sandbox.hosts_path:
            mounts.append(Mount(sandbox.hosts_path, "/etc/hosts"))
        if sandbox.resolv_conf_path:
            mounts.append(Mount(sandbox.resolv_conf_path, "/etc/resolv.conf"))
        mounts.append(Mount(str(term_log), str(container.get("terminationMessagePath") or "/dev/termination-log")))
        log_path = container_log_path(self.logs_root, md["namespace"], md["name"], md["uid"], name, attempt)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            config = await resolve_container(
                pod, container, image.config, rootfs=rootfs, mounts=mounts, log_path=str(log_path),
                attempt=attempt, sources=self.sources, volume_paths=volume_paths, pod_ips=pod_ips,
                host_ips=[host_ip], allocatable=self.allocatable)
        except ContainerConfigError as exc:
            await self.snapshots.remove(key)
            raise StartFailure(exc.reason, exc.message) from None
        config = _labelled(config, labels.container_labels(pod, container, ctype, attempt, image.id), key)
        try:
            container_id = await self.runtime.create_container(sandbox.id, config)
        except RuntimeServiceError as exc:
            await self.snapshots.remove(key)
            raise StartFailure("CreateContainerError", str(exc)) from None
        self.event(pod, "Normal", "Created", f"Created container: {name}")
        try:
            await self.runtime.start_container(container_id)
        except ContainerStartError as exc:
            # The runtime's status says StartError, with runc's message.
            raise StartFailure("RunContainerError", str(exc), created=True) from None
        return container_id


def _labelled(config: ContainerConfig, extra: dict[str, str], snapshot: str) -> ContainerConfig:
    from dataclasses import replace

    return replace(config, labels={**config.labels, **extra},
                   annotations={**config.annotations, SNAPSHOT_ANNOTATION: snapshot})
