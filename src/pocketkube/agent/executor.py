"""Carrying out a pod's plan: the thin code under the pure `compute_pod_actions`.

`execute` does what `PodActions` says, in its order — sandbox (volumes, namespaces, network),
kills, then ephemeral, init and app containers — and reports which containers it started and
why others could not start (`PodState.failures`, the kubelet's reason cache). `kill`,
`teardown` and `collect_garbage` stop and remove what a pod has in the runtime. Nothing here
lists the runtime: every call takes the pod's `PodRuntime` view from the PLEG's cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pocketkube.agent import labels
from pocketkube.agent.actions import PodActions, history, name_of
from pocketkube.agent.pleg import PodRuntime
from pocketkube.agent.pulls import PullBackoff
from pocketkube.agent.starter import SNAPSHOT_ANNOTATION, ContainerStarter, StartFailure
from pocketkube.agent.volumes import VolumeError, VolumeManager, hosts_file, resolv_conf
from pocketkube.api.obj import Obj
from pocketkube.client.events import EventRecorder
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.network.base import NetworkPlugin, PodNetworkRef, PortMapping
from pocketkube.runtime.base import ContainerState, RuntimeService, Sandbox, SandboxConfig, SandboxState

__all__ = ["PodExecutor", "PodState", "VolumeError"]


@dataclass
class PodState:
    """What the agent knows of a pod beyond the runtime: its network and volumes."""

    ips: list[str] = field(default_factory=list)
    volume_paths: dict[str, str] | None = None
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)  # container → (reason, message)


def net_ref(sandbox: Sandbox) -> PodNetworkRef:
    config = sandbox.config
    return PodNetworkRef(config.namespace, config.name, config.uid, sandbox.id)


class PodExecutor:
    def __init__(self, runtime: RuntimeService, network: NetworkPlugin, starter: ContainerStarter,
                 volumes: VolumeManager, recorder: EventRecorder, node_ip: str, clock: Clock = REAL_CLOCK,
                 host_resolv_conf: str = "/etc/resolv.conf") -> None:
        self.runtime = runtime
        self.network = network
        self.starter = starter
        self.volumes = volumes
        self.recorder = recorder
        self.node_ip = node_ip
        self.clock = clock
        self.pulls = PullBackoff()
        self.host_resolv_conf = host_resolv_conf

    # -- a sync's actions --------------------------------------------------------------------------

    async def execute(self, pod: Obj, state: PodState, actions: PodActions, view: PodRuntime) -> list[str]:
        """Sandbox, kills and starts of `actions`; returns the names of the containers started."""
        sandbox = view.sandbox
        if sandbox is not None and not state.ips and sandbox.state == SandboxState.READY:
            status = await self.network.status(net_ref(sandbox), sandbox.netns_path)
            state.ips = list(status.ips) if status else []
        if actions.create_sandbox:
            sandbox = await self._create_sandbox(pod, state, actions, view)
        assert sandbox is not None
        for cid in actions.containers_to_kill:
            await self._stop_container(pod, cid, actions.grace_period, view)
        return await self._start_containers(pod, sandbox, state, actions)

    async def _create_sandbox(self, pod: Obj, state: PodState, actions: PodActions, view: PodRuntime) -> Sandbox:
        md, spec = pod["metadata"], pod.get("spec") or {}
        for old in view.sandboxes:
            await self.remove_sandbox(old)
        for cid in actions.init_to_purge:
            await self.remove_container(cid, view)
        state.volume_paths = await self.volumes.setup(pod, self.starter.sources)
        config = SandboxConfig(
            name=md["name"], namespace=md["namespace"], uid=md["uid"], hostname=spec.get("hostname") or md["name"],
            labels=labels.sandbox_labels(pod, actions.sandbox_attempt),
            resolv_conf=resolv_conf(pod, [], host_resolv_conf_text=_read(self.host_resolv_conf)),
            hosts=hosts_file(pod, []))
        sandbox = await self.runtime.run_pod_sandbox(config)
        ports = [PortMapping(int(p["hostPort"]), int(p["containerPort"]), p.get("protocol", "TCP"),
                             p.get("hostIP", "")) for c in spec.get("containers") or []
                 for p in c.get("ports") or [] if p.get("hostPort")]
        try:
            net = await self.network.setup(net_ref(sandbox), sandbox.netns_path, ports)
        except Exception:
            await self.runtime.remove_pod_sandbox(sandbox.id)
            raise
        state.ips = list(net.ips)
        if sandbox.hosts_path:
            # Rewritten in place: containers see the file through a bind mount.
            Path(sandbox.hosts_path).write_text(hosts_file(pod, state.ips))
        return sandbox

    async def _start_containers(self, pod: Obj, sandbox: Sandbox, state: PodState, actions: PodActions) -> list[str]:
        spec = pod.get("spec") or {}
        by_name = {c["name"]: c for key in ("initContainers", "containers", "ephemeralContainers")
                   for c in spec.get(key) or []}
        if state.volume_paths is None:
            state.volume_paths = await self.volumes.setup(pod, self.starter.sources)
        started: list[str] = []
        # Ephemeral and init containers go one by one (a failed init container stops the rest);
        # regular containers are started together: nothing orders them once initialization is done.
        for name in [*actions.ephemeral_to_start, *actions.init_to_start]:
            ok = await self._start_one(pod, sandbox, state, actions, by_name[name], started)
            if not ok and (labels.container_type(pod, name) or "regular") == "init":
                return started
        await asyncio.gather(*(self._start_one(pod, sandbox, state, actions, by_name[name], started)
                               for name in actions.containers_to_start))
        return started

    async def _start_one(self, pod: Obj, sandbox: Sandbox, state: PodState, actions: PodActions, container: Obj,
                         started: list[str]) -> bool:
        """Start one container; False (with the reason in state.failures) when it could not be."""
        name = container["name"]
        ctype = labels.container_type(pod, name) or "regular"
        pull_key = (pod["metadata"]["uid"], name, str(container.get("image") or ""))
        if self.pulls.waiting(pull_key, self.clock.now()):
            state.failures[name] = ("ImagePullBackOff", f'Back-off pulling image "{pull_key[2]}"')
            self.recorder.event(pod, "Normal", "BackOff", f'Back-off pulling image "{pull_key[2]}"')
            return False
        started.append(name)
        assert state.volume_paths is not None
        try:
            await self.starter.start(pod, sandbox, container, ctype, actions.attempts.get(name, 0),
                                     state.volume_paths, state.ips, self.node_ip)
        except StartFailure as exc:
            if exc.reason == "ErrImagePull":
                self.pulls.failed(pull_key, self.clock.now())
                self.recorder.event(pod, "Warning", "Failed", exc.message)
                self.recorder.event(pod, "Warning", "Failed", f"Error: {exc.reason}")
            else:
                self.recorder.event(pod, "Warning", "Failed", f"Error: {exc.message}")
            if not exc.created or _will_restart(pod, container):
                # The reason cache: a container that will be tried again waits with this reason;
                # one that never restarts shows the runtime's StartError as it is.
                state.failures[name] = (exc.reason, exc.message)
            return False
        self.recorder.event(pod, "Normal", "Started", f"Started container {name}")
        return True

    # -- stopping ----------------------------------------------------------------------------------

    async def _stop_container(self, pod: Obj | None, cid: str, grace: int, view: PodRuntime) -> None:
        cs = next((c for c in view.containers if c.id == cid), None)
        if cs is None or cs.state != ContainerState.RUNNING:
            return
        if pod is not None:
            self.recorder.event(pod, "Normal", "Killing", f"Stopping container {name_of(cs)}")
        await self.runtime.stop_container(cid, float(grace))

    async def kill(self, pod: Obj, actions: PodActions, view: PodRuntime) -> None:
        """Stop the pod's containers stage by stage within the grace period, then its sandbox."""
        for stage in actions.kill_stages:
            await asyncio.gather(*(self._stop_container(pod, cid, actions.grace_period, view) for cid in stage))
        sandbox = view.sandbox
        if sandbox is not None and sandbox.state == SandboxState.READY:
            await self.runtime.stop_pod_sandbox(sandbox.id)

    async def remove_container(self, cid: str, view: PodRuntime) -> None:
        cs = next((c for c in view.containers if c.id == cid), None)
        await self.runtime.remove_container(cid)
        if cs is not None and cs.annotations.get(SNAPSHOT_ANNOTATION):
            await self.starter.snapshots.remove(cs.annotations[SNAPSHOT_ANNOTATION])
        if cs is not None and cs.log_path:
            with contextlib.suppress(OSError):
                Path(cs.log_path).unlink()

    async def release_network(self, sandbox: Sandbox) -> None:
        await self.network.teardown(net_ref(sandbox), sandbox.netns_path, [])

    async def remove_sandbox(self, sandbox: Sandbox) -> None:
        await self.release_network(sandbox)
        await self.runtime.remove_pod_sandbox(sandbox.id)

    async def teardown(self, uid: str, view: PodRuntime, grace: int) -> None:
        """Everything of the pod goes: containers, sandboxes, volumes, logs, backoff entries."""
        for cs in view.containers:
            if cs.state == ContainerState.RUNNING:
                await self.runtime.stop_container(cs.id, float(grace))
        for cs in view.containers:
            await self.remove_container(cs.id, view)
        for sandbox in view.sandboxes:
            await self.remove_sandbox(sandbox)
        await self.volumes.teardown(uid)
        for log_dir in self.starter.logs_root.glob(f"*_{uid}"):  # <logs>/<ns>_<name>_<uid>
            await asyncio.to_thread(shutil.rmtree, log_dir, True)
        self.pulls.forget_pod(uid)

    async def collect_garbage(self, view: PodRuntime) -> list[str]:
        """Container GC with the kubelet's default policy (MaxPerPodContainer 1): of each container
        name, keep what is not exited and the newest exited one (`--previous`, lastState); remove older
        ones with their rootfs snapshots and logs. Returns the ids removed."""
        removed: list[str] = []
        for found in history(list(view.containers)).values():
            exited = [cs for cs in found if cs.state == ContainerState.EXITED]
            for cs in exited[1:]:
                await self.remove_container(cs.id, view)
                removed.append(cs.id)
        return removed


def _will_restart(pod: Obj, container: Obj) -> bool:
    """Whether a container that failed to start will be tried again (sidecars always are)."""
    policy = container.get("restartPolicy") or (pod.get("spec") or {}).get("restartPolicy") or "Always"
    return policy != "Never"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
