"""The clock seam: every decision that depends on time reads it here, so tests can move time.

`Clock` is what components take (`clock: Clock = REAL_CLOCK`): wall time as UNIX seconds (`now`)
or as an aware UTC datetime (`utcnow`, for API timestamps), `sleep`, and `call_later` (a timer
that runs a callback; work queues requeue with it). `FakeClock` stands still until a test moves it
with `advance` (or `set`); the timers whose time has come run then (sleeps are timers too), so a
five-minute backoff is tested in microseconds. `wait_for` is `asyncio.wait_for` on a clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

T = TypeVar("T")


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Wall time, UNIX seconds."""
        ...

    def utcnow(self) -> datetime:
        """Wall time as an aware UTC datetime."""
        ...

    async def sleep(self, seconds: float) -> None:
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` on the event loop `delay` seconds from now; `cancel()` the timer to drop it."""
        ...


class RealClock:
    def now(self) -> float:
        return time.time()

    def utcnow(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(delay, callback)


REAL_CLOCK: Clock = RealClock()


@dataclass(order=True)
class _FakeTimer:
    when: float
    order: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when told. `advance` runs every timer whose time has come, in time
    order, and lets the tasks it wakes run before it returns."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._timers: list[_FakeTimer] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    @property
    def sleepers(self) -> int:
        """How many timers and sleeps are pending (a test can wait until its subject waits)."""
        return sum(1 for timer in self._timers if not timer.cancelled)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        if delay <= 0:
            return asyncio.get_running_loop().call_soon(callback)
        timer = _FakeTimer(self._now + delay, next(self._order), callback)
        heapq.heappush(self._timers, timer)
        return timer

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await woken
        finally:
            timer.cancel()

    async def advance(self, seconds: float) -> None:
        await self.set(self._now + seconds)

    async def set(self, when: float) -> None:
        self._now = max(self._now, when)
        while self._timers and self._timers[0].when <= self._now:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.callback()
        # Let the woken tasks (and what they wake in turn) run before the test looks.
        for _ in range(5):
            await asyncio.sleep(0)


async def wait_for(clock: Clock, awaitable: Awaitable[T], timeout: float | None) -> T:
    """`asyncio.wait_for` with the timeout measured on `clock`; raises TimeoutError."""
    if timeout is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = clock.call_later(timeout, expire)
    try:
        return await task
    except asyncio.CancelledError:
        if expired:
            raise TimeoutError from None
        raise
    finally:
        timer.cancel()
