"""Watch fan-out edge cases, run against both backends: overflow, paging, compaction, close."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from pocketkube.storage._watchers import REPLAY_PAGE
from pocketkube.storage.base import Store, Watch
from pocketkube.storage.memory import MemoryStore
from pocketkube.storage.sqlite import SQLiteStore
from pocketkube.storage.testing import collect

Opener = Callable[[int], Awaitable[Store]]


@pytest.fixture(params=["memory", "sqlite"])
def open_with_queue(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    async def opener(max_queued: int) -> Store:
        if request.param == "memory":
            return MemoryStore(max_watch_queue=max_queued)
        return await SQLiteStore.open(str(tmp_path / "state.db"), max_watch_queue=max_queued)

    return opener


async def _drain(watch: Watch) -> list[int]:
    revisions: list[int] = []
    async with asyncio.timeout(2):
        async for batch in watch:
            revisions += [e.revision for e in batch]
    return revisions


async def test_a_watcher_that_falls_behind_is_ended_not_waited_for(open_with_queue: Opener) -> None:
    store = await open_with_queue(5)
    try:
        slow = await store.watch("/k/")
        keeping_up = await store.watch("/k/")
        for i in range(5):
            await store.create(f"/k/{i}", b"v")
        assert [e.kv.key for e in await collect(keeping_up, 5)] == [f"/k/{i}" for i in range(5)]
        for i in range(5, 8):  # the slow one is now 8 behind, over its bound of 5
            await store.create(f"/k/{i}", b"v")
        assert await _drain(slow) == []
        assert len(await collect(keeping_up, 3)) == 3
    finally:
        await store.close()


async def test_replay_pages_through_long_history(open_with_queue: Opener) -> None:
    store = await open_with_queue(10)  # the bound is for live events, not for the replay
    try:
        await asyncio.gather(*(store.create(f"/k/{i:05}", b"v") for i in range(REPLAY_PAGE * 2 + 10)))
        watch = await store.watch("/k/", 5)
        first = await anext(aiter(watch))
        assert len(first) == REPLAY_PAGE and first[0].revision == 6
        assert watch.progress_revision() == first[-1].revision
        rest = await collect(watch, REPLAY_PAGE + 5)
        assert [e.revision for e in first + rest] == list(range(6, REPLAY_PAGE * 2 + 11))
        await watch.close()
    finally:
        await store.close()


async def test_compaction_ends_a_watcher_still_replaying(open_with_queue: Opener) -> None:
    store = await open_with_queue(100)
    try:
        for i in range(5):
            await store.create(f"/k/{i}", b"v")
        replaying = await store.watch("/k/", 1)
        live = await store.watch("/k/")
        await store.compact(4)
        assert await _drain(replaying) == []  # it would have missed revisions 2..4
        await store.create("/k/x", b"v")
        assert [e.revision for e in await collect(live, 1)] == [6]
    finally:
        await store.close()


async def test_watch_from_a_future_revision_starts_after_it(open_with_queue: Opener) -> None:
    store = await open_with_queue(100)
    try:
        await store.create("/k/a", b"v")
        watch = await store.watch("/k/", 3)
        for i in range(4):
            await store.create(f"/k/{i}", b"v")
        assert [e.revision for e in await collect(watch, 2)] == [4, 5]
    finally:
        await store.close()


async def test_closing_the_store_ends_every_watch(open_with_queue: Opener) -> None:
    store = await open_with_queue(100)
    watches = [await store.watch(prefix) for prefix in ("/a/", "/a/", "/b/", "")]
    readers = [asyncio.create_task(_drain(w)) for w in watches]
    await store.create("/a/x", b"v")
    await asyncio.sleep(0.01)
    await store.close()
    assert await asyncio.gather(*readers) == [[1], [1], [], [1]]
