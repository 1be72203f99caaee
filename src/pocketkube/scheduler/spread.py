"""Pod topology spread (the PodTopologySpread plugin), and spreading one owner's pods by default.

For a constraint, a domain is a value of its topologyKey among the nodes that count (nodes with
every constraint key; with `nodeAffinityPolicy: Honor`, the default, only nodes matching the pod's
node selector/affinity; with `nodeTaintsPolicy: Honor`, only nodes whose taints it tolerates).
Matching pods are live pods in the pod's namespace that the constraint's labelSelector (plus
`matchLabelKeys`) selects. A `DoNotSchedule` constraint rejects a node when
`pods in its domain + (1 if the pod matches itself) - the smallest domain count > maxSkew`;
the smallest count is 0 while fewer than `minDomains` domains exist. `ScheduleAnyway` constraints
score: fewer matching pods in the node's domain is better, weighted by log(domains + 2) as kube does.

A pod without constraints gets kube's system defaults as a score — hostname maxSkew 3 and zone
maxSkew 5, both ScheduleAnyway — over "pods of the same owner": kube selects them through the
Services/ReplicaSets/StatefulSets that select the pod; we use the pod's controller ownerReference,
whose per-node counts the cache keeps, so this costs O(nodes) per pod.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from pocketkube.api.errors import StatusError
from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.taints import pod_tolerations
from pocketkube.api.selectors import LabelSelector, Requirement, selector_from_object
from pocketkube.scheduler.affinity import required_affinity
from pocketkube.scheduler.nodeinfo import NodeInfo, owner_uid
from pocketkube.scheduler.podaffinity import topology_value
from pocketkube.scheduler.taints import untolerated_taint

ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
MAX_NODE_SCORE = 100

REASON_SPREAD = "node(s) didn't match pod topology spread constraints"
REASON_SPREAD_LABEL = REASON_SPREAD + " (missing required label)"


@dataclass
class Constraint:
    max_skew: int
    key: str
    hard: bool
    min_domains: int
    count: Callable[[NodeInfo], int]  # matching pods on one node
    self_match: int
    honor_affinity: bool = True
    honor_taints: bool = False


def _selector_counter(pod: Obj, raw: Obj) -> tuple[Callable[[NodeInfo], int], int]:
    md = pod.get("metadata") or {}
    labels, namespace = md.get("labels") or {}, md.get("namespace", "")
    try:
        selector = selector_from_object(raw.get("labelSelector"))
    except StatusError:
        selector = selector_from_object(None)
    if not selector.match_nothing:
        extra = [Requirement(k, "in", (labels[k],)) for k in raw.get("matchLabelKeys") or [] if k in labels]
        selector = LabelSelector(selector.requirements + tuple(extra))

    def count(info: NodeInfo) -> int:
        return sum(1 for other in info.pods.values()
                   if (omd := other.get("metadata") or {}).get("namespace") == namespace
                   and not omd.get("deletionTimestamp") and selector.matches(omd.get("labels") or {}))

    return count, int(selector.matches(labels))


def constraints(pod: Obj) -> list[Constraint]:
    """The pod's own constraints, or the system defaults over its owner's pods (soft only)."""
    spec = pod.get("spec") or {}
    out = []
    for raw in spec.get("topologySpreadConstraints") or []:
        count, self_match = _selector_counter(pod, raw)
        out.append(Constraint(int(raw.get("maxSkew") or 1), raw.get("topologyKey", ""),
                              raw.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule",
                              int(raw.get("minDomains") or 1), count, self_match,
                              raw.get("nodeAffinityPolicy", "Honor") == "Honor",
                              raw.get("nodeTaintsPolicy", "Ignore") == "Honor"))
    if out or not (uid := owner_uid(pod)):
        return out

    def same_owner(info: NodeInfo) -> int:
        return info.owners.get(uid, 0)

    return [Constraint(3, HOSTNAME, False, 1, same_owner, 1), Constraint(5, ZONE, False, 1, same_owner, 1)]


def _counts(pod: Obj, cs: list[Constraint], nodes: list[NodeInfo], require_all: bool) -> list[dict[str, int]]:
    """Per constraint: domain value → matching pods, over the nodes that count."""
    tolerations = pod_tolerations(pod)
    affinity = required_affinity(pod)
    counts: list[dict[str, int]] = [{} for _ in cs]
    for info in nodes:
        if require_all and any(topology_value(info, c.key) is None for c in cs):
            continue
        for i, c in enumerate(cs):
            value = topology_value(info, c.key)
            if value is None:
                continue
            if c.honor_affinity and not affinity.matches(info.labels, info.name):
                continue
            if c.honor_taints and untolerated_taint(info.taints, tolerations) is not None:
                continue
            counts[i][value] = counts[i].get(value, 0) + c.count(info)
    return counts


@dataclass
class SpreadState:
    hard: list[Constraint]
    counts: list[dict[str, int]]


def prepare(pod: Obj, nodes: list[NodeInfo]) -> SpreadState:
    hard = [c for c in constraints(pod) if c.hard]
    return SpreadState(hard, _counts(pod, hard, nodes, require_all=True) if hard else [])


def filter_reason(state: SpreadState, info: NodeInfo) -> str | None:
    for c in state.hard:
        if topology_value(info, c.key) is None:
            return REASON_SPREAD_LABEL
    for c, counts in zip(state.hard, state.counts, strict=True):
        value = topology_value(info, c.key)
        smallest = min(counts.values()) if counts and len(counts) >= c.min_domains else 0
        if counts.get(str(value), 0) + c.self_match - smallest > c.max_skew:
            return REASON_SPREAD
    return None


def scores(pod: Obj, filtered: list[NodeInfo], all_nodes: list[NodeInfo]) -> dict[str, int]:
    """Normalised 0–100 scores of the filtered nodes for the ScheduleAnyway constraints (or defaults)."""
    own = bool((pod.get("spec") or {}).get("topologySpreadConstraints"))
    soft = [c for c in constraints(pod) if not c.hard]
    if not soft:
        return {}
    counts = _counts(pod, soft, all_nodes, require_all=own)
    weights = []
    for c in soft:
        domains = len(filtered) if c.key == HOSTNAME else len({topology_value(n, c.key) for n in filtered} - {None})
        weights.append(math.log(domains + 2))
    raw: dict[str, int] = {}
    ignored: set[str] = set()
    for info in filtered:
        if own and any(topology_value(info, c.key) is None for c in soft):
            ignored.add(info.name)
            continue
        total = 0.0
        for c, domain_counts, weight in zip(soft, counts, weights, strict=True):
            value = topology_value(info, c.key)
            if value is not None:
                total += domain_counts.get(value, 0) * weight + (c.max_skew - 1)
        raw[info.name] = round(total)
    out = {name: 0 for name in ignored}
    if raw:
        low, high = min(raw.values()), max(raw.values())
        for name, total in raw.items():
            out[name] = MAX_NODE_SCORE if high == 0 else MAX_NODE_SCORE * (high + low - total) // high
    return out
