"""One worker per pod: work on a pod is serialized, pods never wait for each other.

A worker sleeps until it is poked (the pod changed, a container exited) or until the time its last
sync asked to be woken (a backoff ending); it then runs one sync. A sync that raises is retried
with backoff; a sync that returns `FINISHED` ends the worker (the pod is gone for good).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from pocketkube.clock import REAL_CLOCK, Clock, wait_for
from pocketkube.tasks import cancel_and_wait

log = logging.getLogger(__name__)

FINISHED = -1.0  # a sync result: the pod is fully torn down, stop its worker
Sync = Callable[[str], Awaitable[float | None]]  # uid → seconds until the next sync (None: when poked)


class _Worker:
    def __init__(self) -> None:
        self.poked = asyncio.Event()
        self.task: asyncio.Task[None] | None = None


class PodWorkers:
    def __init__(self, sync: Sync, *, max_retry_delay: float = 10.0, clock: Clock = REAL_CLOCK):
        self._sync = sync
        self._clock = clock
        self._workers: dict[str, _Worker] = {}
        self._max_retry_delay = max_retry_delay

    def __contains__(self, uid: str) -> bool:
        return uid in self._workers

    def uids(self) -> list[str]:
        return list(self._workers)

    def poke(self, uid: str) -> None:
        worker = self._workers.get(uid)
        if worker is None:
            worker = self._workers[uid] = _Worker()
            worker.task = asyncio.create_task(self._run(uid, worker), name=f"pod-{uid}")
        worker.poked.set()

    async def _run(self, uid: str, worker: _Worker) -> None:
        failures = 0
        delay: float | None = None
        try:
            while True:
                if delay is None:
                    await worker.poked.wait()
                else:
                    with contextlib.suppress(TimeoutError):
                        await wait_for(self._clock, worker.poked.wait(), delay)
                worker.poked.clear()
                try:
                    delay = await self._sync(uid)
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception:
                    failures += 1
                    delay = min(self._max_retry_delay, 0.2 * 2 ** failures)
                    log.exception("sync of pod %s failed; retrying in %.1fs", uid, delay)
                    continue
                if delay == FINISHED:
                    return
        finally:
            if self._workers.get(uid) is worker:
                del self._workers[uid]

    async def stop(self) -> None:
        await cancel_and_wait(w.task for w in list(self._workers.values()) if w.task is not None)
