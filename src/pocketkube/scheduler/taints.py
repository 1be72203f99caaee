"""The TaintToleration and NodeUnschedulable plugins: which taints a node has for scheduling, the
filter's reasons, and the PreferNoSchedule score. Whether a toleration tolerates a taint is
`pocketkube.api.scheduling.taints`, shared with the DaemonSet and taint-eviction controllers.

Nodes carry two implied taints that Kubernetes' node lifecycle controller would write: a node whose
Ready condition is not True is treated as tainted `node.kubernetes.io/not-ready:NoSchedule`
(`unreachable` when the condition is Unknown or missing), unless the node already has that taint.
`spec.unschedulable` is the NodeUnschedulable filter's business, tolerated through the
`node.kubernetes.io/unschedulable:NoSchedule` toleration as in kube.
"""

from __future__ import annotations

from collections.abc import Iterable

from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.taints import (
    NO_EXECUTE,
    NO_SCHEDULE,
    NOT_READY,
    PREFER_NO_SCHEDULE,
    UNREACHABLE,
    UNSCHEDULABLE,
    effect_in,
    find_untolerated_taint,
    tolerated_by,
    tolerations_tolerate_taint,
)

REASON_UNSCHEDULABLE = "node(s) were unschedulable"

# The taints the TaintToleration filter (and PodTopologySpread's nodeTaintsPolicy) look at.
FILTERED = effect_in(NO_SCHEDULE, NO_EXECUTE)


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


def untolerated_taint(taints: Iterable[Obj], tolerations: list[Obj]) -> Obj | None:
    """The TaintToleration filter: the first NoSchedule/NoExecute taint no toleration tolerates."""
    return find_untolerated_taint(taints, tolerations, FILTERED)


def taint_reason(taint: Obj) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key', '')}: {taint.get('value') or ''}}}"


def unschedulable_reason(node: Obj, tolerations: list[Obj]) -> str | None:
    """NodeUnschedulable: a cordoned node takes only pods tolerating the unschedulable taint."""
    if not (node.get("spec") or {}).get("unschedulable"):
        return None
    if tolerations_tolerate_taint(tolerations, {"key": UNSCHEDULABLE, "effect": NO_SCHEDULE}):
        return None
    return REASON_UNSCHEDULABLE


def intolerable_prefer_no_schedule(taints: Iterable[Obj], tolerations: list[Obj]) -> int:
    """How many PreferNoSchedule taints the pod's tolerations (empty or PreferNoSchedule effect) miss."""
    relevant = [t for t in tolerations if (t.get("effect") or PREFER_NO_SCHEDULE) == PREFER_NO_SCHEDULE]
    return sum(1 for taint in taints
               if taint.get("effect") == PREFER_NO_SCHEDULE and tolerated_by(relevant, taint) is None)
