"""Storage: the Store seam and its backends, chosen by URL scheme.

`sqlite:///path/to/state.db` (the embedded default), `memory://` (tests). Backends register
themselves in `_BACKENDS`; `open_store` is the only entry point the rest of pocketkube uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from pocketkube.storage.base import (
    CompactedError,
    ConflictError,
    Event,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    Store,
    StoreError,
    Watch,
)

__all__ = [
    "CompactedError", "ConflictError", "Event", "FutureRevisionError", "KeyExistsError",
    "KeyNotFoundError", "KeyValue", "ListResult", "Store", "StoreError", "Watch", "open_store",
]


async def _open_memory(url: str) -> Store:
    from pocketkube.storage.memory import MemoryStore

    return MemoryStore()


async def _open_sqlite(url: str) -> Store:
    from pocketkube.storage.sqlite import SQLiteStore

    path = urlsplit(url).path
    return await SQLiteStore.open(path)


_BACKENDS: dict[str, Callable[[str], Awaitable[Store]]] = {
    "memory": _open_memory,
    "sqlite": _open_sqlite,
}


async def open_store(url: str) -> Store:
    scheme = urlsplit(url).scheme
    try:
        opener = _BACKENDS[scheme]
    except KeyError:
        raise ValueError(f"unknown store URL scheme {scheme!r} in {url!r}") from None
    return await opener(url)
