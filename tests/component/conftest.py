"""Component fixtures: the real aiohttp app over an in-process Store, spoken to over plain HTTP.

`api` is the TestClient of tests/support/inprocess.py's harness over a MemoryStore, with only the
namespace "default" created; `store` is the same MemoryStore, so a test can compact it or read it
directly. `sqlite_api` is the same over a SQLiteStore in tmp_path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from pocketkube.api.obj import Obj
from pocketkube.storage.memory import MemoryStore
from pocketkube.storage.sqlite import SQLiteStore
from tests.support.inprocess import HttpClient, serving

Client = HttpClient

PODS = "/api/v1/namespaces/default/pods"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


@pytest.fixture
async def store() -> AsyncIterator[MemoryStore]:
    s = MemoryStore()
    yield s
    await s.close()


@pytest.fixture
async def api(store: MemoryStore) -> AsyncIterator[Client]:
    async with serving(store, system_namespaces=False) as running:
        yield running.http


@pytest.fixture
async def sqlite_api(tmp_path: Path) -> AsyncIterator[Client]:
    s = await SQLiteStore.open(str(tmp_path / "state.db"))
    try:
        async with serving(s, system_namespaces=False) as running:
            yield running.http
    finally:
        await s.close()


# -- object builders ------------------------------------------------------------------------------

def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> Obj:
    md: Obj = {"name": name}
    if labels:
        md["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data}


def pod(name: str, node: str = "", labels: dict[str, str] | None = None, image: str = "nginx") -> Obj:
    md: Obj = {"name": name}
    if labels:
        md["labels"] = labels
    spec: Obj = {"containers": [{"name": "c", "image": image}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


def deployment(name: str, replicas: int = 1, containers: list[Obj] | None = None) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"containers": containers or [{"name": "web", "image": "nginx:1"}]}}},
    }


# -- request helpers --------------------------------------------------------------------------------

async def call(client: Client, method: str, path: str, body: Any = None, *, status: int,
               content_type: str = "application/json", headers: dict[str, str] | None = None) -> Obj:
    """One request; asserts the status code and returns the decoded JSON body."""
    data = None if body is None else (body if isinstance(body, bytes) else orjson.dumps(body))
    hdrs = {"Content-Type": content_type, **(headers or {})} if data is not None else dict(headers or {})
    resp = await client.request(method, path, data=data, headers=hdrs)
    text = await resp.read()
    assert resp.status == status, f"{method} {path}: {resp.status} {text!r}"
    return orjson.loads(text) if text else {}


async def failure(client: Client, method: str, path: str, body: Any = None, *, status: int, reason: str,
                  content_type: str = "application/json") -> Obj:
    """A request that must fail with a kube Status of this code and reason."""
    out = await call(client, method, path, body, status=status, content_type=content_type)
    assert out["kind"] == "Status" and out["status"] == "Failure", out
    assert out["code"] == status and out["reason"] == reason, out
    return out


class WatchStream:
    """An open `?watch=1` response, read one JSON line per event."""

    def __init__(self, resp: Any):
        self.resp = resp

    async def take(self, count: int, timeout: float = 3.0) -> list[Obj]:
        """Exactly `count` events, or fewer only if the server ends the stream."""
        events: list[Obj] = []
        async with asyncio.timeout(timeout):
            while len(events) < count:
                line = await self.resp.content.readline()
                if not line:
                    break
                events.append(orjson.loads(line))
        return events

    async def rest(self, timeout: float = 5.0) -> list[Obj]:
        """Every event until the server ends the stream."""
        return await self.take(10**6, timeout)

    async def quiet(self, seconds: float = 0.2) -> bool:
        """Whether nothing more arrives within `seconds`."""
        try:
            async with asyncio.timeout(seconds):
                line = await self.resp.content.readline()
        except TimeoutError:
            return True
        return not line


@contextlib.asynccontextmanager
async def open_watch(client: Client, path: str) -> AsyncIterator[WatchStream]:
    resp = await client.get(path)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/json")
    try:
        yield WatchStream(resp)
    finally:
        resp.close()


def kinds(events: list[Obj]) -> list[tuple[str, str]]:
    """(type, name) of each event; BOOKMARKs and ERRORs have no name."""
    return [(e["type"], e["object"].get("metadata", {}).get("name", "")) for e in events]
