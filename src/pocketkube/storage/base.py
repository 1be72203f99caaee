"""The Store seam: a revisioned key-value log, shaped after etcd v3 as Kubernetes uses it.

Every write gets a new store-wide revision, strictly increasing; an object's resourceVersion is the
revision of its last write (`mod_revision`). Values are opaque bytes (JSON objects, written by the
API server without `metadata.resourceVersion`, which it sets from `mod_revision` on read).

Contract every backend passes (`storage.testing`):
- create fails with KeyExistsError if the key exists; update/delete with `expected_revision` fail
  with ConflictError unless it equals the key's current mod_revision (0 means "any").
- a returned write is durable: it survives a crash of the process right after.
- `watch(prefix, from_revision)` yields every event with revision > from_revision, for keys under the
  prefix, exactly once, in revision order; a compacted from_revision raises CompactedError.
- `list(prefix, revision=R)` reads as of revision R (0: the latest), for consistent pagination.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int


@dataclass(frozen=True, slots=True)
class Event:
    """One change. For DELETE, `kv` holds the last value with `mod_revision` = the delete's revision."""

    type: Literal["CREATE", "UPDATE", "DELETE"]
    kv: KeyValue
    prev: KeyValue | None  # the value before this change (None for CREATE)

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int  # the store revision this list reflects
    more: bool  # keys remain after the last item (only when a limit cut the list)
    remaining: int = 0  # how many keys remain, when known


class StoreError(Exception):
    pass


class KeyExistsError(StoreError):
    def __init__(self, key: str):
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFoundError(StoreError):
    def __init__(self, key: str):
        super().__init__(f"key not found: {key}")
        self.key = key


class ConflictError(StoreError):
    """The key's revision is not the expected one; `current` is what is there now."""

    def __init__(self, key: str, current: KeyValue | None):
        super().__init__(f"revision conflict: {key}")
        self.key = key
        self.current = current


class CompactedError(StoreError):
    def __init__(self, requested: int, compacted: int):
        super().__init__(f"revision {requested} is compacted (compacted up to {compacted})")
        self.requested = requested
        self.compacted = compacted


class FutureRevisionError(StoreError):
    def __init__(self, requested: int, current: int):
        super().__init__(f"revision {requested} is in the future (current {current})")
        self.requested = requested
        self.current = current


@runtime_checkable
class Watch(Protocol):
    """A stream of events; iterate it for batches (each non-empty, in revision order)."""

    def __aiter__(self) -> AsyncIterator[list[Event]]: ...

    def progress_revision(self) -> int:
        """A revision R such that every matching event ≤ R has been yielded already (for bookmarks)."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class Store(Protocol):
    async def get(self, key: str) -> KeyValue | None: ...

    async def list(self, prefix: str, *, start_after: str = "", limit: int = 0,
                   revision: int = 0) -> ListResult: ...

    async def count(self, prefix: str) -> int: ...

    async def create(self, key: str, value: bytes) -> KeyValue: ...

    async def update(self, key: str, value: bytes, expected_revision: int = 0) -> KeyValue: ...

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue: ...

    async def watch(self, prefix: str, from_revision: int = 0) -> Watch:
        """Events after from_revision (0: from the current revision on)."""
        ...

    async def current_revision(self) -> int: ...

    async def compacted_revision(self) -> int: ...

    async def compact(self, revision: int) -> None:
        """Forget history at or before `revision` (the latest value of each live key stays)."""
        ...

    async def close(self) -> None: ...
