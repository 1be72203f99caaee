from __future__ import annotations

import asyncio

import pytest

from pocketkube.client.workqueue import ShutDown, WorkQueue
from pocketkube.clock import FakeClock


async def test_duplicate_adds_are_one_item() -> None:
    q = WorkQueue()
    q.add("a")
    q.add("a")
    q.add("b")
    assert len(q) == 2
    assert await q.get() == "a"
    assert await q.get() == "b"


async def test_key_is_never_handed_to_two_workers() -> None:
    q = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")  # changed again while a worker holds it
    assert len(q) == 0
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(q.get(), 0.05)
    q.done(key)
    assert await asyncio.wait_for(q.get(), 1) == "a"


async def test_done_without_new_add_does_not_requeue() -> None:
    q = WorkQueue()
    q.add("a")
    q.done(await q.get())
    assert len(q) == 0


async def test_add_after_fires_once_and_earliest_wins() -> None:
    q = WorkQueue()
    q.add_after("a", 0.2)
    q.add_after("a", 0.01)
    started = asyncio.get_running_loop().time()
    assert await asyncio.wait_for(q.get(), 1) == "a"
    assert asyncio.get_running_loop().time() - started < 0.15


async def test_rate_limited_backoff_doubles_until_forget() -> None:
    q = WorkQueue(base_delay=0.01, max_delay=0.04)
    delays = []
    for _ in range(4):
        started = asyncio.get_running_loop().time()
        q.add_rate_limited("k")
        q.done(await asyncio.wait_for(q.get(), 1))
        delays.append(asyncio.get_running_loop().time() - started)
    assert q.failures("k") == 4
    assert delays[1] >= 0.015 and delays[3] < 0.1  # grew, then capped
    q.forget("k")
    assert q.failures("k") == 0


async def test_shutdown_wakes_waiting_workers() -> None:
    q = WorkQueue()
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.shutdown()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(waiter, 1)


async def test_add_after_runs_on_the_queue_clock_and_can_be_cancelled() -> None:
    clock = FakeClock()
    q = WorkQueue(clock=clock)
    q.add_after("a", 30)
    q.add_after("a", 60)  # the earlier one stays
    q.add_after("b", 40)
    await clock.advance(29)
    assert len(q) == 0
    q.cancel_after("b")
    await clock.advance(1)
    assert len(q) == 1 and await q.get() == "a"
    await clock.advance(3600)
    assert len(q) == 0 and clock.sleepers == 0
