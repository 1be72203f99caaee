"""Node affinity: `nodeSelector` and `affinity.nodeAffinity`, the NodeAffinity plugin's filter and score.

A node passes when every `nodeSelector` label matches and, if the pod has
`requiredDuringSchedulingIgnoredDuringExecution`, at least one of its `nodeSelectorTerms` matches
(terms are ORed; the requirements inside one term are ANDed; a term with no requirements matches
nothing). Operators are NodeSelectorRequirement's: In, NotIn, Exists, DoesNotExist, Gt, Lt (integer
comparison of the label's value), and `matchFields` supports `metadata.name` with In/NotIn.
Preferred terms add their weight to a node they match; the plugin's score is that sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]

REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector"


def _as_int(text: str) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def requirement_matches(requirement: Obj, labels: Mapping[str, str]) -> bool:
    key, op = requirement.get("key", ""), requirement.get("operator", "")
    values = list(requirement.get("values") or [])
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        if key not in labels or len(values) != 1:
            return False
        have, bound = _as_int(labels[key]), _as_int(values[0])
        if have is None or bound is None:
            return False
        return have > bound if op == "Gt" else have < bound
    return False


def term_matches(term: Obj, labels: Mapping[str, str], node_name: str) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    if not all(requirement_matches(r, labels) for r in expressions):
        return False
    # matchFields: only metadata.name is a node field the selector may use.
    return all(r.get("key") == "metadata.name" and requirement_matches(r, {"metadata.name": node_name})
               for r in fields)


def _node_affinity(pod: Obj) -> Obj:
    return ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}


def matches_node(pod: Obj, labels: Mapping[str, str], node_name: str) -> bool:
    """nodeSelector and required node affinity (component-helpers' GetRequiredNodeAffinity.Match)."""
    for key, value in ((pod.get("spec") or {}).get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return True
    return any(term_matches(term, labels, node_name) for term in required.get("nodeSelectorTerms") or [])


def preferred_score(pod: Obj, labels: Mapping[str, str], node_name: str) -> int:
    """The sum of weights of the preferred terms this node matches (before normalising)."""
    total = 0
    for term in _node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        if term.get("weight") and term_matches(term.get("preference") or {}, labels, node_name):
            total += int(term["weight"])
    return total


def has_preferred(pod: Obj) -> bool:
    return bool(_node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution"))
