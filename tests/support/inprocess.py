"""An in-process API server (plain HTTP, memory store) and a pocketkube ApiClient for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.test_utils import TestServer

from pocketkube.apiserver.app import make_app
from pocketkube.client import ApiClient, ClientConfig
from pocketkube.server.main import bootstrap
from pocketkube.storage.memory import MemoryStore


@dataclass
class InProcessApi:
    client: ApiClient
    store: MemoryStore
    url: str


@asynccontextmanager
async def inprocess_api() -> AsyncIterator[InProcessApi]:
    store = MemoryStore()
    await bootstrap(store)
    server = TestServer(make_app(store, require_auth=False))
    await server.start_server()
    url = f"http://127.0.0.1:{server.port}"
    client = ApiClient(ClientConfig(url))
    try:
        yield InProcessApi(client, store, url)
    finally:
        await client.close()
        await server.close()
        await store.close()


async def eventually(predicate: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():
            await asyncio.sleep(0.01)
