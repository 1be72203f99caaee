"""Writes pod status to the API, once per real change.

Each pod's last written status is remembered; a status equal to it is not sent (kubelet's status
manager skips no-op writes). The pod the API returned for the last write is kept too: until the
informer brings the echo of that write, `latest(pod)` is the newer of the two, so a sync never
plans from a status older than the one the agent itself wrote (a terminal phase is final at once). The write is a merge patch of the whole `status`, with explicit nulls
for fields that disappeared, so lists (conditions, container statuses) are replaced exactly.
"""

from __future__ import annotations

import logging

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client.rest import ApiClient

log = logging.getLogger(__name__)

PODS = resources.require("", "v1", "pods")


def status_patch(old: Obj, new: Obj) -> Obj:
    patch: Obj = dict(new)
    for key in old:
        if key not in new:
            patch[key] = None
    return {"status": patch}


class StatusManager:
    def __init__(self, client: ApiClient, field_manager: str = "kubelet"):
        self.client = client
        self.field_manager = field_manager
        self._written: dict[str, Obj] = {}
        self._returned: dict[str, Obj] = {}  # uid → the pod the last write returned

    def forget(self, uid: str) -> None:
        self._written.pop(uid, None)
        self._returned.pop(uid, None)

    def latest(self, pod: Obj) -> Obj:
        """`pod` (from the informer), or the pod the agent's last status write returned if newer."""
        returned = self._returned.get(pod["metadata"]["uid"])
        if returned is None:
            return pod
        if _revision(returned) > _revision(pod):
            return returned
        del self._returned[pod["metadata"]["uid"]]  # the informer has caught up
        return pod

    async def set_status(self, pod: Obj, status: Obj) -> Obj | None:
        """Write `status` unless it is what the API already has; returns the updated pod if written."""
        md = pod["metadata"]
        uid = md["uid"]
        current = pod.get("status") or {}
        if status == current or status == self._written.get(uid):
            return None
        try:
            updated = await self.client.patch(PODS, md["name"], status_patch(current, status), md["namespace"],
                                              subresource="status", patch_type="application/merge-patch+json",
                                              field_manager=self.field_manager)
        except errors.StatusError as exc:
            if exc.code == 404:
                return None
            raise
        if (updated.get("metadata") or {}).get("uid") != uid:
            return None  # a new pod with the same name: not ours to touch
        self._written[uid] = status
        self._returned[uid] = updated
        return updated

    async def delete_terminated(self, pod: Obj) -> None:
        """The kubelet's last word on a deleted pod: remove it now that nothing runs (grace 0)."""
        md = pod["metadata"]
        try:
            await self.client.delete(PODS, md["name"], md["namespace"], grace_period=0,
                                     preconditions={"uid": md["uid"]})
        except errors.StatusError as exc:
            if exc.code not in (404, 409):
                raise
        self.forget(md["uid"])


def _revision(pod: Obj) -> int:
    try:
        return int(pod["metadata"].get("resourceVersion") or 0)
    except ValueError:
        return 0
