"""What the garbage collector does with one dependent, given the state of each of its owners.

Kubernetes' attemptToDeleteItem, as a pure function: an owner is *solid* (exists, not being deleted
in the foreground), *dangling* (no object with that uid) or *waiting* (being deleted in the
foreground, i.e. waiting for its dependents). With a solid owner left, references to the others are
removed; with none, the dependent itself is deleted — in the foreground when an owner waits for it
and it has dependents of its own, so the wait propagates down the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pocketkube.api.obj import Obj

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


class OwnerState(Enum):
    SOLID = "solid"
    DANGLING = "dangling"
    WAITING = "waiting"


@dataclass(frozen=True)
class Plan:
    """`delete` with `propagation` ("" keeps the dependent's own finalizers' policy), or remove the
    owner references in `remove_uids`, or nothing."""

    delete: bool = False
    propagation: str = ""
    remove_uids: tuple[str, ...] = ()


NOTHING = Plan()


def owner_state(owner: Obj | None, uid: str) -> OwnerState:
    """The state of a looked-up owner (None: not found)."""
    md = (owner or {}).get("metadata") or {}
    if owner is None or md.get("uid") != uid:
        return OwnerState.DANGLING
    if md.get("deletionTimestamp") and FOREGROUND in (md.get("finalizers") or []):
        return OwnerState.WAITING
    return OwnerState.SOLID


def plan_dependent(refs: list[Obj], states: dict[str, OwnerState], has_dependents: bool) -> Plan:
    solid = [r for r in refs if states.get(r["uid"], OwnerState.SOLID) is OwnerState.SOLID]
    others = [r for r in refs if states.get(r["uid"], OwnerState.SOLID) is not OwnerState.SOLID]
    if not others:
        return NOTHING
    if solid:
        return Plan(remove_uids=tuple(r["uid"] for r in others))
    waiting = any(states[r["uid"]] is OwnerState.WAITING for r in others)
    return Plan(delete=True, propagation="Foreground" if waiting and has_dependents else "")


def blocking(dependents: list[Obj], owner_uid: str) -> list[Obj]:
    """Dependents whose reference to the owner has blockOwnerDeletion: a foreground deletion waits
    for these to be gone."""
    return [d for d in dependents
            if any(r.get("uid") == owner_uid and r.get("blockOwnerDeletion")
                   for r in (d.get("metadata") or {}).get("ownerReferences") or [])]


def without_owner(refs: list[Obj], uids: tuple[str, ...] | set[str]) -> list[Obj]:
    return [r for r in refs if r.get("uid") not in uids]
