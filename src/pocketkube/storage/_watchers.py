"""Watch fan-out shared by the in-process backends.

A backend owns one `WatchHub` and calls `hub.dispatch(events)` with each committed batch, in revision
order, from the event-loop thread. `hub.open(...)` registers a `Watcher` *before* history is read, so
no event can fall between the replay and the live stream:

- the watcher first pages history through the backend's `HistoryFetch` over (from_revision, R], where
  R is the revision at registration; meanwhile live events (all > R) queue up behind it;
- then it yields the queued live events.

Writers never wait for a watcher: each watcher's queue is bounded, and a watcher that falls more
than `max_queued` events behind is terminated (its iterator ends; the client re-watches from the
last revision it saw). A watcher whose history is compacted away mid-replay ends the same way.
Watchers with the same prefix share one filtered list per dispatch.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable

from pocketkube.storage.base import CompactedError, Event

# (prefix, after, upto, limit) → matching events with after < revision ≤ upto, in order, at most
# `limit`; raises CompactedError if `after` has been compacted.
HistoryFetch = Callable[[str, int, int, int], list[Event]]

REPLAY_PAGE = 1000
DEFAULT_MAX_QUEUED = 10_000


class Watcher:
    """One registered watch; implements the `Watch` protocol."""

    def __init__(self, hub: WatchHub, prefix: str, from_revision: int, current: int,
                 fetch: HistoryFetch, max_queued: int):
        self._hub = hub
        self.prefix = prefix
        self._fetch = fetch
        self._max_queued = max_queued
        # Live events at or below this revision are not ours (only for a watch from the future).
        self._after = from_revision
        self._replay_cursor = from_revision
        self._replay_upto = current
        self._progress = from_revision
        self._queue: deque[list[Event]] = deque()
        self._queued = 0
        self._wakeup = asyncio.Event()
        self.closed = False
        self.terminated = False  # ended by the store (overflow, compaction), not by close()

    def deliver(self, events: list[Event]) -> None:
        if self.closed:
            return
        if events[0].revision <= self._after:
            events = [e for e in events if e.revision > self._after]
            if not events:
                return
        self._queued += len(events)
        if self._queued > self._max_queued:
            self.terminate()
            return
        self._queue.append(events)
        self._wakeup.set()

    def terminate(self) -> None:
        self.terminated = True
        self._end()

    def _end(self) -> None:
        self.closed = True
        self._queue.clear()
        self._queued = 0
        self._hub.remove(self)
        self._wakeup.set()

    @property
    def replaying(self) -> bool:
        return self._replay_cursor < self._replay_upto

    def replays_below(self, revision: int) -> bool:
        """Whether this watcher still has to read history at or below `revision`."""
        return self.replaying and self._replay_cursor < revision

    def __aiter__(self) -> AsyncIterator[list[Event]]:
        return self

    async def __anext__(self) -> list[Event]:
        while not self.closed:
            if self.replaying:
                try:
                    events = self._fetch(self.prefix, self._replay_cursor, self._replay_upto, REPLAY_PAGE)
                except CompactedError:
                    self.terminate()
                    break
                full = len(events) >= REPLAY_PAGE
                self._replay_cursor = events[-1].revision if full else self._replay_upto
                self._progress = self._replay_cursor
                if events:
                    return events
                continue
            if self._queue:
                batch = [e for chunk in self._queue for e in chunk]
                self._queue.clear()
                self._queued = 0
                self._progress = max(self._progress, batch[-1].revision)
                return batch
            self._wakeup.clear()
            await self._wakeup.wait()
        raise StopAsyncIteration

    def progress_revision(self) -> int:
        if self.closed or self.replaying:
            return self._progress
        if self._queue:
            return max(self._progress, self._queue[0][0].revision - 1)
        return max(self._progress, self._hub.revision)

    async def close(self) -> None:
        if not self.closed:
            self._end()


class WatchHub:
    """The set of live watchers of one store, grouped by prefix."""

    def __init__(self, revision: int, max_queued: int = DEFAULT_MAX_QUEUED):
        self.revision = revision  # the last revision dispatched (every watcher has seen up to it)
        self.max_queued = max_queued
        self._by_prefix: dict[str, set[Watcher]] = {}

    def open(self, prefix: str, from_revision: int, current: int, fetch: HistoryFetch) -> Watcher:
        """Register a watcher for events > from_revision; `current` is the last committed revision."""
        start = from_revision if from_revision else current
        watcher = Watcher(self, prefix, start, current, fetch, self.max_queued)
        self._by_prefix.setdefault(prefix, set()).add(watcher)
        return watcher

    def remove(self, watcher: Watcher) -> None:
        group = self._by_prefix.get(watcher.prefix)
        if group is not None:
            group.discard(watcher)
            if not group:
                del self._by_prefix[watcher.prefix]

    def watchers(self) -> list[Watcher]:
        return [w for group in self._by_prefix.values() for w in group]

    def dispatch(self, events: list[Event]) -> None:
        if not events:
            return
        self.revision = events[-1].revision
        for prefix, group in list(self._by_prefix.items()):
            matched = [e for e in events if e.kv.key.startswith(prefix)] if prefix else events
            if matched:
                for watcher in list(group):
                    watcher.deliver(matched)

    def compacted(self, revision: int) -> None:
        """End watchers still replaying history that `revision` compaction just removed."""
        for watcher in self.watchers():
            if watcher.replays_below(revision):
                watcher.terminate()

    def close_all(self) -> None:
        for watcher in self.watchers():
            watcher.terminate()
