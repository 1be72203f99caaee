"""Watches: the initial state (when asked), then every change after a revision, filtered.

Selectors make an object enter and leave a watch: an update that makes it match is ADDED, one that
makes it stop matching is DELETED, as the kube-apiserver watch cache reports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pocketkube.api import errors
from pocketkube.api.resources import ResourceInfo
from pocketkube.apiserver import codec
from pocketkube.apiserver.listing import ListOptions
from pocketkube.storage import CompactedError, Event, FutureRevisionError, Store, Watch

Obj = dict[str, Any]


@dataclass
class WatchEvent:
    type: str  # ADDED MODIFIED DELETED BOOKMARK ERROR
    object: Obj


class ObjectWatch:
    """One client's watch: `initial` events (if any), then live ones from the store watch."""

    def __init__(self, resource: ResourceInfo, opts: ListOptions, initial: list[WatchEvent],
                 store_watch: Watch):
        self.resource = resource
        self.opts = opts
        self.initial = initial
        self._watch = store_watch

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
        if event.type == "DELETE":
            obj = codec.from_store(event.kv)
            return WatchEvent("DELETED", obj) if opts.matches(obj) else None
        obj = codec.from_store(event.kv)
        now_matches = opts.matches(obj)
        if event.type == "CREATE" or event.prev is None:
            return WatchEvent("ADDED", obj) if now_matches else None
        if not opts.filtered:
            return WatchEvent("MODIFIED", obj)
        was_matching = opts.matches(codec.from_store(event.prev))
        if now_matches:
            return WatchEvent("MODIFIED" if was_matching else "ADDED", obj)
        return WatchEvent("DELETED", obj) if was_matching else None

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
    watch = ObjectWatch(resource, opts, initial, store_watch)
    if send_initial_events and bookmarks:
        watch.initial.append(watch.bookmark(from_revision, initial_events_end=True))
    return watch
