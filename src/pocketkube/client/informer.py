"""Informers: a local cache of one resource kept current by list + watch.

List (paged), then watch from the list's resourceVersion; when the watch ends, watch again from the
last resourceVersion seen (bookmarks keep it fresh); on 410 Gone, list again and send handlers the
difference. Handlers are plain callbacks that should only enqueue keys.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.client.rest import ApiClient

log = logging.getLogger(__name__)


def object_key(obj: Obj) -> str:
    md = obj.get("metadata") or {}
    return f"{md['namespace']}/{md['name']}" if md.get("namespace") else str(md.get("name", ""))


@dataclass
class Handlers:
    on_add: Callable[[Obj], None] | None = None
    on_update: Callable[[Obj, Obj], None] | None = None
    on_delete: Callable[[Obj], None] | None = None


class _Gone(Exception):
    pass


@dataclass
class Informer:
    client: ApiClient
    resource: ResourceInfo
    namespace: str | None = None
    label_selector: str = ""
    field_selector: str = ""
    page_size: int = 500
    cache: dict[str, Obj] = field(default_factory=dict)
    handlers: list[Handlers] = field(default_factory=list)
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    resource_version: str = ""
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def add_handlers(self, handlers: Handlers) -> None:
        self.handlers.append(handlers)
        for obj in list(self.cache.values()):
            if handlers.on_add:
                handlers.on_add(obj)

    def get(self, key: str) -> Obj | None:
        return self.cache.get(key)

    def list(self) -> list[Obj]:
        return list(self.cache.values())

    async def run(self) -> None:
        """Keep the cache current until cancelled. Several components may run one shared informer:
        the first starts the loop, the others wait on it (cancelling a waiter leaves it running)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())
        await asyncio.shield(self._task)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        backoff = 0.2
        while True:
            try:
                if not self.resource_version:
                    await self._relist()
                await self._watch()
                backoff = 0.2
            except _Gone:
                self.resource_version = ""
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the API may be restarting: retry, never give up
                log.debug("informer %s: %s; retrying", self.resource.plural, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _relist(self) -> None:
        items: dict[str, Obj] = {}
        token = ""
        while True:
            page = await self.client.list(self.resource, self.namespace, label_selector=self.label_selector,
                                          field_selector=self.field_selector, limit=self.page_size,
                                          continue_token=token)
            for obj in page.get("items") or []:
                obj.setdefault("apiVersion", self.resource.api_version)
                obj.setdefault("kind", self.resource.kind)
                items[object_key(obj)] = obj
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                self.resource_version = str(page["metadata"]["resourceVersion"])
                break
        old = self.cache
        self.cache = items
        for key, obj in items.items():
            before = old.get(key)
            if before is None:
                self._notify_add(obj)
            elif before["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                self._notify_update(before, obj)
        for key, obj in old.items():
            if key not in items:
                self._notify_delete(obj)
        self.synced.set()

    async def _watch(self) -> None:
        try:
            async for event in self.client.watch(self.resource, self.namespace,
                                                 resource_version=self.resource_version,
                                                 label_selector=self.label_selector,
                                                 field_selector=self.field_selector, timeout_seconds=300):
                self._apply(event)
        except errors.StatusError as exc:
            if exc.code == 410:
                raise _Gone() from None
            raise

    def _apply(self, event: Obj) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Gone()
            raise errors.StatusError(int(obj.get("code") or 500), str(obj.get("reason") or ""),
                                     str(obj.get("message") or ""))
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            self.resource_version = str(rv)
        if kind == "BOOKMARK":
            return
        key = object_key(obj)
        if kind == "DELETED":
            gone = self.cache.pop(key, None)
            self._notify_delete(gone or obj)
            return
        before = self.cache.get(key)
        self.cache[key] = obj
        if before is None:
            self._notify_add(obj)
        else:
            self._notify_update(before, obj)

    def _notify_add(self, obj: Obj) -> None:
        for h in self.handlers:
            if h.on_add:
                h.on_add(obj)

    def _notify_update(self, old: Obj, new: Obj) -> None:
        for h in self.handlers:
            if h.on_update:
                h.on_update(old, new)

    def _notify_delete(self, obj: Obj) -> None:
        for h in self.handlers:
            if h.on_delete:
                h.on_delete(obj)


class SharedInformers:
    """One informer per (resource, namespace, selectors) for every component on one client, as
    client-go's shared informer factory: one list+watch and one cache, however many controllers."""

    def __init__(self, client: ApiClient):
        self.client = client
        self._informers: dict[tuple[str, str, str, str], Informer] = {}

    def get(self, resource: ResourceInfo, namespace: str | None = None, label_selector: str = "",
            field_selector: str = "") -> Informer:
        key = (resource.storage_name + "@" + resource.group_version, namespace or "", label_selector,
               field_selector)
        found = self._informers.get(key)
        if found is None:
            found = self._informers[key] = Informer(self.client, resource, namespace, label_selector,
                                                    field_selector)
        return found

    def stop(self) -> None:
        for informer in self._informers.values():
            informer.stop()


_SHARED: WeakKeyDictionary[ApiClient, SharedInformers] = WeakKeyDictionary()


def shared_informers(client: ApiClient) -> SharedInformers:
    """The shared informers of everything that uses `client`."""
    found = _SHARED.get(client)
    if found is None:
        found = _SHARED[client] = SharedInformers(client)
    return found
