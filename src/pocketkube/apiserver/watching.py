"""Watches: the initial state (when asked), then every change after a revision, filtered.

Selectors make an object enter and leave a watch: an update that makes it match is ADDED, one that
makes it stop matching is DELETED, as the kube-apiserver watch cache reports them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import orjson

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.apiserver import codec
from pocketkube.apiserver.listing import ListOptions
from pocketkube.storage import CompactedError, Event, FutureRevisionError, KeyValue, Store, Watch


@dataclass
class WatchEvent:
    type: str  # ADDED MODIFIED DELETED BOOKMARK ERROR
    object: Obj
    source: tuple[str, int] | None = None  # the stored (key, revision) it shows, when shared


class DecodeCache:
    """Decoded stored values, shared by every watch of one store: N watchers of pods decode each
    revision once, not N times. Objects from here are shared and must not be mutated."""

    def __init__(self, size: int = 4096):
        self._items: OrderedDict[tuple[str, int], Obj] = OrderedDict()
        self._lines: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()
        self._size = size

    def line(self, event: WatchEvent) -> bytes:
        """The JSON line of a plain watch event, encoded once for every watcher."""
        assert event.source is not None
        key = (event.type, *event.source)
        found = self._lines.get(key)
        if found is None:
            found = self._lines[key] = orjson.dumps({"type": event.type, "object": event.object}) + b"\n"
            if len(self._lines) > self._size:
                self._lines.popitem(last=False)
        return found

    def get(self, kv: KeyValue) -> Obj:
        key = (kv.key, kv.mod_revision)
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = codec.from_store(kv)
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return found


_CACHES: WeakKeyDictionary[Store, DecodeCache] = WeakKeyDictionary()


def decode_cache(store: Store) -> DecodeCache:
    cache = _CACHES.get(store)
    if cache is None:
        cache = _CACHES[store] = DecodeCache()
    return cache


class ObjectWatch:
    """One client's watch: `initial` events (if any), then live ones from the store watch."""

    def __init__(self, resource: ResourceInfo, opts: ListOptions, initial: list[WatchEvent],
                 store_watch: Watch, decoded: DecodeCache | None = None):
        self.resource = resource
        self.opts = opts
        self.initial = initial
        self._watch = store_watch
        self._decoded = decoded if decoded is not None else DecodeCache()

    def _decode(self, kv: KeyValue) -> Obj:
        return self._decoded.get(kv)

    def encoded(self, event: WatchEvent) -> bytes:
        return self._decoded.line(event)

    def progress_revision(self) -> int:
        return self._watch.progress_revision()

    def bookmark(self, revision: int, initial_events_end: bool = False) -> WatchEvent:
        md: Obj = {"resourceVersion": str(revision)}
        if initial_events_end:
            md["annotations"] = {"k8s.io/initial-events-end": "true"}
        return WatchEvent("BOOKMARK", {"kind": self.resource.kind, "apiVersion": self.resource.api_version,
                                       "metadata": md})

    async def events(self) -> AsyncIterator[list[WatchEvent]]:
        if self.initial:
            yield self.initial
            self.initial = []
        async for batch in self._watch:
            out = [event for event in (self._translate(e) for e in batch) if event is not None]
            if out:
                yield out

    def _translate(self, event: Event) -> WatchEvent | None:
        opts = self.opts
        src = (event.kv.key, event.kv.mod_revision)
        if event.type == "DELETE":
            obj = self._decode(event.kv)
            return WatchEvent("DELETED", obj, src) if opts.matches(obj) else None
        obj = self._decode(event.kv)
        now_matches = opts.matches(obj)
        if event.type == "CREATE" or event.prev is None:
            return WatchEvent("ADDED", obj, src) if now_matches else None
        if not opts.filtered:
            return WatchEvent("MODIFIED", obj, src)
        was_matching = opts.matches(self._decode(event.prev))
        if now_matches:
            return WatchEvent("MODIFIED" if was_matching else "ADDED", obj, src)
        return WatchEvent("DELETED", obj, src) if was_matching else None

    async def close(self) -> None:
        await self._watch.close()


async def start_watch(store: Store, resource: ResourceInfo, namespace: str | None, opts: ListOptions,
                      send_initial_events: bool, bookmarks: bool) -> ObjectWatch:
    """Open a watch with kube's resourceVersion rules.

    "" or "0" (or sendInitialEvents): synthetic ADDED events for what exists now, then changes
    after it; N: changes after revision N (410 Expired once N is compacted).
    """
    prefix = resource.prefix(namespace)
    rv = opts.resource_version
    initial: list[WatchEvent] = []
    if rv in ("", "0") or send_initial_events:
        listing = await store.list(prefix, revision=int(rv) if rv not in ("", "0") else 0)
        for kv in listing.items:
            obj = codec.from_store(kv)
            if opts.matches(obj):
                initial.append(WatchEvent("ADDED", obj))
        from_revision = listing.revision
    else:
        try:
            from_revision = int(rv)
        except ValueError:
            raise errors.bad_request(f"invalid resource version: {rv}") from None
    try:
        store_watch = await store.watch(prefix, from_revision)
    except CompactedError as exc:
        raise errors.gone(f"too old resource version: {exc.requested} ({exc.compacted})") from None
    except FutureRevisionError as exc:
        raise errors.StatusError(504, "Timeout", f"Too large resource version: {exc.requested}, current: "
                                 f"{exc.current}") from None
    watch = ObjectWatch(resource, opts, initial, store_watch, decode_cache(store))
    if send_initial_events and bookmarks:
        watch.initial.append(watch.bookmark(from_revision, initial_events_end=True))
    return watch
