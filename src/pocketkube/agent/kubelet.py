"""The node agent: watches the pods bound to its node and makes each one real.

This module only wires the parts together, as the kubelet's main loop does:

- the pod informer (pods bound to this node) pokes a pod's worker when its spec, labels,
  annotations or deletion fields change — never on a status change, so the echo of the agent's
  own status write starts no sync;
- the PLEG (`pleg.Pleg`) relists the runtime into a per-pod cache every second and pokes pods
  whose containers or sandboxes changed;
- one worker per pod (`pod_workers.PodWorkers`) runs `sync.PodSync`: cache → plan → execute →
  status, the executor (`executor.PodExecutor`) doing what the pure plan says.

On start the agent relists once, restores the restart backoff from container history, and
re-adopts pods only once the pod informer has listed, so that a pod is never taken for deleted
merely because the agent has not seen it yet.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pocketkube.agent.actions import restore_backoff
from pocketkube.agent.executor import PodExecutor
from pocketkube.agent.logsource import LogFinder
from pocketkube.agent.node import NodeAgent, NodeConfig
from pocketkube.agent.pleg import Pleg
from pocketkube.agent.pod_workers import PodWorkers
from pocketkube.agent.sources import ApiSources
from pocketkube.agent.starter import ContainerStarter
from pocketkube.agent.status import StatusManager
from pocketkube.agent.sync import PodSync
from pocketkube.agent.volumes import VolumeManager
from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.client.events import EventRecorder
from pocketkube.client.informer import Handlers, Informer
from pocketkube.client.rest import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.images.base import ImageService, Snapshotter
from pocketkube.network.base import NetworkPlugin
from pocketkube.runtime.base import RuntimeService
from pocketkube.tasks import cancel_and_wait

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
# What a pod event must change to start a sync (the kubelet's checkAndUpdatePod).
SYNC_FIELDS = ("labels", "annotations", "deletionTimestamp", "deletionGracePeriodSeconds", "uid")


def needs_sync(old: Obj, new: Obj) -> bool:
    """Whether an update of a pod is one the agent acts on (not only its status)."""
    if old.get("spec") != new.get("spec"):
        return True
    old_md, new_md = old.get("metadata") or {}, new.get("metadata") or {}
    return any(old_md.get(key) != new_md.get(key) for key in SYNC_FIELDS)


class Kubelet:
    def __init__(self, client: ApiClient, node: NodeConfig, runtime: RuntimeService, network: NetworkPlugin,
                 images: ImageService, snapshots: Snapshotter, data_dir: Path, clock: Clock = REAL_CLOCK,
                 host_resolv_conf: str = "/etc/resolv.conf"):
        self.client = client
        self.node = node
        self.node_agent = NodeAgent(client, node)
        self.recorder = EventRecorder(client, "kubelet", node.name)
        self.status = StatusManager(client)
        self.starter = ContainerStarter(runtime, images, snapshots, ApiSources(client), data_dir / "logs",
                                        data_dir / "pods", {}, event=self.recorder.event)
        self.executor = PodExecutor(runtime, network, self.starter, VolumeManager(str(data_dir)), self.recorder,
                                    node.node_ip, clock, host_resolv_conf)
        self.pods = Informer(client, PODS, field_selector=f"spec.nodeName={node.name}")
        self.workers = PodWorkers(self._sync, clock=clock)
        self.pleg = Pleg(runtime, self.workers.poke, clock)
        self.syncer = PodSync(self._pod, self.pleg, self.executor, self.status, self.recorder, node.node_ip, clock)
        self.syncs = 0  # syncs run, for tests
        self._uid_keys: dict[str, str] = {}
        self.logs = LogFinder(runtime, self.pods)
        self.find_log = self.logs.find_log  # the agent server's LogSource
        self.pods.add_handlers(Handlers(on_add=self._pod_event, on_update=self._pod_update,
                                        on_delete=self._pod_event))

    # -- wiring -------------------------------------------------------------------------------------

    def _pod_event(self, pod: Obj) -> None:
        md = pod["metadata"]
        self._uid_keys[md["uid"]] = f"{md['namespace']}/{md['name']}"
        self.workers.poke(md["uid"])

    def _pod_update(self, old: Obj, new: Obj) -> None:
        if needs_sync(old, new):
            self._pod_event(new)

    def _pod(self, uid: str) -> Obj | None:
        key = self._uid_keys.get(uid)
        pod = self.pods.get(key) if key else None
        return pod if pod is not None and pod["metadata"]["uid"] == uid else None

    async def _sync(self, uid: str) -> float | None:
        self.syncs += 1
        return await self.syncer.sync(uid)

    async def run(self) -> None:
        tasks = [asyncio.create_task(self.node_agent.run())]
        try:
            await self.node_agent.registered.wait()
            self.starter.allocatable = dict(
                (await self.client.get(NODES, self.node.name))["status"].get("allocatable") or {})
            await self.pleg.relist()
            restore_backoff(self.syncer.backoff, self.pleg.all_containers())
            tasks.append(asyncio.create_task(self.pods.run()))
            await self.pods.synced.wait()
            # Only now: a sync before the informer has listed would take every pod for deleted.
            self.pleg.events = True
            for uid in self.pleg.uids():  # after a restart: every pod the runtime has, deleted or not
                self.workers.poke(uid)
            tasks.append(asyncio.create_task(self.pleg.run()))
            await asyncio.gather(*tasks)
        finally:
            await cancel_and_wait(tasks)
            await self.workers.stop()
