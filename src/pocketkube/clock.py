"""The clock seam: every decision that depends on time reads it here, so tests can move time.

`Clock` is what components take (`clock: Clock = REAL_CLOCK`): wall time as UNIX seconds (`now`)
or as an aware UTC datetime (`utcnow`, for API timestamps), and `sleep`. `FakeClock` stands still
until a test moves it with `advance` (or `set`); sleepers whose deadline has come are woken then,
so a five-minute backoff is tested in microseconds. `wait_for` is `asyncio.wait_for` on a clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> float:
        """Wall time, UNIX seconds."""
        ...

    def utcnow(self) -> datetime:
        """Wall time as an aware UTC datetime."""
        ...

    async def sleep(self, seconds: float) -> None:
        ...


class RealClock:
    def now(self) -> float:
        return time.time()

    def utcnow(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


REAL_CLOCK: Clock = RealClock()


class FakeClock:
    """A clock that moves only when told. `advance` wakes every sleeper whose time has come and
    lets the woken tasks run before it returns."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    @property
    def sleepers(self) -> int:
        """How many sleeps are pending (a test can wait until its subject sleeps)."""
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), fut))
        await fut

    async def advance(self, seconds: float) -> None:
        await self.set(self._now + seconds)

    async def set(self, when: float) -> None:
        self._now = max(self._now, when)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
        # Let the woken tasks (and what they wake in turn) run before the test looks.
        for _ in range(5):
            await asyncio.sleep(0)


async def wait_for(clock: Clock, awaitable: Awaitable[T], timeout: float | None) -> T:
    """`asyncio.wait_for` with the timeout measured on `clock`; raises TimeoutError."""
    if timeout is None:
        return await awaitable
    if isinstance(clock, RealClock):
        return await asyncio.wait_for(awaitable, timeout)
    task = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(clock.sleep(timeout))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        finished = task.done()
        if not finished:
            task.cancel()
    if finished:
        return task.result()
    raise TimeoutError
