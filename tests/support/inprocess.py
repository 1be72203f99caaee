"""The in-process API harness: the real aiohttp app over a Store, on a loopback port, plain HTTP.

Every test that needs an API server without starting a `pocketkube server` process uses this one
harness. It offers two clients on the same server: `http`, aiohttp's TestClient, for tests about the
REST surface itself (status codes, headers, raw watch streams), and `client`, pocketkube's own
ApiClient, for tests of what runs on top (informers, controllers, the scheduler, the agent).

`inprocess_api()` owns a fresh MemoryStore; `serving(store)` serves a store the caller owns (a
SQLiteStore in a temporary dir, or a MemoryStore the test also reads directly).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp.test_utils import TestClient, TestServer

from pocketkube.apiserver.app import make_app
from pocketkube.client import ApiClient, ClientConfig
from pocketkube.storage import Store
from pocketkube.storage.memory import MemoryStore

HttpClient = TestClient[Any, Any]
StoreT = TypeVar("StoreT", bound=Store)


@dataclass
class InProcessApi(Generic[StoreT]):
    store: StoreT
    http: HttpClient
    client: ApiClient
    url: str


@asynccontextmanager
async def serving(store: StoreT, *, system_namespaces: bool = True) -> AsyncIterator[InProcessApi[StoreT]]:
    """The real app over `store`, without authentication; the caller closes the store.

    With `system_namespaces` the store holds every namespace `pocketkube server` creates at boot;
    without, only "default", created through the API, so a test sees nothing but its own objects."""
    if system_namespaces:
        # imported here: the composition root pulls in every component, which API tests don't need
        from pocketkube.server.main import bootstrap

        await bootstrap(store)
    http: HttpClient = TestClient(TestServer(make_app(store, require_auth=False)))
    await http.start_server()
    try:
        if not system_namespaces:
            resp = await http.post("/api/v1/namespaces", json={
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
            assert resp.status == 201, await resp.text()
        url = str(http.make_url("")).rstrip("/")
        client = ApiClient(ClientConfig(url))
        try:
            yield InProcessApi(store, http, client, url)
        finally:
            await client.close()
    finally:
        await http.close()


@asynccontextmanager
async def inprocess_api(*, system_namespaces: bool = True) -> AsyncIterator[InProcessApi[MemoryStore]]:
    """`serving` over a MemoryStore of its own."""
    store = MemoryStore()
    try:
        async with serving(store, system_namespaces=system_namespaces) as api:
            yield api
    finally:
        await store.close()
