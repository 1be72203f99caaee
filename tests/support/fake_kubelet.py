"""A stand-in kubelet for component tests: binds pods to a node, reports them Running (and Ready), and
finishes graceful deletions — so controllers see pods come and go as on a real node, without one.

`ready(pod)` decides whether a pod becomes Ready (e.g. never for a broken image); `termination_delay`
is how long a deleted pod stays Terminating before it is gone, to test what controllers do meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.client.informer import Handlers, Informer, object_key
from pocketkube.tasks import cancel_and_wait

PODS = resources.require("", "v1", "pods")


class FakeKubelet:
    def __init__(self, client: ApiClient, node: str = "node-1", ready: Callable[[Obj], bool] = lambda _p: True,
                 termination_delay: float = 0.0):
        self.client = client
        self.node = node
        self.ready = ready
        self.termination_delay = termination_delay
        self.pods = Informer(client, PODS)
        self._keys: asyncio.Queue[str] = asyncio.Queue()
        self._busy: set[str] = set()
        self.pods.add_handlers(Handlers(on_add=self._add, on_update=lambda _o, n: self._add(n)))

    def _add(self, pod: Obj) -> None:
        self._keys.put_nowait(object_key(pod))

    async def run(self) -> None:
        informer = asyncio.create_task(self.pods.run())
        try:
            while True:
                key = await self._keys.get()
                if key not in self._busy:
                    self._busy.add(key)
                    asyncio.create_task(self._sync(key))
        finally:
            informer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await informer

    async def _sync(self, key: str) -> None:
        try:
            pod = self.pods.get(key)
            if pod is not None:
                await self._step(pod)
        except errors.StatusError:
            self._keys.put_nowait(key)  # raced with someone else: look again
        finally:
            self._busy.discard(key)

    async def _step(self, pod: Obj) -> None:
        md, ns = pod["metadata"], pod["metadata"].get("namespace")
        if md.get("deletionTimestamp"):
            await asyncio.sleep(self.termination_delay)
            with contextlib.suppress(errors.StatusError):
                await self.client.delete(PODS, md["name"], ns, grace_period=0)
            return
        if not (pod.get("spec") or {}).get("nodeName"):
            body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": md["name"]},
                    "target": {"kind": "Node", "name": self.node}}
            await self.client.request("POST", f"/api/v1/namespaces/{ns}/pods/{md['name']}/binding", body=body)
            return
        status = pod.get("status") or {}
        ready = self.ready(pod)
        if status.get("phase") == "Running" and _is_ready(pod) == ready:
            return
        now = meta.rfc3339(meta.now())
        flag = "True" if ready else "False"
        conditions = [{"type": t, "status": s, "lastTransitionTime": now}
                      for t, s in (("PodScheduled", "True"), ("Initialized", "True"), ("ContainersReady", flag),
                                   ("Ready", flag))]
        containers = [{"name": c["name"], "image": c.get("image", ""), "ready": ready, "restartCount": 0,
                       "started": True, "state": {"running": {"startedAt": now}}}
                      for c in (pod.get("spec") or {}).get("containers") or []]
        patch = {"status": {"phase": "Running", "conditions": conditions, "containerStatuses": containers,
                            "startTime": status.get("startTime") or now, "podIP": "10.0.0.1"}}
        await self.client.patch(PODS, md["name"], patch, ns, subresource="status")


def _is_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


@contextlib.asynccontextmanager
async def running(*runnables: Any) -> AsyncIterator[None]:
    """Run each object's `run()` in the background for the duration of the block."""
    tasks = [asyncio.create_task(r.run()) for r in runnables]
    try:
        yield
    finally:
        await cancel_and_wait(tasks)
