"""The fake clock moves only when told, wakes sleepers in deadline order, and times out waits."""

from __future__ import annotations

import asyncio

import pytest

from pocketkube.clock import REAL_CLOCK, FakeClock, wait_for


async def test_sleepers_wake_when_their_time_comes() -> None:
    clock = FakeClock(start=100.0)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("late", 300)), asyncio.create_task(sleeper("soon", 10))]
    await asyncio.sleep(0)
    assert clock.sleepers == 2
    await clock.advance(9.9)
    assert woke == []
    await clock.advance(0.1)
    assert woke == ["soon"] and clock.now() == 110.0
    await clock.advance(290)
    assert woke == ["soon", "late"]
    await asyncio.gather(*tasks)
    assert clock.utcnow().timestamp() == 400.0


async def test_wait_for_times_out_on_the_fake_clock() -> None:
    clock = FakeClock()
    never = asyncio.Event()
    waiter = asyncio.create_task(wait_for(clock, never.wait(), 60))
    while clock.sleepers == 0:
        await asyncio.sleep(0)
    assert not waiter.done()
    await clock.advance(60)
    with pytest.raises(TimeoutError):
        await waiter


async def test_wait_for_returns_what_finishes_first() -> None:
    clock = FakeClock()
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_for(clock, event.wait(), 60))
    await asyncio.sleep(0)
    event.set()
    assert await waiter is True
    assert clock.sleepers == 0
    assert await wait_for(REAL_CLOCK, asyncio.sleep(0, "x"), 1) == "x"
    assert await wait_for(clock, asyncio.sleep(0, "y"), None) == "y"


async def test_timers_run_in_time_order_and_cancelled_ones_never() -> None:
    clock = FakeClock()
    ran: list[str] = []
    clock.call_later(20, lambda: ran.append("late"))
    dropped = clock.call_later(5, lambda: ran.append("dropped"))
    clock.call_later(10, lambda: ran.append("soon"))
    clock.call_later(0, lambda: ran.append("now"))  # on the next loop turn, without moving the clock
    await asyncio.sleep(0)
    assert ran == ["now"]
    dropped.cancel()
    assert clock.sleepers == 2
    await clock.advance(30)
    assert ran == ["now", "soon", "late"] and clock.sleepers == 0
