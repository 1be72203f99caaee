"""The PLEG (pod lifecycle event generator) and the per-pod runtime cache it fills.

One relist reads the whole runtime once (sandboxes and containers) and replaces the cache with a
view per pod uid; every pod sync reads its view from the cache instead of listing the runtime
itself, as the kubelet's `GetNewerThan` does. Each relist compares container and sandbox states
with the previous one and pokes the pods that changed (a container exited, a sandbox went away).

Relists are numbered. A worker that has just changed its pod asks for `fresh(uid)`: a view from
a relist that started after the call, so it sees its own changes. Concurrent callers share one
relist; the periodic one (every `period` seconds on the clock) is the same code path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pocketkube.agent import labels
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.runtime.base import ContainerStatus, RuntimeService, RuntimeServiceError, Sandbox

log = logging.getLogger(__name__)

RELIST_PERIOD = 1.0


@dataclass(frozen=True)
class PodRuntime:
    """What the runtime has of one pod: its sandboxes, newest first, and all its containers."""

    sandboxes: tuple[Sandbox, ...] = ()
    containers: tuple[ContainerStatus, ...] = ()

    @property
    def sandbox(self) -> Sandbox | None:
        return self.sandboxes[0] if self.sandboxes else None


@dataclass
class _Relist:
    number: int
    ok: bool = False
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def group_by_pod(sandboxes: Iterable[Sandbox], containers: Iterable[ContainerStatus]) -> dict[str, PodRuntime]:
    boxes: dict[str, list[Sandbox]] = {}
    for sandbox in sandboxes:
        boxes.setdefault(sandbox.config.uid, []).append(sandbox)
    found: dict[str, list[ContainerStatus]] = {}
    for cs in containers:
        uid = labels.pod_uid(cs.labels)
        if uid:
            found.setdefault(uid, []).append(cs)
    return {uid: PodRuntime(tuple(sorted(boxes.get(uid, []), key=lambda s: s.created_at, reverse=True)),
                            tuple(found.get(uid, [])))
            for uid in boxes.keys() | found.keys()}


def _states(pods: dict[str, PodRuntime]) -> dict[str, tuple[str, str]]:
    """id → (pod uid, state), for sandboxes and containers alike."""
    out: dict[str, tuple[str, str]] = {}
    for uid, view in pods.items():
        for sandbox in view.sandboxes:
            out[sandbox.id] = (uid, str(sandbox.state))
        for cs in view.containers:
            out[cs.id] = (uid, str(cs.state))
    return out


class Pleg:
    def __init__(self, runtime: RuntimeService, poke: Callable[[str], None], clock: Clock = REAL_CLOCK,
                 period: float = RELIST_PERIOD) -> None:
        self.runtime = runtime
        self.poke = poke
        self.clock = clock
        self.period = period
        # Off until the agent knows its pods: a worker poked before the pod informer has listed
        # would take every pod for deleted. The agent pokes every pod itself when it turns them on.
        self.events = False
        self._pods: dict[str, PodRuntime] = {}
        self._seen: dict[str, tuple[str, str]] = {}
        self._started = 0
        self._running: _Relist | None = None

    def get(self, uid: str) -> PodRuntime:
        """The pod's view as of the last relist."""
        return self._pods.get(uid) or PodRuntime()

    def uids(self) -> list[str]:
        return list(self._pods)

    def all_containers(self) -> list[ContainerStatus]:
        return [cs for view in self._pods.values() for cs in view.containers]

    def forget_containers(self, uid: str, ids: Iterable[str]) -> None:
        """The caller removed these containers: drop them from the view without a relist."""
        view = self._pods.get(uid)
        if view is not None:
            gone = set(ids)
            self._pods[uid] = PodRuntime(view.sandboxes, tuple(c for c in view.containers if c.id not in gone))

    def forget_pod(self, uid: str) -> None:
        self._pods.pop(uid, None)
        self._seen = {k: v for k, v in self._seen.items() if v[0] != uid}

    async def fresh(self, uid: str) -> PodRuntime:
        """The pod's view from a relist that started after this call."""
        await self.relist(after=self._started)
        return self.get(uid)

    async def relist(self, after: int | None = None) -> None:
        """Run a relist numbered above `after` (default: any new one), sharing one that is running."""
        wanted = self._started + 1 if after is None else after + 1
        while True:
            running = self._running
            if running is None:
                await self._relist()
                return
            await asyncio.shield(running.done)
            if running.ok and running.number >= wanted:
                return
            # Too old for this caller, or it failed: the next one is this caller's own.

    async def _relist(self) -> None:
        self._started += 1
        current = self._running = _Relist(self._started)
        try:
            sandboxes = await self.runtime.list_pod_sandboxes()
            containers = await self.runtime.list_containers()
            self._pods = group_by_pod(sandboxes, containers)
            current.ok = True
            self._emit_events()
        finally:
            self._running = None
            current.done.set_result(None)

    def _emit_events(self) -> None:
        seen = _states(self._pods)
        changed = {uid for key, (uid, state) in seen.items() if self._seen.get(key, ("", ""))[1] != state}
        changed |= {uid for key, (uid, _state) in self._seen.items() if key not in seen}
        self._seen = seen
        if not self.events:
            return
        # The worker whose own changes these are is poked too, as in the kubelet: its next sync
        # finds nothing to do unless something else changed meanwhile (a container that exited).
        for uid in changed:
            self.poke(uid)

    async def run(self) -> None:
        """Relist every `period` seconds, for ever."""
        while True:
            await self.clock.sleep(self.period)
            try:
                await self.relist()
            except RuntimeServiceError as exc:
                log.warning("PLEG relist failed: %s", exc)
