"""Expectations, as kube's controllers keep them: pods a reconcile created or deleted that the
informer cache has not shown yet. Until it has, the next reconcile must not act on the stale cache
(it would create the same pods again). Expectations lapse after `ttl` seconds in case a watch event
never comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass
class _Pending:
    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    since: float = field(default_factory=time.monotonic)


class Expectations:
    def __init__(self, ttl: float = 30.0):
        self.ttl = ttl
        self._pending: dict[str, _Pending] = {}

    def created(self, key: str, pod_key: str) -> None:
        self._pending.setdefault(key, _Pending()).created.add(pod_key)

    def deleted(self, key: str, pod_key: str) -> None:
        self._pending.setdefault(key, _Pending()).deleted.add(pod_key)

    def satisfied(self, key: str, lookup: Callable[[str], Obj | None]) -> bool:
        """Whether the cache (`lookup` by pod key) shows every create and delete of `key`."""
        pending = self._pending.get(key)
        if pending is None:
            return True
        pending.created = {k for k in pending.created if lookup(k) is None}
        pending.deleted = {k for k in pending.deleted
                           if (pod := lookup(k)) is not None and not pod["metadata"].get("deletionTimestamp")}
        if (not pending.created and not pending.deleted) or time.monotonic() - pending.since > self.ttl:
            del self._pending[key]
            return True
        return False

    def forget(self, key: str) -> None:
        self._pending.pop(key, None)
