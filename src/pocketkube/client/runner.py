"""The loop every reconciling component runs: informers fill caches, workers drain a key queue.

`handle(key)` may return seconds after which the key is handled again (a deadline, a backoff
ending); one that raises is retried with the queue's per-key backoff (a 409 Conflict quietly: the
next run re-reads the object).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pocketkube.api import errors
from pocketkube.client.informer import Informer
from pocketkube.client.workqueue import ShutDown, WorkQueue
from pocketkube.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Handle = Callable[[str], Awaitable[float | None]]


async def work(queue: WorkQueue, handle: Handle, name: str) -> None:
    """One worker: keys from the queue until it shuts down."""
    while True:
        try:
            key = await queue.get()
        except ShutDown:
            return
        try:
            again = await handle(key)
            queue.forget(key)
            if again is not None:
                queue.add_after(key, again)
        except errors.StatusError as exc:
            if exc.code != 409:
                log.warning("%s: %s: %s", name, key, exc.message)
            queue.add_rate_limited(key)
        except Exception:
            log.exception("%s: %s failed", name, key)
            queue.add_rate_limited(key)
        finally:
            queue.done(key)


async def run_workers(informers: Sequence[Informer], queue: WorkQueue, handle: Handle, workers: int,
                      name: str) -> None:
    """Run informers; once all have synced, `workers` workers; stop everything when cancelled."""
    tasks = [asyncio.create_task(inf.run()) for inf in informers]
    pool: list[asyncio.Task[None]] = []
    try:
        for inf in informers:
            await inf.synced.wait()
        pool = [asyncio.create_task(work(queue, handle, name)) for _ in range(workers)]
        await asyncio.gather(*tasks)
    finally:
        queue.shutdown()
        await cancel_and_wait(tasks + pool)


async def until_signalled(work: Awaitable[Any]) -> None:
    """Run `work` in the foreground until it ends or SIGINT/SIGTERM cancels it (a command's main)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
