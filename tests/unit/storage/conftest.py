"""The `store_factory` fixture: every storage test that takes it runs once per backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketkube.storage.testing import StoreFactory
from tests.unit.storage.factories import memory_factory, sqlite_factory


@pytest.fixture(params=[memory_factory, sqlite_factory], ids=["memory", "sqlite"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    factory: StoreFactory = request.param(tmp_path)
    return factory
