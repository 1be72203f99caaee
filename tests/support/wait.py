"""Waiting for a condition: the one `until` every test tier and benchmark polls with.

Something else (a controller, the agent, a server process) makes the condition true, so a test
polls a check until it returns something truthy and gets that value back. A check may be a plain
function or a coroutine function, and it may raise while the world is still settling (a 404 before
an object exists): the error is remembered and the check is tried again. An AssertionError is the
exception: it is a verdict (an invariant a check asserts on every poll), so it ends the wait at once.
When time runs out the wait fails with an AssertionError that says what the check last returned or
raised, chained to that error, so a timeout explains itself instead of reading "TimeoutError".

`until` is for async code; `until_sync` is its blocking twin for code that drives subprocesses
(kubectl against a `pocketkube server`), where one check costs a process start, so it polls slower.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


class _Attempts:
    """What the checks did so far, to explain a timeout."""

    def __init__(self, check: Callable[[], Any], within: float):
        self.check = check
        self.within = within
        self.count = 0
        self.value: Any = None
        self.error: Exception | None = None

    def returned(self, value: Any) -> None:
        self.count, self.value, self.error = self.count + 1, value, None

    def raised(self, error: Exception) -> None:
        self.count, self.error = self.count + 1, error

    def failure(self) -> AssertionError:
        name = getattr(self.check, "__qualname__", repr(self.check))
        if self.error is not None:
            last = f"last raised {self.error!r}"
        elif self.count:
            last = f"last returned {_short(self.value)}"
        else:
            last = "the first check itself did not finish"
        return AssertionError(f"{name} not true within {self.within} s after {self.count} checks; {last}")


def _short(value: Any, limit: int = 1000) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


# A check returning `X | None` waits for the X: the value that ends a wait is never None.
@overload
async def until(check: Callable[[], Awaitable[T | None]], within: float = 5.0, interval: float = 0.02) -> T: ...
@overload
async def until(check: Callable[[], T | None], within: float = 5.0, interval: float = 0.02) -> T: ...


async def until(check: Callable[[], Any], within: float = 5.0, interval: float = 0.02) -> Any:
    """Poll `check` every `interval` seconds until it returns something truthy; return that.

    `within` bounds the whole wait, a check that hangs included."""
    attempts = _Attempts(check, within)
    try:
        async with asyncio.timeout(within):
            while True:
                try:
                    value = check()
                    if inspect.isawaitable(value):
                        value = await value
                except AssertionError:
                    raise
                except Exception as exc:
                    attempts.raised(exc)
                else:
                    if value:
                        return value
                    attempts.returned(value)
                await asyncio.sleep(interval)
    except TimeoutError:  # only the scope's own: a check's TimeoutError is caught above
        raise attempts.failure() from attempts.error


def until_sync(check: Callable[[], T | None], within: float, interval: float = 0.2) -> T:
    """`until` for blocking code: the same polling and the same failure, without an event loop."""
    attempts = _Attempts(check, within)
    deadline = time.monotonic() + within
    while True:
        try:
            value = check()
        except AssertionError:
            raise
        except Exception as exc:
            attempts.raised(exc)
        else:
            if value:
                return value
            attempts.returned(value)
        if time.monotonic() >= deadline:
            raise attempts.failure() from attempts.error
        time.sleep(interval)
