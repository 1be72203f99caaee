"""SQLiteStore: the embedded default Store, a kine-style revision log in one SQLite file.

Everything runs on the event-loop thread with the stdlib sqlite3 module, so the in-memory state
below is only ever touched by one thread and needs no locks:

- `_live` (LiveIndex) is the committed latest state; get, list at revision 0 and count are served
  from it and never touch the disk.
- A write is checked against the committed state overlaid with the not-yet-committed writes of this
  tick (`_pending`), gets the next revision, and joins `_batch`. The first write of a tick schedules
  `_flush` with loop.call_soon, so every write issued in the same tick lands in ONE transaction
  (group commit). Only after COMMIT returns does `_flush` apply the batch to `_live`, resolve the
  writers' futures and dispatch the events to watchers: an acknowledged write is on disk, and no
  reader or watcher ever sees a write that might still fail.
- If the commit fails, every write of the batch fails and the in-memory state is reloaded from the
  file, so it is never ahead of the disk.

A lock file (`<db>.lock`, flock) keeps a second process from opening the same store, since each
process's in-memory index would silently diverge; the kernel drops the lock if the process dies.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3

from pocketkube.storage._index import Events, WriteOp, plan_write
from pocketkube.storage._watchers import DEFAULT_MAX_QUEUED, Watcher, WatchHub
from pocketkube.storage.base import (
    CompactedError,
    Event,
    FutureRevisionError,
    KeyValue,
    ListResult,
    StoreError,
)
from pocketkube.storage.sqlite import log, schema


class SQLiteStore:
    def __init__(self, db: sqlite3.Connection, lock_fd: int, max_watch_queue: int):
        self._db = db
        self._lock_fd = lock_fd
        self._closed = False
        self._pending: dict[str, tuple[KeyValue | None, int]] = {}  # key → (uncommitted kv, its row)
        self._batch: list[tuple[Event, int, asyncio.Future[KeyValue]]] = []
        self._flush_handle: asyncio.Handle | None = None
        self.commits = 0  # transactions committed (group commit makes this < writes)
        self.writes = 0
        self._reload()
        self._hub = WatchHub(self._revision, max_watch_queue)

    @classmethod
    async def open(cls, path: str, *, max_watch_queue: int = DEFAULT_MAX_QUEUED) -> SQLiteStore:
        if os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise StoreError(f"store {path} is in use by another process") from None
        try:
            return cls(schema.connect(path), lock_fd, max_watch_queue)
        except BaseException:
            os.close(lock_fd)
            raise

    def _reload(self) -> None:
        state = schema.load(self._db)
        self._live = state.live
        self._tombstones = state.tombstones
        self._revision = state.revision  # last committed revision
        self._next = state.revision  # last assigned revision (committed or pending)
        self._compacted = state.compacted

    # -- reads: the latest state from memory, the past from the log ---------------------------------

    async def get(self, key: str) -> KeyValue | None:
        return self._live.get(key)

    async def list(self, prefix: str, *, start_after: str = "", limit: int = 0,
                   revision: int = 0) -> ListResult:
        if not revision or revision == self._revision:
            return self._live.list(prefix, start_after, limit, self._revision)
        self._check_readable(revision)
        return log.list_at(self._db, prefix, start_after, limit, revision)

    async def count(self, prefix: str) -> int:
        return self._live.count(prefix)

    def _check_readable(self, revision: int) -> None:
        if revision < self._compacted:
            raise CompactedError(revision, self._compacted)
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)

    async def current_revision(self) -> int:
        return self._revision

    async def compacted_revision(self) -> int:
        return self._compacted

    # -- writes: group commit ------------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> KeyValue:
        return await self._write("create", key, value, 0)

    async def update(self, key: str, value: bytes, expected_revision: int = 0) -> KeyValue:
        return await self._write("update", key, value, expected_revision)

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        return await self._write("delete", key, b"", expected_revision)

    def _write(self, op: WriteOp, key: str, value: bytes, expected_revision: int) -> asyncio.Future[KeyValue]:
        if self._closed:
            raise StoreError("store is closed")
        if key in self._pending:
            current, last_row = self._pending[key]
        else:
            current = self._live.get(key)
            last_row = current.mod_revision if current else self._tombstones.get(key, 0)
        event = plan_write(op, key, value, expected_revision, current, self._next + 1)
        self._next = event.revision
        self._pending[key] = (None if event.type == "DELETE" else event.kv, event.revision)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[KeyValue] = loop.create_future()
        self._batch.append((event, last_row, future))
        if self._flush_handle is None:
            self._flush_handle = loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        self._pending = {}
        self._flush_handle = None
        if not batch:
            return
        try:
            log.append(self._db, [log.row_of(event, prev_row) for event, prev_row, _ in batch])
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(StoreError(f"commit failed: {exc}"))
            self._reload()  # the file is the truth; drop whatever this batch assumed
            return
        events = []
        for event, _, future in batch:
            self._live.apply(event)
            if event.type == "DELETE":
                self._tombstones[event.kv.key] = event.revision
            else:
                self._tombstones.pop(event.kv.key, None)
            events.append(event)
            if not future.done():  # a cancelled writer's write still happened
                future.set_result(event.kv)
        self._revision = events[-1].revision
        self.commits += 1
        self.writes += len(events)
        self._hub.dispatch(events)

    # -- watch and compaction ------------------------------------------------------------------------

    async def watch(self, prefix: str, from_revision: int = 0) -> Watcher:
        if self._closed:
            raise StoreError("store is closed")
        if from_revision and from_revision < self._compacted:
            raise CompactedError(from_revision, self._compacted)
        return self._hub.open(prefix, from_revision, self._revision, self._history)

    def _history(self, prefix: str, after: int, upto: int, limit: int) -> Events:
        if after < self._compacted:
            raise CompactedError(after, self._compacted)
        return log.events(self._db, prefix, after, upto, limit)

    async def compact(self, revision: int) -> None:
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)
        if revision <= self._compacted:
            return
        log.compact(self._db, self._compacted, revision)
        self._compacted = revision
        self._tombstones = {k: rev for k, rev in self._tombstones.items() if rev > revision}
        self._hub.compacted(revision)

    async def close(self) -> None:
        if self._closed:
            return
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush()  # writes already issued are committed, not dropped
        self._closed = True
        self._hub.close_all()
        self._db.close()
        os.close(self._lock_fd)
