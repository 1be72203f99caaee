"""The real node agent in-process, over the runtime, network and images fakes, on a fake clock.

`running_agent(tmp_path)` starts an in-process API server and the real `Kubelet` (PLEG, pod
workers, sync, executor, status manager, volumes on tmp_path) with `FakeRuntime`,
`FakeNetworkPlugin`, `FakeImageService`/`FakeSnapshotter` and a `FakeClock`: no root, no
processes. Containers "run" by argv (see runtime/fake.py: `fake-exit N`, `fake-trap-term N`, …);
the test ends them with `agent.runtime.exit_container` and moves time with `agent.tick()` (one
PLEG period) or `agent.clock.advance`. `agent.stop()` then `agent.start()` is an agent restart:
the new agent runs over the same fake host, where the containers kept running.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketkube.agent.kubelet import Kubelet
from pocketkube.agent.node import NodeConfig
from pocketkube.agent.pleg import RELIST_PERIOD
from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.clock import FakeClock
from pocketkube.images.base import ImageConfig
from pocketkube.images.fake import FakeImageService, FakeSnapshotter
from pocketkube.network.fake import FakeNetworkPlugin, FakeNetworkState
from pocketkube.runtime.base import ContainerStatus
from pocketkube.runtime.fake import FakeHost, FakeRuntime
from pocketkube.tasks import cancel_and_wait
from tests.support.inprocess import InProcessApi, inprocess_api
from tests.support.wait import until

PODS = resources.require("", "v1", "pods")
NODE = "node-1"
NODE_IP = "192.0.2.10"
IMAGE = "busybox:1.35"
PASSWD = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = b"root:x:0:\nnobody:x:65534:\n"


class CountingRuntime(FakeRuntime):
    """FakeRuntime that counts whole-runtime listings."""

    listings = 0

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        if sandbox_id is None:
            self.listings += 1
        return await super().list_containers(sandbox_id)


@dataclass
class AgentUnderTest:
    api: InProcessApi
    root: Path
    clock: FakeClock
    host: FakeHost
    network_state: FakeNetworkState
    images: FakeImageService
    snapshots: FakeSnapshotter
    runtime: CountingRuntime
    network: FakeNetworkPlugin
    kubelet: Kubelet
    task: asyncio.Task[None]

    # -- driving --------------------------------------------------------------------------------

    async def tick(self, periods: int = 1) -> None:
        """Move the clock by PLEG periods, one at a time (each relists and pokes what changed)."""
        for _ in range(periods):
            await self.clock.advance(RELIST_PERIOD)
            await asyncio.sleep(0.01)

    async def create(self, pod: Obj) -> Obj:
        pod.setdefault("metadata", {}).setdefault("namespace", "default")
        pod.setdefault("spec", {})["nodeName"] = NODE
        return await self.api.client.create(PODS, pod, pod["metadata"]["namespace"])

    async def get(self, name: str, namespace: str = "default") -> Obj | None:
        try:
            return await self.api.client.get(PODS, name, namespace)
        except errors.StatusError as exc:
            if exc.code == 404:
                return None
            raise

    async def status(self, name: str, namespace: str = "default") -> Obj:
        pod = await self.get(name, namespace)
        assert pod is not None, f"pod {namespace}/{name} is gone"
        return dict(pod.get("status") or {})

    async def until_status(self, name: str, check: Any, within: float = 5.0, namespace: str = "default") -> Obj:
        """Wait until `check(status)` holds for the pod's API status; returns that status."""
        async def holds() -> Obj | None:
            st = await self.status(name, namespace)
            return st if check(st) else None
        result: Obj = await until(holds, within=within)
        return result

    async def until_gone(self, name: str, namespace: str = "default", within: float = 5.0) -> None:
        async def gone() -> bool:
            return await self.get(name, namespace) is None
        await until(gone, within=within)

    def running(self, pod_uid: str, name: str) -> ContainerStatus:
        found = [c for c in self.host.containers.values()
                 if c.labels.get("io.kubernetes.pod.uid") == pod_uid
                 and c.labels.get("io.kubernetes.container.name") == name and c.state == "running"]
        assert len(found) == 1, (name, found)
        return found[0]

    async def settle(self) -> None:
        """Until every pod worker is idle (waiting for a poke or a timer)."""
        await until(lambda: not any(w.poked.is_set() for w in self.kubelet.workers._workers.values()),
                    within=5.0)
        await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop the agent; its containers keep running (on the fake host)."""
        await cancel_and_wait([self.task])

    async def start(self) -> None:
        """A new agent over the same host, data dir and network state: a restarted agent."""
        fresh = _start(self.api, self.root, self.clock, self.host, self.network_state, self.images, self.snapshots)
        self.runtime, self.network, self.kubelet, self.task = fresh
        await _ready(self.kubelet)


def _start(api: InProcessApi, root: Path, clock: FakeClock, host: FakeHost, network_state: FakeNetworkState,
           images: FakeImageService, snapshots: FakeSnapshotter,
           ) -> tuple[CountingRuntime, FakeNetworkPlugin, Kubelet, asyncio.Task[None]]:
    runtime = CountingRuntime(host, clock=clock.now, sleep=clock.sleep)
    network = FakeNetworkPlugin(network_state)
    node = NodeConfig(NODE, NODE_IP, network_state.cidr, root / "data")
    (root / "resolv.conf").write_text("nameserver 192.0.2.53\nsearch example.test\n")
    kubelet = Kubelet(api.client, node, runtime, network, images, snapshots, root / "data", clock=clock,
                      host_resolv_conf=str(root / "resolv.conf"))
    return runtime, network, kubelet, asyncio.create_task(kubelet.run())


async def _ready(kubelet: Kubelet) -> None:
    await asyncio.wait_for(kubelet.node_agent.registered.wait(), 5)
    await asyncio.wait_for(kubelet.pods.synced.wait(), 5)


@asynccontextmanager
async def running_agent(root: Path) -> AsyncIterator[AgentUnderTest]:
    clock = FakeClock()
    async with inprocess_api() as api:
        host = FakeHost(root=root / "sandboxes")
        (root / "sandboxes").mkdir(parents=True, exist_ok=True)
        images = FakeImageService(root / "images")
        images.add(IMAGE, config=ImageConfig(cmd=("sh",), env=("PATH=/bin",)),
                   files={"etc/passwd": PASSWD, "etc/group": GROUP})
        snapshots = FakeSnapshotter(root / "images")
        network_state = FakeNetworkState()
        runtime, network, kubelet, task = _start(api, root, clock, host, network_state, images, snapshots)
        agent = AgentUnderTest(api, root, clock, host, network_state, images, snapshots, runtime, network,
                               kubelet, task)
        try:
            await _ready(kubelet)
            yield agent
        finally:
            await cancel_and_wait([agent.task])


def container(name: str, *argv: str, **extra: Any) -> Obj:
    return {"name": name, "image": IMAGE, "command": list(argv or ("sleep",)), **extra}


def pod(name: str, containers: list[Obj], init: list[Obj] | None = None, restart_policy: str = "Always",
        **spec: Any) -> Obj:
    body: Obj = {"containers": containers, "restartPolicy": restart_policy, **spec}
    if init:
        body["initContainers"] = init
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": body}
