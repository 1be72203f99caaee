"""Claiming objects by selector through ownerReferences, as kube's ControllerRefManager does.

A controller owns what carries its controllerRef; it adopts orphans its selector matches and
releases what it owns but no longer matches. Pure: this decides, the controller patches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pocketkube.api.selectors import LabelSelector
from pocketkube.controllers.base import controller_of

Obj = dict[str, Any]


@dataclass
class Claim:
    owned: list[Obj] = field(default_factory=list)
    adopt: list[Obj] = field(default_factory=list)
    release: list[Obj] = field(default_factory=list)


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def claim(owner: Obj, selector: LabelSelector, objs: list[Obj]) -> Claim:
    """Split `objs` into those owned (kept), to adopt, and to release. An owner being deleted adopts nothing."""
    uid = owner["metadata"]["uid"]
    deleting = bool(owner["metadata"].get("deletionTimestamp"))
    out = Claim()
    for obj in objs:
        ref = controller_of(obj)
        matches = selector.matches(labels_of(obj))
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches:
                out.owned.append(obj)
            elif not deleting:
                out.release.append(obj)
        elif matches and not deleting and not obj["metadata"].get("deletionTimestamp"):
            out.adopt.append(obj)
    return out


def without_owner(obj: Obj, uid: str) -> list[Obj]:
    return [r for r in (obj["metadata"].get("ownerReferences") or []) if r.get("uid") != uid]


def with_owner(obj: Obj, ref: Obj) -> list[Obj]:
    return without_owner(obj, ref["uid"]) + [ref]
