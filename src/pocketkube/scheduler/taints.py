"""Taints and tolerations, as the TaintToleration and NodeUnschedulable plugins read them.

A toleration matches a taint when the effects agree (an empty effect tolerates every effect) and
either the keys are equal and the operator is `Exists`, or the keys and values are equal with
`Equal` (the default operator); an empty key with `Exists` tolerates every taint.

Nodes carry two implied taints that Kubernetes' node lifecycle controller would write: a node whose
Ready condition is not True is treated as tainted `node.kubernetes.io/not-ready:NoSchedule`
(`unreachable` when the condition is Unknown or missing), unless the node already has that taint.
`spec.unschedulable` is the NodeUnschedulable filter's business, tolerated through the
`node.kubernetes.io/unschedulable:NoSchedule` toleration as in kube.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]

NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE = "NoSchedule", "PreferNoSchedule", "NoExecute"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"

REASON_UNSCHEDULABLE = "node(s) were unschedulable"


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """v1 Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return bool((toleration.get("value") or "") == (taint.get("value") or ""))
    return False


def tolerated_by(tolerations: Iterable[Obj], taint: Obj) -> Obj | None:
    """The first toleration that tolerates the taint, or None."""
    for toleration in tolerations:
        if tolerates(toleration, taint):
            return toleration
    return None


def node_taints(node: Obj) -> list[Obj]:
    """spec.taints plus the not-ready/unreachable NoSchedule taint a node that isn't Ready implies."""
    taints = list((node.get("spec") or {}).get("taints") or [])
    status = "Unknown"
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            status = condition.get("status") or "Unknown"
    if status != "True":
        key = NOT_READY if status == "False" else UNREACHABLE
        if not any(t.get("key") == key and t.get("effect") == NO_SCHEDULE for t in taints):
            taints.append({"key": key, "effect": NO_SCHEDULE})
    return taints


def pod_tolerations(pod: Obj) -> list[Obj]:
    return list((pod.get("spec") or {}).get("tolerations") or [])


def untolerated_taint(taints: Iterable[Obj], tolerations: list[Obj],
                      effects: tuple[str, ...] = (NO_SCHEDULE, NO_EXECUTE)) -> Obj | None:
    """The first taint with one of `effects` that no toleration tolerates (FindMatchingUntoleratedTaint)."""
    for taint in taints:
        if taint.get("effect") in effects and tolerated_by(tolerations, taint) is None:
            return taint
    return None


def taint_reason(taint: Obj) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value') or ''}}}"


def unschedulable_reason(node: Obj, tolerations: list[Obj]) -> str | None:
    """NodeUnschedulable: a cordoned node takes only pods tolerating the unschedulable taint."""
    if not (node.get("spec") or {}).get("unschedulable"):
        return None
    if tolerated_by(tolerations, {"key": UNSCHEDULABLE, "effect": NO_SCHEDULE}) is not None:
        return None
    return REASON_UNSCHEDULABLE


def intolerable_prefer_no_schedule(taints: Iterable[Obj], tolerations: list[Obj]) -> int:
    """How many PreferNoSchedule taints the pod's tolerations (empty or PreferNoSchedule effect) miss."""
    relevant = [t for t in tolerations if (t.get("effect") or PREFER_NO_SCHEDULE) == PREFER_NO_SCHEDULE]
    return sum(1 for taint in taints
               if taint.get("effect") == PREFER_NO_SCHEDULE and tolerated_by(relevant, taint) is None)


def eviction_delay(taints: Iterable[Obj], tolerations: list[Obj]) -> float | None:
    """For NoExecute taints: None when the pod may stay forever, else seconds until eviction (0 = now).

    As kube's taint eviction: an untolerated NoExecute taint evicts at once; otherwise each taint's
    first matching toleration is "used", and the pod stays for the smallest tolerationSeconds among
    them (≤ 0 means now); used tolerations without tolerationSeconds tolerate forever.
    """
    used: list[Obj] = []
    for taint in taints:
        if taint.get("effect") != NO_EXECUTE:
            continue
        toleration = tolerated_by(tolerations, taint)
        if toleration is None:
            return 0.0
        used.append(toleration)
    bounded = [float(t["tolerationSeconds"]) for t in used if t.get("tolerationSeconds") is not None]
    if not bounded:
        return None
    return max(0.0, min(bounded))
