"""The live-key index and write planning shared by the in-process backends.

Both the memory and the SQLite backend keep every live key in memory (key → KeyValue, plus a sorted
key list), because the API server reads the latest state far more often than it writes: a get is a
dict lookup, a prefix list or count is two bisections. Key order is Python's code-point order, which
is also SQLite's BINARY collation order over UTF-8, so in-memory and on-disk lists agree.

`plan_write` is the pure compare-and-swap rule: given what a key holds now, it either returns the
Event a write produces at the next revision or raises the error the caller must see.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Literal

from pocketkube.storage.base import (
    ConflictError,
    Event,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
)

WriteOp = Literal["create", "update", "delete"]
KeyValues = list[KeyValue]  # an alias: inside classes with a `list` method, `list[...]` means the method
Events = list[Event]


def prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (None: no upper bound)."""
    if not prefix or ord(prefix[-1]) >= 0x10FFFF:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def plan_write(op: WriteOp, key: str, value: bytes, expected_revision: int,
               current: KeyValue | None, revision: int) -> Event:
    """The event `op` makes at `revision`, or the StoreError it fails with against `current`."""
    if op == "create":
        if current is not None:
            raise KeyExistsError(key)
        return Event("CREATE", KeyValue(key, value, revision, revision), None)
    if current is None:
        raise KeyNotFoundError(key)
    if expected_revision and expected_revision != current.mod_revision:
        raise ConflictError(key, current)
    if op == "update":
        return Event("UPDATE", KeyValue(key, value, current.create_revision, revision), current)
    # A delete event carries the last value, stamped with the delete's revision (etcd's prev_kv shape).
    return Event("DELETE", KeyValue(key, current.value, current.create_revision, revision), current)


class LiveIndex:
    """Every live key's latest KeyValue, with sorted keys for prefix ranges."""

    def __init__(self) -> None:
        self._kvs: dict[str, KeyValue] = {}
        self._keys: list[str] = []

    def __len__(self) -> int:
        return len(self._kvs)

    def get(self, key: str) -> KeyValue | None:
        return self._kvs.get(key)

    def apply(self, event: Event) -> None:
        key = event.kv.key
        if event.type == "DELETE":
            if self._kvs.pop(key, None) is not None:
                del self._keys[bisect_left(self._keys, key)]
            return
        if key not in self._kvs:
            insort(self._keys, key)
        self._kvs[key] = event.kv

    def _range(self, prefix: str, start_after: str) -> tuple[int, int]:
        lo = bisect_left(self._keys, prefix)
        end = prefix_end(prefix)
        hi = len(self._keys) if end is None else bisect_left(self._keys, end)
        if start_after:
            lo = max(lo, bisect_right(self._keys, start_after))
        return lo, max(lo, hi)

    def count(self, prefix: str) -> int:
        lo, hi = self._range(prefix, "")
        return hi - lo

    def list(self, prefix: str, start_after: str, limit: int, revision: int) -> ListResult:
        lo, hi = self._range(prefix, start_after)
        more = bool(limit) and hi - lo > limit
        stop = lo + limit if more else hi
        items = [self._kvs[k] for k in self._keys[lo:stop]]
        return ListResult(items, revision, more, hi - stop)

    def items(self) -> KeyValues:
        return [self._kvs[k] for k in self._keys]


def page(kvs: list[KeyValue], prefix: str, start_after: str, limit: int, revision: int) -> ListResult:
    """Cut a name-sorted list of KeyValues the way LiveIndex.list does (for historical reads)."""
    selected = [kv for kv in kvs if kv.key.startswith(prefix) and kv.key > start_after]
    more = bool(limit) and len(selected) > limit
    items = selected[:limit] if more else selected
    return ListResult(items, revision, more, len(selected) - len(items))
