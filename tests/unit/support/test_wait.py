"""`until` and `until_sync`: the value that ended the wait, retries through errors, and a timeout
that says what the check last saw."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.support.wait import until, until_sync


async def test_a_plain_or_async_check_returns_the_truthy_value() -> None:
    counter = itertools.count()
    assert await until(lambda: next(counter) >= 3 and "done", interval=0) == "done"

    async def node() -> str:
        await asyncio.sleep(0)
        return "n1"

    assert await until(node) == "n1"


async def test_errors_are_retried_and_the_last_one_explains_the_timeout() -> None:
    calls = itertools.count()

    def flaky() -> bool:
        if next(calls) < 2:
            raise KeyError("status")
        return True

    assert await until(flaky, interval=0) is True

    def missing() -> bool:
        raise LookupError('pods "web-0" not found')

    with pytest.raises(AssertionError, match=r"missing not true within 0.05 s .*last raised LookupError") as info:
        await until(missing, within=0.05)
    assert isinstance(info.value.__cause__, LookupError)


async def test_a_timeout_names_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"<lambda> not true within 0.05 s after \d+ checks; last returned \[\]"):
        await until(lambda: [], within=0.05)


async def test_an_assertion_in_the_check_ends_the_wait_at_once() -> None:
    def invariant() -> bool:
        raise AssertionError("web-1 exists before web-0 is Ready")

    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(AssertionError, match="before web-0"):
        await until(invariant, within=5)
    assert loop.time() - started < 1


async def test_a_check_that_hangs_is_bounded_too() -> None:
    async def hangs() -> bool:
        await asyncio.sleep(10)
        return True

    with pytest.raises(AssertionError, match="the first check itself did not finish"):
        await until(hangs, within=0.05)


def test_the_blocking_twin_polls_the_same_way() -> None:
    counter = itertools.count()
    assert until_sync(lambda: next(counter) == 2, within=1, interval=0) is True
    with pytest.raises(AssertionError, match=r"not true within 0.05 s .*last returned ''"):
        until_sync(lambda: "", within=0.05, interval=0.01)
    with pytest.raises(AssertionError, match="invariant"):
        until_sync(lambda: _raise(AssertionError("invariant")), within=5)


def _raise(error: Exception) -> bool:
    raise error
