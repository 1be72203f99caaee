"""Store factories for the storage tests: one per backend."""

from __future__ import annotations

from pathlib import Path

from pocketkube.storage.base import Store
from pocketkube.storage.memory import MemoryStore
from pocketkube.storage.sqlite import SQLiteStore
from pocketkube.storage.testing import StoreFactory


def memory_factory(tmp_path: Path) -> StoreFactory:
    async def factory() -> Store:
        return MemoryStore()

    return factory


def sqlite_factory(tmp_path: Path) -> StoreFactory:
    async def factory() -> Store:  # the same file on every call, so a second call reopens
        return await SQLiteStore.open(str(tmp_path / "data" / "state.db"))

    return factory
