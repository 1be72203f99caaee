"""MemoryStore: the Store contract held entirely in memory (tests, throwaway servers).

State is a LiveIndex of live keys plus the event history since the compacted revision. A write
applies synchronously and is dispatched to watchers before the call returns. A historical list
starts from the live state and undoes newer events from the history, so recent revisions (the ones
paginating clients ask for) are cheap. `compact` drops history; nothing survives the process.
"""

from __future__ import annotations

from bisect import bisect_right

from pocketkube.storage._index import Events, LiveIndex, WriteOp, page, plan_write
from pocketkube.storage._watchers import DEFAULT_MAX_QUEUED, Watcher, WatchHub
from pocketkube.storage.base import (
    CompactedError,
    Event,
    FutureRevisionError,
    KeyValue,
    ListResult,
    StoreError,
)


def _revision_of(event: Event) -> int:
    return event.kv.mod_revision


class MemoryStore:
    def __init__(self, *, max_watch_queue: int = DEFAULT_MAX_QUEUED):
        self._live = LiveIndex()
        self._history: list[Event] = []  # every event with revision > self._compacted, in order
        self._revision = 0
        self._compacted = 0
        self._hub = WatchHub(0, max_watch_queue)
        self._closed = False

    async def get(self, key: str) -> KeyValue | None:
        return self._live.get(key)

    async def list(self, prefix: str, *, start_after: str = "", limit: int = 0,
                   revision: int = 0) -> ListResult:
        if not revision or revision == self._revision:
            return self._live.list(prefix, start_after, limit, self._revision)
        self._check_readable(revision)
        # Undo, newest first, every change after `revision` to keys under the prefix.
        state = {kv.key: kv for kv in self._live.list(prefix, "", 0, 0).items}
        start = bisect_right(self._history, revision, key=_revision_of)
        for event in reversed(self._history[start:]):
            if not event.kv.key.startswith(prefix):
                continue
            if event.prev is None:
                state.pop(event.kv.key, None)
            else:
                state[event.kv.key] = event.prev
        return page(sorted(state.values(), key=lambda kv: kv.key), prefix, start_after, limit, revision)

    async def count(self, prefix: str) -> int:
        return self._live.count(prefix)

    async def create(self, key: str, value: bytes) -> KeyValue:
        return self._write("create", key, value, 0)

    async def update(self, key: str, value: bytes, expected_revision: int = 0) -> KeyValue:
        return self._write("update", key, value, expected_revision)

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        return self._write("delete", key, b"", expected_revision)

    def _write(self, op: WriteOp, key: str, value: bytes, expected_revision: int) -> KeyValue:
        if self._closed:
            raise StoreError("store is closed")
        event = plan_write(op, key, value, expected_revision, self._live.get(key), self._revision + 1)
        self._revision = event.revision
        self._live.apply(event)
        self._history.append(event)
        self._hub.dispatch([event])
        return event.kv

    async def watch(self, prefix: str, from_revision: int = 0) -> Watcher:
        if self._closed:
            raise StoreError("store is closed")
        if from_revision and from_revision < self._compacted:
            raise CompactedError(from_revision, self._compacted)
        return self._hub.open(prefix, from_revision, self._revision, self._history_since)

    def _history_since(self, prefix: str, after: int, upto: int, limit: int) -> Events:
        if after < self._compacted:
            raise CompactedError(after, self._compacted)
        events: list[Event] = []
        for i in range(bisect_right(self._history, after, key=_revision_of), len(self._history)):
            event = self._history[i]
            if event.revision > upto or len(events) >= limit:
                break
            if event.kv.key.startswith(prefix):
                events.append(event)
        return events

    def _check_readable(self, revision: int) -> None:
        if revision < self._compacted:
            raise CompactedError(revision, self._compacted)
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)

    async def current_revision(self) -> int:
        return self._revision

    async def compacted_revision(self) -> int:
        return self._compacted

    async def compact(self, revision: int) -> None:
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)
        if revision <= self._compacted:
            return
        del self._history[:bisect_right(self._history, revision, key=_revision_of)]
        self._compacted = revision
        self._hub.compacted(revision)

    async def close(self) -> None:
        self._closed = True
        self._hub.close_all()
