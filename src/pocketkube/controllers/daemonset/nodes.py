"""Which nodes a DaemonSet's pod belongs on (kube's NodeShouldRunDaemonPod), as pure functions.

A node is eligible when the pod template's nodeSelector and required node affinity match it and
every NoSchedule/NoExecute taint is tolerated — with the tolerations kube adds to every daemon pod
(not-ready, unreachable, pressure, unschedulable). An untolerated NoExecute taint also means a pod
already there must go. Pods are pinned with a `metadata.name` matchFields node affinity term.
"""

from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]

DEFAULT_TOLERATIONS: tuple[Obj, ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
NETWORK_UNAVAILABLE = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                       "effect": "NoSchedule"}


def with_default_tolerations(spec: Obj) -> list[Obj]:
    tolerations = list(spec.get("tolerations") or [])
    extra = list(DEFAULT_TOLERATIONS) + ([NETWORK_UNAVAILABLE] if spec.get("hostNetwork") else [])
    for tol in extra:
        if not any(t.get("key") == tol["key"] and t.get("effect") == tol["effect"] for t in tolerations):
            tolerations.append(dict(tol))
    return tolerations


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        op = tol.get("operator") or "Equal"
        if not tol.get("key") and op == "Exists":
            return True
        if tol.get("key") != taint.get("key"):
            continue
        if op == "Exists" or (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _requirement(req: Obj, value: str | None) -> bool:
    op, values = req.get("operator"), [str(v) for v in req.get("values") or []]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            a, b = int(value), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def _term(term: Obj, node: Obj) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    fields = {"metadata.name": (node.get("metadata") or {}).get("name")}
    exprs, matchf = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not matchf:
        return False
    return all(_requirement(r, labels.get(r.get("key"))) for r in exprs) and \
        all(_requirement(r, fields.get(r.get("key"))) for r in matchf)


def node_matches(spec: Obj, node: Obj) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is not None:
        return any(_term(t, node) for t in required.get("nodeSelectorTerms") or [])
    return True


def should_run(template_spec: Obj, node: Obj) -> tuple[bool, bool]:
    """(should run a pod there, may keep a pod already there)."""
    if not node_matches(template_spec, node):
        return False, False
    tolerations = with_default_tolerations(template_spec)
    run = keep = True
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute") or tolerates(tolerations, taint):
            continue
        run = False
        if taint.get("effect") == "NoExecute":
            keep = False
    return run, keep


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
