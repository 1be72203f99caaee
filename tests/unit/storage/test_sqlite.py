"""SQLite-specific behaviour: crash durability, group commit, failed commits, locking, compaction."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from pocketkube.storage import open_store
from pocketkube.storage.base import ConflictError, StoreError
from pocketkube.storage.memory import MemoryStore
from pocketkube.storage.sqlite import SQLiteStore

_WRITER = """
import asyncio, sys
from pocketkube.storage.sqlite import SQLiteStore

async def main():
    store = await SQLiteStore.open(sys.argv[1])
    async def writer(n):
        i = 0
        while True:
            kv = await store.create(f"/crash/{n}/{i}", b"x" * 100)
            print(kv.key, kv.mod_revision, flush=True)
            i += 1
    await asyncio.gather(*(writer(n) for n in range(4)))

asyncio.run(main())
"""


async def test_kill_9_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WRITER, path, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    acked: list[tuple[str, int]] = []
    async with asyncio.timeout(10):
        while len(acked) < 2000:
            line = await proc.stdout.readline()
            assert line, "the writer died before it was killed"
            name, revision = line.decode().split()
            acked.append((name, int(revision)))
        proc.send_signal(signal.SIGKILL)
        for text in (await proc.stdout.read()).decode().splitlines():  # acknowledged before the kill
            if len(text.split()) == 2:  # a line cut by the kill was never acknowledged
                name, revision = text.split()
                acked.append((name, int(revision)))
        await proc.wait()
    store = await SQLiteStore.open(path)
    try:
        for key, rev in acked:
            kv = await store.get(key)
            assert kv is not None and kv.mod_revision == rev, key
        assert await store.current_revision() >= max(rev for _, rev in acked)
        assert (await store.create("/crash/after", b"")).mod_revision > max(rev for _, rev in acked)
    finally:
        await store.close()


async def test_writes_of_one_tick_share_one_transaction(tmp_path: Path) -> None:
    store = await SQLiteStore.open(str(tmp_path / "state.db"))
    try:
        watch = await store.watch("/k/")
        kvs = await asyncio.gather(*(store.create(f"/k/{i:03}", b"v") for i in range(200)))
        assert store.commits == 1 and store.writes == 200
        assert [kv.mod_revision for kv in kvs] == list(range(1, 201))
        batch = await anext(aiter(watch))
        assert len(batch) == 200  # dispatched together, after the commit
        started = time.perf_counter()
        for _ in range(10):
            await asyncio.gather(*(store.update(f"/k/{i:03}", b"w") for i in range(200)))
        rate = 2000 / (time.perf_counter() - started)
        print(f"sqlite group-committed updates: {rate:,.0f}/s")
    finally:
        await store.close()


async def test_failed_commit_fails_the_whole_batch_and_keeps_memory_behind_disk(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = await SQLiteStore.open(path)
    try:
        kv = await store.create("/k/a", b"1")
        # Another writer sneaks a row on top of /k/a's current row: the unique (name, prev_revision)
        # index must reject ours, and the store must adopt what is on disk.
        other = sqlite3.connect(path)
        other.execute("INSERT INTO log VALUES (50, '/k/a', 0, 0, ?, ?, ?)", (kv.create_revision, kv.mod_revision, b"x"))
        other.commit()
        other.close()
        watch = await store.watch("/k/")
        results = await asyncio.gather(store.update("/k/a", b"2"), store.create("/k/b", b"1"),
                                       return_exceptions=True)
        assert all(isinstance(r, StoreError) and "commit failed" in str(r) for r in results), results
        assert await store.get("/k/b") is None  # the innocent write of the batch failed too
        current = await store.get("/k/a")
        assert current is not None and current.value == b"x" and current.mod_revision == 50
        assert await store.current_revision() == 50
        try:
            await store.update("/k/a", b"3", expected_revision=kv.mod_revision)
            raise AssertionError("stale update succeeded")
        except ConflictError as e:
            assert e.current == current
        assert (await store.create("/k/b", b"1")).mod_revision == 51
        batch = await anext(aiter(watch))
        assert [e.revision for e in batch] == [51]  # nothing of the failed batch was dispatched
    finally:
        await store.close()


async def test_second_open_of_the_same_file_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = await SQLiteStore.open(path)
    with pytest.raises(StoreError, match="in use"):
        await SQLiteStore.open(path)
    await store.close()
    await (await SQLiteStore.open(path)).close()


async def test_compaction_deletes_superseded_rows(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    store = await SQLiteStore.open(path)
    try:
        for i in range(5):
            await store.create(f"/k/{i}", b"0")
            for v in range(1, 4):
                await store.update(f"/k/{i}", str(v).encode())
        await store.delete("/k/0")
        mark = await store.current_revision()
        await store.update("/k/1", b"late")
        await store.compact(mark)

        def rows() -> list[tuple[int, str]]:
            db = sqlite3.connect(path)
            try:
                return db.execute("SELECT id, name FROM log ORDER BY id").fetchall()
            finally:
                db.close()

        # /k/0 is gone entirely; /k/1 keeps its row as of `mark` plus the later one; others one row.
        assert [name for _, name in rows()] == ["/k/1", "/k/2", "/k/3", "/k/4", "/k/1"]
        await store.compact(await store.current_revision())
        assert sorted(name for _, name in rows()) == ["/k/1", "/k/2", "/k/3", "/k/4"]
    finally:
        await store.close()


@pytest.mark.parametrize("url_kind", ["memory", "sqlite"])
async def test_open_store_by_url(tmp_path: Path, url_kind: str) -> None:
    url = "memory://" if url_kind == "memory" else f"sqlite://{tmp_path}/sub/state.db"
    store = await open_store(url)
    try:
        assert isinstance(store, MemoryStore if url_kind == "memory" else SQLiteStore)
        await store.create("/a", b"1")
        assert (await store.get("/a")) is not None
    finally:
        await store.close()
    if url_kind == "sqlite":
        assert (tmp_path / "sub" / "state.db").exists()
