"""Which nodes a DaemonSet's pod belongs on (kube's NodeShouldRunDaemonPod), as pure functions.

A node is eligible when the template's `nodeName` (if any) is the node, its nodeSelector and
required node affinity match the node, and every NoSchedule/NoExecute taint is tolerated — with
the tolerations kube adds to every daemon pod (not-ready and unreachable NoExecute forever, the
pressure and unschedulable NoSchedule ones, network-unavailable for host-network pods), which
replace any the template has with the same key, operator, value and effect. An untolerated
NoExecute taint also means a pod already there must go. Matching is `api.scheduling`, the same
code the scheduler runs. Pods are pinned with a `metadata.name` matchFields node affinity term.
"""

from __future__ import annotations

import copy

from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.nodeaffinity import node_matches
from pocketkube.api.scheduling.taints import (
    DISK_PRESSURE,
    EXISTS,
    MEMORY_PRESSURE,
    NETWORK_UNAVAILABLE,
    NO_EXECUTE,
    NO_SCHEDULE,
    NOT_READY,
    PID_PRESSURE,
    UNREACHABLE,
    UNSCHEDULABLE,
    add_or_update_toleration,
    effect_in,
    find_untolerated_taint,
)


def _exists(key: str, effect: str) -> Obj:
    return {"key": key, "operator": EXISTS, "effect": effect}


# AddOrUpdateDaemonPodTolerations, in kube's order.
DEFAULT_TOLERATIONS: tuple[Obj, ...] = (
    _exists(NOT_READY, NO_EXECUTE),
    _exists(UNREACHABLE, NO_EXECUTE),
    _exists(DISK_PRESSURE, NO_SCHEDULE),
    _exists(MEMORY_PRESSURE, NO_SCHEDULE),
    _exists(PID_PRESSURE, NO_SCHEDULE),
    _exists(UNSCHEDULABLE, NO_SCHEDULE),
)
HOST_NETWORK_TOLERATION = _exists(NETWORK_UNAVAILABLE, NO_SCHEDULE)


def with_default_tolerations(spec: Obj) -> list[Obj]:
    tolerations = list(spec.get("tolerations") or [])
    extra = DEFAULT_TOLERATIONS + ((HOST_NETWORK_TOLERATION,) if spec.get("hostNetwork") else ())
    for toleration in extra:
        tolerations = add_or_update_toleration(tolerations, toleration)
    return tolerations


def should_run(template_spec: Obj, node: Obj) -> tuple[bool, bool]:
    """(should run a pod there, may keep a pod already there)."""
    name = (node.get("metadata") or {}).get("name")
    if template_spec.get("nodeName") and template_spec["nodeName"] != name:
        return False, False
    if not node_matches(template_spec, node):
        return False, False
    tolerations = with_default_tolerations(template_spec)
    taints = (node.get("spec") or {}).get("taints") or []
    if find_untolerated_taint(taints, tolerations, effect_in(NO_SCHEDULE, NO_EXECUTE)) is None:
        return True, True
    # A daemon pod already there stays unless a NoExecute taint is untolerated.
    return False, find_untolerated_taint(taints, tolerations, effect_in(NO_EXECUTE)) is None


def pin_to_node(spec: Obj, node: str) -> Obj:
    """The pod spec with its required node affinity replaced by `metadata.name In [node]`."""
    out = copy.deepcopy(spec)
    affinity = out.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
    out["tolerations"] = with_default_tolerations(out)
    return out


def target_node(pod: Obj) -> str | None:
    """The node a daemon pod is on, or is pinned to while still unscheduled."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for req in term.get("matchFields") or []:
            if req.get("key") == "metadata.name" and req.get("operator") == "In" and len(req.get("values") or []) == 1:
                return str(req["values"][0])
    return None
