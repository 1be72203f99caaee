"""Recording Events about objects, as client-go's EventRecorder does (core/v1 Events).

Repeats of the same (object, type, reason, message) within a component bump `count` and
`lastTimestamp` on one Event instead of creating another, so `kubectl describe` shows `x3`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pocketkube.api import errors, meta, resources
from pocketkube.api.obj import Obj
from pocketkube.client.rest import ApiClient

log = logging.getLogger(__name__)

EVENTS = resources.require("", "v1", "events")


def object_reference(obj: Obj) -> Obj:
    md = obj.get("metadata") or {}
    ref = {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", ""), "name": md.get("name", ""),
           "uid": md.get("uid", ""), "resourceVersion": md.get("resourceVersion", "")}
    if md.get("namespace"):
        ref["namespace"] = md["namespace"]
    return ref


class EventRecorder:
    def __init__(self, client: ApiClient, component: str, host: str = ""):
        self.client = client
        self.component = component
        self.host = host
        self._seen: dict[tuple[str, str, str, str], tuple[str, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        """Record in the background: events are best effort and never block the caller."""
        task = asyncio.create_task(self.record(obj, type_, reason, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def record(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        ref = object_reference(obj)
        namespace = ref.get("namespace") or "default"
        key = (ref["uid"], type_, reason, message)
        now = meta.rfc3339(meta.now())
        try:
            previous = self._seen.get(key)
            if previous is not None:
                name, count = previous
                await self.client.patch(EVENTS, name, {"count": count + 1, "lastTimestamp": now}, namespace)
                self._seen[key] = (name, count + 1)
                return
            source: Obj = {"component": self.component}
            if self.host:
                source["host"] = self.host
            event = {
                "apiVersion": "v1", "kind": "Event",
                # client-go's naming: the object's name and the time in nanoseconds, in hex
                "metadata": {"name": f"{ref['name']}.{time.time_ns():x}", "namespace": namespace},
                "involvedObject": ref, "reason": reason, "message": message, "type": type_,
                "source": source, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                "reportingComponent": self.component, "reportingInstance": self.host or self.component,
            }
            created = await self.client.create(EVENTS, event, namespace)
            self._seen[key] = (created["metadata"]["name"], 1)
        except errors.StatusError as exc:
            self._seen.pop(key, None)
            log.debug("event %s for %s not recorded: %s", reason, ref["name"], exc.message)
        except OSError as exc:
            log.debug("event %s for %s not recorded: %s", reason, ref["name"], exc)
