"""A work queue of object keys, as client-go's: one worker per key at a time, retries with backoff.

A key added while it is being processed is handed out again once `done` is called, never to two
workers at once; adding a key that is already waiting does nothing (keys, not events, are queued:
reconcile reads the current state anyway).

`add_after` is a timer on the queue's clock (a deadline, minReadySeconds running out), so a test
that moves a fake clock fires it; `cancel_after` drops one that no longer applies. Retries after a failure
(`add_rate_limited`) always wait in real time: a fake clock must never hold back a retry.
"""

from __future__ import annotations

import asyncio
from collections import deque

from pocketkube.clock import REAL_CLOCK, Clock, Timer


class ShutDown(Exception):
    pass


class WorkQueue:
    def __init__(self, base_delay: float = 0.005, max_delay: float = 300.0, clock: Clock = REAL_CLOCK):
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._failures: dict[str, int] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._waits: dict[str, tuple[float, Timer]] = {}  # add_after: key → (when, on the clock; its timer)
        self._wakeup = asyncio.Event()
        self._shutting_down = False
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: str) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._wakeup.set()

    def add_after(self, key: str, delay: float) -> None:
        """Add `delay` seconds later on the clock; an earlier pending add_after of the same key wins."""
        if delay <= 0:
            self.add(key)
            return
        when = self.clock.now() + delay
        pending = self._waits.get(key)
        if pending is not None:
            if pending[0] <= when:
                return
            pending[1].cancel()
        self._waits[key] = (when, self.clock.call_later(delay, lambda: self._woken(key)))

    def _woken(self, key: str) -> None:
        self._waits.pop(key, None)
        self.add(key)

    def cancel_after(self, key: str) -> None:
        """Drop a pending add_after of `key` (what it waited for no longer applies)."""
        pending = self._waits.pop(key, None)
        if pending is not None:
            pending[1].cancel()

    def _add_later(self, key: str, delay: float) -> None:
        """Add `delay` real seconds later, on a loop timer."""
        loop = asyncio.get_running_loop()
        existing = self._timers.get(key)
        when = loop.time() + delay
        if existing is not None:
            if existing.when() <= when:
                return
            existing.cancel()
        self._timers[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: str) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: str) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self._add_later(key, min(self.max_delay, self.base_delay * (2 ** failures)))

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> str:
        while not self._queue:
            if self._shutting_down:
                raise ShutDown()
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wakeup.set()

    def shutdown(self) -> None:
        self._shutting_down = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for _, wait in self._waits.values():
            wait.cancel()
        self._waits.clear()
        self._wakeup.set()
