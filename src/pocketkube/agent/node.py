"""The agent's Node: registration with what the machine has, and the heartbeat.

As the kubelet does: the Node is created (or taken over) on start; a Lease in kube-node-lease is
renewed every 10 s (that is the heartbeat the node lifecycle reads); the Node status is written
when it changes, and at least every minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.client.rest import ApiClient

log = logging.getLogger(__name__)

NODES = resources.require("", "v1", "nodes")
LEASES = resources.require("coordination.k8s.io", "v1", "leases")

KUBELET_VERSION = "v1.33.0-pocketkube"
LEASE_DURATION = 40
RENEW_INTERVAL = 10.0
STATUS_REPORT_INTERVAL = 60.0


@dataclass(frozen=True)
class NodeConfig:
    name: str
    node_ip: str
    pod_cidr: str
    data_dir: Path
    kubelet_port: int = 10250
    max_pods: int = 110
    runtime_version: str = "runc://unknown"
    labels: tuple[tuple[str, str], ...] = ()


def _read(path: str, default: str = "") -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return default


def _mem_total_kib() -> int:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "Linux"


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def machine_capacity(config: NodeConfig) -> Obj:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    disk = shutil.disk_usage(config.data_dir).total
    return {"cpu": str(os.cpu_count() or 1), "memory": f"{_mem_total_kib()}Ki", "pods": str(config.max_pods),
            "ephemeral-storage": f"{disk // 1024}Ki"}


def node_object(config: NodeConfig) -> Obj:
    labels = {"kubernetes.io/hostname": config.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": _arch(),
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": _arch(), **dict(config.labels)}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": config.name, "labels": labels},
            "spec": {"podCIDR": config.pod_cidr, "podCIDRs": [config.pod_cidr]}}


def node_status(config: NodeConfig, ready: bool, ready_message: str, since: str) -> Obj:
    capacity = machine_capacity(config)
    now = meta.rfc3339(meta.now())

    def condition(kind: str, status: str, reason: str, message: str) -> Obj:
        return {"type": kind, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": now, "lastTransitionTime": since}

    return {
        "capacity": capacity,
        "allocatable": dict(capacity),
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True" if ready else "False", "KubeletReady" if ready else "KubeletNotReady",
                      ready_message),
        ],
        "addresses": [{"type": "InternalIP", "address": config.node_ip}, {"type": "Hostname", "address": config.name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": config.kubelet_port}},
        "nodeInfo": {
            "machineID": _read("/etc/machine-id"), "systemUUID": _read("/sys/class/dmi/id/product_uuid"),
            "bootID": _read("/proc/sys/kernel/random/boot_id"), "kernelVersion": platform.release(),
            "osImage": _os_image(), "containerRuntimeVersion": config.runtime_version,
            "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
            "operatingSystem": "linux", "architecture": _arch(),
        },
    }


def _without_heartbeat(status: Obj) -> Obj:
    """The status minus what changes on every beat, to tell a real change from a heartbeat."""
    conditions = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"} for c in status.get("conditions") or []]
    return {**status, "conditions": conditions}


class NodeAgent:
    """Registers the Node and keeps it and its Lease fresh."""

    def __init__(self, client: ApiClient, config: NodeConfig):
        self.client = client
        self.config = config
        self.ready = True
        self.ready_message = "kubelet is posting ready status"
        self._since = meta.rfc3339(meta.now())
        self._reported: Obj | None = None
        self._reported_at = 0.0
        self.registered = asyncio.Event()

    async def register(self) -> Obj:
        wanted = node_object(self.config)
        try:
            node = await self.client.create(NODES, wanted)
        except errors.StatusError as exc:
            if exc.code != 409:
                raise
            patch = {"metadata": {"labels": wanted["metadata"]["labels"]}, "spec": wanted["spec"]}
            node = await self.client.patch(NODES, self.config.name, patch)
        await self.report_status(force=True)
        self.registered.set()
        return node

    async def report_status(self, force: bool = False) -> None:
        status = node_status(self.config, self.ready, self.ready_message, self._since)
        loop = asyncio.get_running_loop()
        changed = self._reported is None or _without_heartbeat(status) != _without_heartbeat(self._reported)
        if not force and not changed and loop.time() - self._reported_at < STATUS_REPORT_INTERVAL:
            return
        await self.client.patch(NODES, self.config.name, {"status": status}, subresource="status",
                                patch_type="application/merge-patch+json")
        self._reported = status
        self._reported_at = loop.time()

    async def renew_lease(self) -> None:
        now = meta.rfc3339_micro(meta.now())
        name = self.config.name
        spec: Obj = {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION, "renewTime": now}
        try:
            await self.client.patch(LEASES, name, {"spec": spec}, "kube-node-lease")
        except errors.StatusError as exc:
            if exc.code != 404:
                raise
            lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                     "metadata": {"name": name, "namespace": "kube-node-lease"},
                     "spec": {**spec, "acquireTime": now}}
            await self.client.create(LEASES, lease, "kube-node-lease")

    async def run(self) -> None:
        """Register (retrying until the API answers), then beat until cancelled."""
        while not self.registered.is_set():
            try:
                await self.register()
            except (errors.StatusError, OSError) as exc:
                log.warning("registering node %s: %s", self.config.name, exc)
                await asyncio.sleep(1.0)
        while True:
            with contextlib.suppress(errors.StatusError, OSError):
                await self.renew_lease()
                await self.report_status()
            await asyncio.sleep(RENEW_INTERVAL)
