"""The node agent: watches the pods bound to its node and makes each one real.

Per pod, one worker runs `sync`: read what the runtime has (sandbox, containers — the runtime's
labels are the agent's memory, so a restarted agent re-adopts everything), compute the plan
(`actions.compute_pod_actions`), execute it, and write the status that follows. A pod that is
deleted is killed gracefully, torn down, and then removed from the API by the agent itself.
PLEG: the runtime is relisted every second and a pod whose containers changed is poked.
After each sync, container GC keeps of each container name only the newest exited one.
On start the agent re-adopts pods only once the pod informer has listed, so that a pod is never
taken for deleted merely because the agent has not seen it yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pocketkube.agent import labels
from pocketkube.agent.actions import (
    PodActions,
    compute_pod_actions,
    history,
    name_of,
    pod_ref,
    record_restarts,
    restore_backoff,
)
from pocketkube.agent.backoff import Backoff
from pocketkube.agent.logsource import LogFinder
from pocketkube.agent.node import NodeAgent, NodeConfig
from pocketkube.agent.pod_workers import FINISHED, PodWorkers
from pocketkube.agent.podstatus import generate_pod_status
from pocketkube.agent.pulls import PullBackoff
from pocketkube.agent.sources import ApiSources
from pocketkube.agent.starter import SNAPSHOT_ANNOTATION, ContainerStarter, StartFailure
from pocketkube.agent.status_manager import StatusManager
from pocketkube.agent.volumes import VolumeError, VolumeManager, hosts_file, resolv_conf
from pocketkube.api import meta, resources
from pocketkube.client.events import EventRecorder
from pocketkube.client.informer import Handlers, Informer
from pocketkube.client.rest import ApiClient
from pocketkube.images.base import ImageService, Snapshotter
from pocketkube.network.base import NetworkPlugin, PodNetworkRef, PortMapping
from pocketkube.runtime.base import (
    ContainerState,
    ContainerStatus,
    RuntimeService,
    RuntimeServiceError,
    Sandbox,
    SandboxConfig,
    SandboxState,
)
from pocketkube.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Obj = dict[str, Any]
PODS = resources.require("", "v1", "pods")
PLEG_PERIOD = 1.0
RETRY_FAILED_START = 2.0  # a config error (missing ConfigMap…) is retried this soon


@dataclass
class PodState:
    """What the agent knows of a pod beyond the runtime: its network and volumes."""

    ips: list[str] = field(default_factory=list)
    volume_paths: dict[str, str] | None = None
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)  # container → (reason, message)


class Kubelet:
    def __init__(self, client: ApiClient, node: NodeConfig, runtime: RuntimeService, network: NetworkPlugin,
                 images: ImageService, snapshots: Snapshotter, data_dir: Path):
        self.client = client
        self.node = node
        self.runtime = runtime
        self.network = network
        self.node_agent = NodeAgent(client, node)
        self.recorder = EventRecorder(client, "kubelet", node.name)
        self.status = StatusManager(client)
        self.backoff = Backoff()
        self.pulls = PullBackoff()
        self.volumes = VolumeManager(str(data_dir))
        self.sources = ApiSources(client)
        self.starter = ContainerStarter(runtime, images, snapshots, self.sources, data_dir / "logs",
                                        data_dir / "pods", {}, event=self.recorder.event)
        self.snapshots = snapshots
        self.pods = Informer(client, PODS, field_selector=f"spec.nodeName={node.name}")
        self.workers = PodWorkers(self.sync)
        self._uid_keys: dict[str, str] = {}
        self._state: dict[str, PodState] = {}
        self._pleg_seen: dict[str, tuple[str, str]] = {}
        self.logs = LogFinder(runtime, self.pods)
        self.find_log = self.logs.find_log  # the agent server's LogSource
        self.pods.add_handlers(Handlers(on_add=self._pod_event, on_update=lambda _o, n: self._pod_event(n),
                                        on_delete=self._pod_event))

    # -- wiring -------------------------------------------------------------------------------------

    def _pod_event(self, pod: Obj) -> None:
        md = pod["metadata"]
        self._uid_keys[md["uid"]] = f"{md['namespace']}/{md['name']}"
        self.workers.poke(md["uid"])

    def _pod(self, uid: str) -> Obj | None:
        key = self._uid_keys.get(uid)
        pod = self.pods.get(key) if key else None
        return pod if pod is not None and pod["metadata"]["uid"] == uid else None

    async def run(self) -> None:
        tasks = [asyncio.create_task(self.node_agent.run())]
        try:
            await self.node_agent.registered.wait()
            self.starter.allocatable = dict(
                (await self.client.get(resources.require("", "v1", "nodes"), self.node.name))["status"]
                .get("allocatable") or {})
            restore_backoff(self.backoff, await self.runtime.list_containers())
            tasks.append(asyncio.create_task(self.pods.run()))
            await self.pods.synced.wait()
            # Only now: a sync before the informer has listed would take every pod for deleted.
            await self._readopt()
            tasks.append(asyncio.create_task(self._pleg()))
            await asyncio.gather(*tasks)
        finally:
            await cancel_and_wait(tasks)
            await self.workers.stop()

    async def _readopt(self) -> None:
        """After a restart: revisit every pod the runtime has, including pods deleted meanwhile."""
        for sandbox in await self.runtime.list_pod_sandboxes():
            self.workers.poke(sandbox.config.uid)

    async def _pleg(self) -> None:
        while True:
            await asyncio.sleep(PLEG_PERIOD)
            try:
                containers = await self.runtime.list_containers()
            except RuntimeServiceError as exc:
                log.warning("PLEG relist failed: %s", exc)
                continue
            seen: dict[str, tuple[str, str]] = {}
            for cs in containers:
                seen[cs.id] = (labels.pod_uid(cs.labels), cs.state)
            for cid, (uid, state) in seen.items():
                if self._pleg_seen.get(cid, ("", ""))[1] != state and uid:
                    self.workers.poke(uid)
            for cid, (uid, _state) in self._pleg_seen.items():
                if cid not in seen and uid:
                    self.workers.poke(uid)
            self._pleg_seen = seen

    # -- the sync -----------------------------------------------------------------------------------

    async def _runtime_view(self, uid: str) -> tuple[list[Sandbox], list[ContainerStatus]]:
        sandboxes = [s for s in await self.runtime.list_pod_sandboxes() if s.config.uid == uid]
        sandboxes.sort(key=lambda s: s.created_at, reverse=True)
        containers = [c for c in await self.runtime.list_containers() if labels.pod_uid(c.labels) == uid]
        return sandboxes, containers

    async def sync(self, uid: str) -> float | None:
        pod = self._pod(uid)
        sandboxes, containers = await self._runtime_view(uid)
        if pod is None:
            # Gone from the API (deleted, force-deleted, or while the agent was away): clean up.
            await self._teardown(uid, None, sandboxes, containers, grace=0)
            return FINISHED
        state = self._state.setdefault(uid, PodState())
        sandbox = sandboxes[0] if sandboxes else None
        now = time.time()
        actions = compute_pod_actions(pod, sandbox, containers, self.backoff, now)
        if actions.kill_pod:
            await self._kill(pod, actions, sandbox, containers)
            if not actions.create_sandbox:
                return await self._finish(pod, uid, state, sandboxes)
        if sandbox is not None and not state.ips and sandbox.state == SandboxState.READY:
            status = await self.network.status(self._net_ref(pod, sandbox), sandbox.netns_path)
            state.ips = list(status.ips) if status else []
        started: list[str] = []
        state.failures = {}
        for name, (reason, _message) in actions.waiting.items():
            if reason == "CrashLoopBackOff":
                self.recorder.event(pod, "Warning", "BackOff",
                                    f"Back-off restarting failed container {name} in pod {pod_ref(pod)}")
        try:
            if actions.create_sandbox:
                sandbox = await self._create_sandbox(pod, state, actions, containers)
            assert sandbox is not None
            for cid in actions.containers_to_kill:
                await self._stop_container(pod, cid, actions.grace_period, containers)
            started = await self._start_containers(pod, sandbox, state, actions)
        except VolumeError as exc:
            self.recorder.event(pod, "Warning", "FailedMount", str(exc))
            state.failures = {c["name"]: ("ContainerCreating", "")
                              for c in (pod["spec"].get("containers") or [])}
        finally:
            record_restarts(self.backoff, actions, started, now)
        sandboxes, containers = await self._runtime_view(uid)
        await self._write_status(pod, sandboxes[0] if sandboxes else None, containers, actions, state, started)
        await self._collect_garbage(containers)
        if state.failures:
            return RETRY_FAILED_START
        return max(0.0, actions.next_wakeup - time.time()) if actions.next_wakeup else None

    def _net_ref(self, pod: Obj, sandbox: Sandbox) -> PodNetworkRef:
        md = pod["metadata"]
        return PodNetworkRef(md["namespace"], md["name"], md["uid"], sandbox.id)

    async def _create_sandbox(self, pod: Obj, state: PodState, actions: PodActions,
                              containers: list[ContainerStatus]) -> Sandbox:
        md, spec = pod["metadata"], pod.get("spec") or {}
        for old in await self.runtime.list_pod_sandboxes():
            if old.config.uid == md["uid"]:
                await self._remove_sandbox(pod, old)
        for cid in actions.init_to_purge:
            await self._remove_container(cid, containers)
        state.volume_paths = await self.volumes.setup(pod, self.sources)
        hostname = spec.get("hostname") or md["name"]
        config = SandboxConfig(
            name=md["name"], namespace=md["namespace"], uid=md["uid"], hostname=hostname,
            labels=labels.sandbox_labels(pod, actions.sandbox_attempt),
            resolv_conf=resolv_conf(pod, [], host_resolv_conf_text=_read("/etc/resolv.conf")),
            hosts=hosts_file(pod, []))
        sandbox = await self.runtime.run_pod_sandbox(config)
        ports = [PortMapping(int(p["hostPort"]), int(p["containerPort"]), p.get("protocol", "TCP"),
                             p.get("hostIP", "")) for c in spec.get("containers") or []
                 for p in c.get("ports") or [] if p.get("hostPort")]
        try:
            net = await self.network.setup(self._net_ref(pod, sandbox), sandbox.netns_path, ports)
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
            state.volume_paths = await self.volumes.setup(pod, self.sources)
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
        if self.pulls.waiting(pull_key, time.time()):
            state.failures[name] = ("ImagePullBackOff", f'Back-off pulling image "{pull_key[2]}"')
            self.recorder.event(pod, "Normal", "BackOff", f'Back-off pulling image "{pull_key[2]}"')
            return False
        started.append(name)
        assert state.volume_paths is not None
        try:
            await self.starter.start(pod, sandbox, container, ctype, actions.attempts.get(name, 0),
                                     state.volume_paths, state.ips, self.node.node_ip)
        except StartFailure as exc:
            if exc.reason == "ErrImagePull":
                self.pulls.failed(pull_key, time.time())
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

    async def _write_status(self, pod: Obj, sandbox: Sandbox | None, containers: list[ContainerStatus],
                            actions: PodActions, state: PodState, started: list[str]) -> None:
        waiting = {k: v for k, v in actions.waiting.items() if k not in started}
        waiting.update(state.failures)
        messages = {}
        for cs in containers:
            if cs.state == ContainerState.EXITED:
                path = self.starter.termination_log(pod["metadata"]["uid"], name_of(cs), cs.attempt)
                with contextlib.suppress(OSError):
                    messages[cs.id] = path.read_text(errors="replace")
        status = generate_pod_status(pod, sandbox, containers, waiting, state.ips, self.node.node_ip, time.time(),
                                     termination_messages=messages)
        await self.status.set_status(pod, status)

    # -- stopping -----------------------------------------------------------------------------------

    async def _stop_container(self, pod: Obj | None, cid: str, grace: int, containers: list[ContainerStatus]) -> None:
        cs = next((c for c in containers if c.id == cid), None)
        if cs is None or cs.state != ContainerState.RUNNING:
            return
        if pod is not None:
            self.recorder.event(pod, "Normal", "Killing", f"Stopping container {name_of(cs)}")
        await self.runtime.stop_container(cid, float(grace))

    async def _kill(self, pod: Obj, actions: PodActions, sandbox: Sandbox | None,
                    containers: list[ContainerStatus]) -> None:
        for stage in actions.kill_stages:
            await asyncio.gather(*(self._stop_container(pod, cid, actions.grace_period, containers) for cid in stage))
        if sandbox is not None and sandbox.state == SandboxState.READY:
            await self.runtime.stop_pod_sandbox(sandbox.id)

    async def _finish(self, pod: Obj, uid: str, state: PodState, sandboxes: list[Sandbox]) -> float | None:
        """The pod is killed: a deleted pod is torn down and removed; a finished one keeps its logs."""
        _, containers = await self._runtime_view(uid)
        sandbox = sandboxes[0] if sandboxes else None
        if meta.is_being_deleted(pod):
            await self._write_status(pod, sandbox, containers, PodActions(), state, [])
            await self._teardown(uid, pod, sandboxes, containers, grace=0)
            await self.status.delete_terminated(pod)
            return FINISHED
        # Succeeded or Failed: release the IP (kubelet does), keep containers for `kubectl logs`.
        for sb in sandboxes:
            await self._release_network(pod, sb)
        await self._write_status(pod, sandbox, containers, PodActions(), state, [])
        return None

    async def _release_network(self, pod: Obj | None, sandbox: Sandbox) -> None:
        ref = (self._net_ref(pod, sandbox) if pod is not None
               else PodNetworkRef(sandbox.config.namespace, sandbox.config.name, sandbox.config.uid, sandbox.id))
        await self.network.teardown(ref, sandbox.netns_path, [])

    async def _collect_garbage(self, containers: list[ContainerStatus]) -> None:
        """Container GC with the kubelet's default policy (MaxPerPodContainer 1): of each container
        name, keep what is not exited and the newest exited one (`--previous`, lastState); remove older
        ones with their rootfs snapshots and logs."""
        for found in history(containers).values():
            exited = [cs for cs in found if cs.state == ContainerState.EXITED]
            for cs in exited[1:]:
                await self._remove_container(cs.id, containers)

    async def _remove_container(self, cid: str, containers: list[ContainerStatus]) -> None:
        cs = next((c for c in containers if c.id == cid), None)
        await self.runtime.remove_container(cid)
        if cs is not None and cs.annotations.get(SNAPSHOT_ANNOTATION):
            await self.snapshots.remove(cs.annotations[SNAPSHOT_ANNOTATION])
        if cs is not None and cs.log_path:
            with contextlib.suppress(OSError):
                Path(cs.log_path).unlink()

    async def _remove_sandbox(self, pod: Obj | None, sandbox: Sandbox) -> None:
        await self._release_network(pod, sandbox)
        await self.runtime.remove_pod_sandbox(sandbox.id)

    async def _teardown(self, uid: str, pod: Obj | None, sandboxes: list[Sandbox],
                        containers: list[ContainerStatus], grace: int) -> None:
        for cs in containers:
            if cs.state == ContainerState.RUNNING:
                await self.runtime.stop_container(cs.id, float(grace))
        for cs in containers:
            await self._remove_container(cs.id, containers)
        for sandbox in sandboxes:
            await self._remove_sandbox(pod, sandbox)
        await self.volumes.teardown(uid)
        for log_dir in self.starter.logs_root.glob(f"*_{uid}"):  # <logs>/<ns>_<name>_<uid>
            await asyncio.to_thread(shutil.rmtree, log_dir, True)
        self._state.pop(uid, None)
        self.backoff.forget_pod(uid)
        self.pulls.forget_pod(uid)
        self.status.forget(uid)


def _will_restart(pod: Obj, container: Obj) -> bool:
    """Whether a container that failed to start will be tried again (sidecars always are)."""
    policy = container.get("restartPolicy") or (pod.get("spec") or {}).get("restartPolicy") or "Always"
    return policy != "Never"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
