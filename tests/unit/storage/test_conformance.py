"""Every backend passes the whole conformance suite in pocketkube.storage.testing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from pocketkube.storage import testing
from pocketkube.storage.testing import StoreFactory
from tests.unit.storage.factories import sqlite_factory


@pytest.mark.parametrize("check", testing.CHECKS, ids=lambda c: c.__name__)
async def test_conformance(check: Callable[[StoreFactory], Awaitable[None]],
                           store_factory: StoreFactory) -> None:
    await check(store_factory)


async def test_sqlite_reopen(tmp_path: Path) -> None:
    await testing.check_reopen(sqlite_factory(tmp_path))
