"""Which container's log `kubectl logs` reads, and whether it is still being written.

The agent's HTTPS endpoint asks this; the answer follows the pod's API status as the kubelet's
validateContainerLogStatus does, so `--previous` is the container `lastState` names.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pocketkube.agent import labels
from pocketkube.agent.actions import name_of
from pocketkube.agent.server import LogTarget
from pocketkube.api.obj import Obj
from pocketkube.client.informer import Informer
from pocketkube.runtime.base import ContainerState, RuntimeService, RuntimeServiceError


class LogFinder:
    def __init__(self, runtime: RuntimeService, pods: Informer):
        self.runtime = runtime
        self.pods = pods

    async def find_log(self, namespace: str, pod: str, container: str, previous: bool) -> LogTarget | None:
        found = [c for c in await self.runtime.list_containers()
                 if labels.pod_key(c.labels) == (namespace, pod) and name_of(c) == container]
        found.sort(key=lambda c: (c.created_at, c.attempt), reverse=True)
        obj = self.pods.get(f"{namespace}/{pod}")
        if obj is not None:
            # As the kubelet does: the container the API status names (lastState for --previous).
            wanted = log_container_id(obj, container, previous)
            found = [c for c in found if c.id == wanted]
        elif previous:
            found = found[1:]
        if not found or not found[0].log_path:
            return None
        target = found[0]
        running = asyncio.Event()
        if target.state == ContainerState.RUNNING:
            running.set()
            asyncio.get_running_loop().create_task(self._watch_exit(target.id, running))
        return LogTarget(Path(target.log_path), running)

    async def _watch_exit(self, cid: str, running: asyncio.Event) -> None:
        while running.is_set():
            await asyncio.sleep(0.5)
            try:
                if (await self.runtime.container_status(cid)).state != ContainerState.RUNNING:
                    running.clear()
            except RuntimeServiceError:
                running.clear()


def log_container_id(pod: Obj, container: str, previous: bool) -> str:
    """The runtime container whose log `kubectl logs` shows: the kubelet's validateContainerLogStatus
    (running or terminated state, else the last termination; `previous` is always the last
    termination). "" when there is none."""
    status = pod.get("status") or {}
    found = next((s for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
                  for s in status.get(key) or [] if s.get("name") == container), None)
    if found is None:
        return ""
    state, last = found.get("state") or {}, (found.get("lastState") or {}).get("terminated") or {}
    if previous:
        cid = last.get("containerID") or ""
    elif "running" in state:
        cid = found.get("containerID") or ""
    elif "terminated" in state:
        cid = state["terminated"].get("containerID") or last.get("containerID") or ""
    else:
        cid = last.get("containerID") or ""
    return str(cid).split("://", 1)[-1]
