"""The informer and REST client against an in-process API server (plain HTTP, memory store)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pocketkube.api import errors, resources
from pocketkube.client import ApiClient
from pocketkube.client.informer import Handlers, Informer
from pocketkube.storage.memory import MemoryStore
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

CONFIGMAPS = resources.require("", "v1", "configmaps")


@pytest.fixture()
async def api() -> AsyncIterator[tuple[ApiClient, MemoryStore]]:
    async with inprocess_api() as running:
        yield running.client, running.store


def cm(name: str, value: str = "1") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"},
            "data": {"v": value}}


async def test_client_errors_are_status_errors(api: tuple[ApiClient, MemoryStore]) -> None:
    client, _ = api
    with pytest.raises(errors.StatusError) as info:
        await client.get(CONFIGMAPS, "missing", "default")
    assert info.value.code == 404 and info.value.reason == "NotFound"


async def test_informer_lists_then_follows_changes(api: tuple[ApiClient, MemoryStore]) -> None:
    client, _ = api
    for i in range(7):
        await client.create(CONFIGMAPS, cm(f"pre-{i}"))
    seen: list[tuple[str, str]] = []
    informer = Informer(client, CONFIGMAPS, "default", page_size=3)
    informer.add_handlers(Handlers(
        on_add=lambda o: seen.append(("add", o["metadata"]["name"])),
        on_update=lambda old, new: seen.append(("update", new["metadata"]["name"])),
        on_delete=lambda o: seen.append(("delete", o["metadata"]["name"]))))
    task = asyncio.create_task(informer.run())
    try:
        await asyncio.wait_for(informer.synced.wait(), 5)
        assert len(informer.cache) == 7
        await client.create(CONFIGMAPS, cm("live"))
        await client.patch(CONFIGMAPS, "pre-0", {"data": {"v": "2"}}, "default")
        await client.delete(CONFIGMAPS, "pre-1", "default")
        await until(lambda: ("delete", "pre-1") in seen)
        assert ("add", "live") in seen and ("update", "pre-0") in seen
        assert informer.get("default/pre-0")["data"] == {"v": "2"}  # type: ignore[index]
        assert informer.get("default/pre-1") is None
    finally:
        task.cancel()


async def test_informer_relists_after_compaction(api: tuple[ApiClient, MemoryStore]) -> None:
    client, store = api
    informer = Informer(client, CONFIGMAPS, "default")
    deleted: list[str] = []
    informer.add_handlers(Handlers(on_delete=lambda o: deleted.append(o["metadata"]["name"])))
    await client.create(CONFIGMAPS, cm("keep"))
    await client.create(CONFIGMAPS, cm("drop"))
    await informer._relist()
    stale = informer.resource_version
    # While the informer is away, an object goes and history is compacted past its revision.
    await client.delete(CONFIGMAPS, "drop", "default")
    await store.compact(await store.current_revision())
    informer.resource_version = stale
    task = asyncio.create_task(informer.run())
    try:
        await until(lambda: deleted == ["drop"])
        assert set(informer.cache) == {"default/keep"}
    finally:
        task.cancel()

