"""Claiming objects by selector through ownerReferences, as kube's ControllerRefManager does.

A controller owns what carries its controllerRef and still matches (its selector, and `match` when
the controller narrows further — a StatefulSet takes only pods named like its own); it adopts
orphans that match, unless it or they are being deleted; it releases what it owns but no longer
matches, unless it is being deleted itself. Objects controlled by someone else are never touched.
`claim` decides (pure); `claim_objects` patches the ownerReferences it decided on. (`controller_key`,
the owner's work-queue key, lives in controllers/base.py with `enqueue_owner`, and is re-exported.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.api.selectors import LabelSelector
from pocketkube.client.rest import ApiClient
from pocketkube.controllers.base import controller_key, controller_of, owner_reference

__all__ = ["Claim", "claim", "claim_objects", "controller_key", "labels_of", "set_owner_references", "with_owner",
           "without_owner"]


@dataclass
class Claim:
    owned: list[Obj] = field(default_factory=list)
    adopt: list[Obj] = field(default_factory=list)
    release: list[Obj] = field(default_factory=list)


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def claim(owner: Obj, selector: LabelSelector, objs: list[Obj],
          match: Callable[[Obj], bool] | None = None) -> Claim:
    """Split `objs` into those owned (kept), to adopt, and to release (ClaimObject, pure)."""
    md = owner["metadata"]
    uid, deleting, ns = md["uid"], bool(md.get("deletionTimestamp")), md.get("namespace")
    out = Claim()
    for obj in objs:
        omd = obj.get("metadata") or {}
        ref = controller_of(obj)
        matches = selector.matches(labels_of(obj)) and (match is None or match(obj))
        if ref is not None:
            if ref.get("uid") != uid:
                continue  # someone else's
            if matches:
                out.owned.append(obj)
            elif not deleting:
                out.release.append(obj)
        elif matches and not deleting and not omd.get("deletionTimestamp") and \
                (not ns or omd.get("namespace") == ns):
            out.adopt.append(obj)
    return out


def without_owner(obj: Obj, uid: str) -> list[Obj]:
    return [r for r in (obj["metadata"].get("ownerReferences") or []) if r.get("uid") != uid]


def with_owner(obj: Obj, ref: Obj) -> list[Obj]:
    return without_owner(obj, ref["uid"]) + [ref]


async def set_owner_references(client: ApiClient, resource: ResourceInfo, obj: Obj, refs: list[Obj]) -> Obj | None:
    """Write `refs` as the object's ownerReferences, guarded by its resourceVersion (a conflict
    means someone changed it: the next reconcile decides again); None when it is gone."""
    md = obj["metadata"]
    patch = {"metadata": {"ownerReferences": refs, "resourceVersion": md.get("resourceVersion")}}
    try:
        return await client.patch(resource, md["name"], patch, md.get("namespace"))
    except errors.StatusError as exc:
        if exc.code == 404:
            return None
        raise


async def claim_objects(client: ApiClient, resource: ResourceInfo, owner: Obj, selector: LabelSelector,
                        objs: list[Obj], match: Callable[[Obj], bool] | None = None) -> list[Obj]:
    """Claim `objs` for `owner`: adopt and release by patching; the owned objects (adopted included)."""
    decided = claim(owner, selector, objs, match)
    owned = list(decided.owned)
    for obj in decided.adopt:
        adopted = await set_owner_references(client, resource, obj, with_owner(obj, owner_reference(owner)))
        if adopted is not None:
            owned.append(adopted)
    for obj in decided.release:
        await set_owner_references(client, resource, obj, without_owner(obj, owner["metadata"]["uid"]))
    return owned
