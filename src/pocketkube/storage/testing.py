"""The Store conformance suite: every backend (memory, sqlite, a future etcd) must pass every check.

Each `check_*` is an async function taking a `store_factory` (an async callable returning an open
Store) and raising AssertionError on a violation. Checks do not assume an empty store or a revision
that starts at 1: each works under its own random key prefix, so a factory may hand out a shared
server. `check_reopen` needs a factory that reopens the same data on every call (persistent backends).
Run them all with `CHECKS`, e.g. `@pytest.mark.parametrize("check", CHECKS)`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from pocketkube.storage.base import (
    CompactedError,
    ConflictError,
    Event,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    Store,
    Watch,
)

StoreFactory = Callable[[], Awaitable[Store]]


def _prefix() -> str:
    return f"/registry/t-{uuid.uuid4().hex[:8]}/"


async def collect(watch: Watch, count: int, within: float = 5.0) -> list[Event]:
    """The next `count` events from `watch` (fails if they do not come within `within` seconds)."""
    events: list[Event] = []
    async with asyncio.timeout(within):
        async for batch in watch:
            assert batch, "a watch yielded an empty batch"
            events.extend(batch)
            if len(events) >= count:
                break
    return events


async def _expect_no_more(watch: Watch, wait: float = 0.05) -> None:
    try:
        async with asyncio.timeout(wait):
            async for batch in watch:
                raise AssertionError(f"unexpected events: {batch}")
    except TimeoutError:
        pass


async def check_crud(store_factory: StoreFactory) -> None:
    store = await store_factory()
    p = _prefix()
    try:
        assert await store.get(p + "a") is None
        created = await store.create(p + "a", b"1")
        assert (created.key, created.value) == (p + "a", b"1")
        assert created.create_revision == created.mod_revision == await store.current_revision()
        assert await store.get(p + "a") == created
        try:
            await store.create(p + "a", b"again")
            raise AssertionError("create of an existing key succeeded")
        except KeyExistsError as e:
            assert e.key == p + "a"
        updated = await store.update(p + "a", b"2")
        assert updated.value == b"2" and updated.create_revision == created.create_revision
        assert updated.mod_revision > created.mod_revision
        assert await store.get(p + "a") == updated
        deleted = await store.delete(p + "a")
        assert deleted.value == b"2" and deleted.mod_revision > updated.mod_revision
        assert deleted.mod_revision == await store.current_revision()
        assert await store.get(p + "a") is None
        for op in (store.update(p + "a", b"x"), store.delete(p + "a"), store.update(p + "zz", b"x", 5)):
            try:
                await op
                raise AssertionError("write to a missing key succeeded")
            except KeyNotFoundError as e:
                assert e.key.startswith(p)
        again = await store.create(p + "a", b"3")  # a deleted key can be created anew
        assert again.create_revision == again.mod_revision > deleted.mod_revision
        assert (await store.get(p + "a")) == again
    finally:
        await store.close()


async def check_compare_and_swap(store_factory: StoreFactory) -> None:
    store = await store_factory()
    p = _prefix()
    try:
        first = await store.create(p + "k", b"1")
        second = await store.update(p + "k", b"2", expected_revision=first.mod_revision)
        stale_writes: tuple[Callable[[], Awaitable[object]], ...] = (
            lambda: store.update(p + "k", b"3", expected_revision=first.mod_revision),
            lambda: store.delete(p + "k", expected_revision=first.mod_revision),
        )
        for stale_write in stale_writes:
            try:
                await stale_write()
                raise AssertionError("a write with a stale expected_revision succeeded")
            except ConflictError as e:
                assert e.key == p + "k" and e.current == second
        assert await store.get(p + "k") == second
        third = await store.update(p + "k", b"3", expected_revision=0)  # 0: unconditional
        gone = await store.delete(p + "k", expected_revision=third.mod_revision)
        assert gone.value == b"3"
    finally:
        await store.close()


async def check_revisions_increase(store_factory: StoreFactory) -> None:
    store = await store_factory()
    p = _prefix()
    try:
        start = await store.current_revision()
        revisions = []
        for i in range(10):
            revisions.append((await store.create(f"{p}k{i % 3}-{i}", b"v")).mod_revision)
            revisions.append((await store.update(f"{p}k{i % 3}-{i}", b"w")).mod_revision)
        revisions.append((await store.delete(f"{p}k0-0")).mod_revision)
        assert revisions[0] > start
        assert all(a < b for a, b in zip(revisions, revisions[1:], strict=False)), revisions
        assert await store.current_revision() == revisions[-1]
        concurrent = await asyncio.gather(*(store.create(f"{p}c{i}", b"v") for i in range(20)))
        assert len({kv.mod_revision for kv in concurrent}) == 20
        assert min(kv.mod_revision for kv in concurrent) > revisions[-1]
    finally:
        await store.close()


async def check_list(store_factory: StoreFactory) -> None:
    store = await store_factory()
    p = _prefix()
    try:
        names = [f"{p}pods/default/p{i:02}" for i in range(7)]
        for name in reversed(names):
            await store.create(name, name.encode())
        await store.create(f"{p}pods/default2/x", b"x")  # must not leak into pods/default/
        await store.create(f"{p}pods/defaul/y", b"y")
        everything = await store.list(f"{p}pods/default/")
        assert [kv.key for kv in everything.items] == names
        assert not everything.more and everything.remaining == 0
        assert everything.revision == await store.current_revision()
        assert await store.count(f"{p}pods/default/") == 7
        assert await store.count(f"{p}pods/") == 9
        assert await store.count(f"{p}nothing/") == 0
        seen: list[str] = []
        token, pages = "", 0
        while True:
            chunk = await store.list(f"{p}pods/default/", start_after=token, limit=3)
            seen += [kv.key for kv in chunk.items]
            pages += 1
            assert chunk.remaining == 7 - len(seen)
            if not chunk.more:
                break
            token = chunk.items[-1].key
        assert seen == names and pages == 3
        exact = await store.list(f"{p}pods/default/", limit=7)
        assert len(exact.items) == 7 and not exact.more
        assert (await store.list(f"{p}pods/default/", start_after=names[-1])).items == []
    finally:
        await store.close()


async def check_list_at_revision(store_factory: StoreFactory) -> None:
    store = await store_factory()
    p = _prefix()
    try:
        a1 = await store.create(p + "a", b"a1")
        b1 = await store.create(p + "b", b"b1")
        await store.create(p + "c", b"c1")
        await store.create(p + "z", b"z1")
        await store.delete(p + "z")  # deleted before the mark: absent from the list at the mark
        mark = await store.current_revision()
        await store.update(p + "a", b"a2")
        await store.delete(p + "b")
        await store.create(p + "d", b"d1")
        await store.create(p[:-1] + "x/e", b"outside")
        past = await store.list(p, revision=mark)
        assert [(kv.key, kv.value) for kv in past.items] == [(p + "a", b"a1"), (p + "b", b"b1"), (p + "c", b"c1")]
        assert past.items[0] == a1 and past.items[1] == b1 and past.revision == mark
        paged = await store.list(p, revision=mark, limit=2)
        assert [kv.key for kv in paged.items] == [p + "a", p + "b"] and paged.more and paged.remaining == 1
        rest = await store.list(p, revision=mark, limit=2, start_after=p + "b")
        assert [kv.key for kv in rest.items] == [p + "c"] and not rest.more
        now = await store.list(p)
        assert [(kv.key, kv.value) for kv in now.items] == [(p + "a", b"a2"), (p + "c", b"c1"), (p + "d", b"d1")]
        assert (await store.list(p, revision=now.revision)).items == now.items
        try:
            await store.list(p, revision=now.revision + 1000)
            raise AssertionError("a list at a future revision succeeded")
        except FutureRevisionError as e:
            assert e.current == now.revision
    finally:
        await store.close()


async def check_concurrent_writers(store_factory: StoreFactory) -> None:
    store = await store_factory()
    key = _prefix() + "counter"
    conflicts = 0
    try:
        await store.create(key, b"0")

        async def increment(times: int) -> None:
            nonlocal conflicts
            for _ in range(times):
                while True:
                    kv = await store.get(key)
                    assert kv is not None
                    await asyncio.sleep(0)  # let the other writers interleave between read and write
                    try:
                        await store.update(key, str(int(kv.value) + 1).encode(), kv.mod_revision)
                        break
                    except ConflictError as e:
                        assert e.current is not None and e.current.mod_revision != kv.mod_revision
                        conflicts += 1

        await asyncio.gather(*(increment(10) for _ in range(20)))
        final = await store.get(key)
        assert final is not None and int(final.value) == 200, final
        assert conflicts > 0, "20 interleaved writers never conflicted"
    finally:
        await store.close()


async def check_watch(store_factory: StoreFactory) -> None:
    """From the current revision: every matching event once, in order, with prefix filtering."""
    store = await store_factory()
    p = _prefix()
    try:
        watch = await store.watch(p + "pods/")
        await store.create(p + "pods-other/x", b"no")
        await store.create(p + "pods/a", b"1")
        await store.create(p + "services/x", b"no")
        await store.update(p + "pods/a", b"2")
        await store.create(p + "pods/b", b"1")
        await store.delete(p + "pods/a")
        events = await collect(watch, 4)
        assert [(e.type, e.kv.key, e.kv.value) for e in events] == [
            ("CREATE", p + "pods/a", b"1"), ("UPDATE", p + "pods/a", b"2"),
            ("CREATE", p + "pods/b", b"1"), ("DELETE", p + "pods/a", b"2")]
        assert [e.prev.value if e.prev else None for e in events] == [None, b"1", None, b"2"]
        assert events[3].prev is not None and events[3].prev.mod_revision == events[1].revision
        assert events[3].revision == await store.current_revision()
        await _expect_no_more(watch)
        await watch.close()
    finally:
        await store.close()


async def check_watch_replay_under_load(store_factory: StoreFactory) -> None:
    """From an old revision while writes continue: replay + live, no gap, no duplicate."""
    store = await store_factory()
    p = _prefix()
    try:
        written: list[int] = []
        for i in range(30):
            written.append((await store.create(f"{p}k{i}", b"v")).mod_revision)
            await store.create(f"{p[:-1]}-other/k{i}", b"v")
        start = written[9]
        stop = asyncio.Event()

        async def writer() -> None:
            i = 0
            while not stop.is_set():
                kv = await store.update(f"{p}k{i % 30}", str(i).encode())
                written.append(kv.mod_revision)
                await store.update(f"{p[:-1]}-other/k{i % 30}", b"x")
                i += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(writer())
        await asyncio.sleep(0.01)
        watches = []
        for _ in range(3):  # registration at different moments of the write stream
            watches.append(await store.watch(p, start))
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.01)
        stop.set()
        await task
        expected = [r for r in written if r > start]
        for watch in watches:
            events = await collect(watch, len(expected))
            assert [e.revision for e in events] == expected
            assert all(e.kv.key.startswith(p) for e in events)
            await _expect_no_more(watch)
            await watch.close()
    finally:
        await store.close()


async def check_watch_close_and_progress(store_factory: StoreFactory) -> None:
    store = await store_factory()
    p = _prefix()
    try:
        watch = await store.watch(p + "mine/")
        other = await store.create(p + "other/x", b"x")
        for _ in range(200):  # a bookmark may move past events that do not match (within 2 s)
            if watch.progress_revision() >= other.mod_revision:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("progress_revision never passed a non-matching write")
        mine = await store.create(p + "mine/x", b"x")
        assert watch.progress_revision() < mine.mod_revision  # not yielded yet
        assert [e.revision for e in await collect(watch, 1)] == [mine.mod_revision]
        assert watch.progress_revision() >= mine.mod_revision

        async def drain() -> list[list[Event]]:
            return [batch async for batch in watch]

        reader = asyncio.create_task(drain())
        await asyncio.sleep(0.01)
        await watch.close()
        async with asyncio.timeout(1):
            assert await reader == []
    finally:
        await store.close()


async def check_compaction(store_factory: StoreFactory) -> None:
    store = await store_factory()
    p = _prefix()
    try:
        keep = await store.create(p + "keep", b"1")
        await store.create(p + "gone", b"1")
        await store.update(p + "gone", b"2")
        await store.delete(p + "gone")
        changed = await store.create(p + "changed", b"1")
        mark = await store.current_revision()
        later = await store.update(p + "changed", b"2")
        await store.create(p + "gone", b"3")
        await store.compact(mark)
        assert await store.compacted_revision() == mark
        for call in (lambda: store.list(p, revision=mark - 1), lambda: store.watch(p, mark - 1)):
            try:
                await call()
                raise AssertionError("a read below the compacted revision succeeded")
            except CompactedError as e:
                assert e.compacted == mark and e.requested == mark - 1
        at_mark = await store.list(p, revision=mark)
        assert [kv.key for kv in at_mark.items] == [p + "changed", p + "keep"]
        assert at_mark.items[1] == keep and at_mark.items[0] == changed
        assert await store.get(p + "keep") == keep
        watch = await store.watch(p, mark)  # the compacted revision itself is still watchable
        events = await collect(watch, 2)
        assert [(e.type, e.kv.key) for e in events] == [("UPDATE", p + "changed"), ("CREATE", p + "gone")]
        assert events[0].prev == changed and events[0].kv == later
        await watch.close()
        await store.compact(mark)  # compacting again is a no-op
        await store.compact(await store.current_revision())
        assert [kv.value for kv in (await store.list(p)).items] == [b"2", b"3", b"1"]
        try:
            await store.compact(await store.current_revision() + 10)
            raise AssertionError("compaction of a future revision succeeded")
        except FutureRevisionError:
            pass
    finally:
        await store.close()


async def check_reopen(store_factory: StoreFactory) -> None:
    """Persistent backends: data, revisions and the compacted revision survive close + reopen."""
    store = await store_factory()
    p = _prefix()
    await store.create(p + "a", b"1")
    await store.create(p + "b", b"1")
    await store.update(p + "a", b"2")
    mark = await store.current_revision()
    await store.compact(mark)
    await store.delete(p + "b")  # the newest row is a tombstone ...
    deleted_at = await store.current_revision()
    await store.compact(deleted_at)  # ... and compaction removes it
    before = await store.list(p)
    await store.close()

    store = await store_factory()
    try:
        assert await store.current_revision() == deleted_at  # never backwards
        assert await store.compacted_revision() == deleted_at
        after = await store.list(p)
        assert after.items == before.items
        created = await store.create(p + "b", b"again")
        assert created.mod_revision > deleted_at
        updated = await store.update(p + "a", b"3", expected_revision=before.items[0].mod_revision)
        assert updated.create_revision == before.items[0].create_revision
    finally:
        await store.close()


CHECKS = [
    check_crud, check_compare_and_swap, check_revisions_increase, check_list, check_list_at_revision,
    check_concurrent_writers, check_watch, check_watch_replay_under_load, check_watch_close_and_progress,
    check_compaction,
]
