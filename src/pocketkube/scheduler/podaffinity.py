"""Inter-pod affinity and anti-affinity (the InterPodAffinity plugin), for any topologyKey.

A topology domain is a (topologyKey, node label value) pair: pods on nodes sharing that label value
are in one domain (with `kubernetes.io/hostname`, one node; a node missing that label counts by its
name). Once per scheduling cycle `prepare` walks the pods that can matter and counts, per domain:
  * pods matching all of the incoming pod's required affinity terms,
  * pods matching each of its required anti-affinity terms,
  * existing pods whose required anti-affinity terms match the incoming pod,
  * the signed weights of preferred terms in both directions (plus weight 1 for existing pods'
    required affinity terms, kube's hardPodAffinityWeight),
so that the per-node filter and score only look up the node's own domains.
A pod whose required affinity matches no pod anywhere may still go where its topology keys exist if
it matches its own terms (the first pod of a group that wants to be together).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from pocketkube.api.errors import StatusError
from pocketkube.api.obj import Obj
from pocketkube.api.selectors import LabelSelector, Requirement, nothing, selector_from_object
from pocketkube.scheduler.nodeinfo import NodeInfo, has_pod_affinity

Domain = tuple[str, str]
HOSTNAME = "kubernetes.io/hostname"
HARD_POD_AFFINITY_WEIGHT = 1

REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"


def topology_value(info: NodeInfo, key: str) -> str | None:
    value = info.labels.get(key)
    if value is None and key == HOSTNAME:
        return info.name
    return value


@dataclass(frozen=True)
class Term:
    """A PodAffinityTerm resolved against the pod that declares it."""

    selector: LabelSelector
    namespaces: frozenset[str] | None  # None: every namespace
    namespace_selector: LabelSelector | None
    topology_key: str
    weight: int = 0

    def matches(self, pod: Obj, namespace_labels: Mapping[str, Mapping[str, str]]) -> bool:
        md = pod.get("metadata") or {}
        namespace = md.get("namespace", "")
        in_namespace = self.namespaces is None or namespace in self.namespaces
        if not in_namespace and self.namespace_selector is not None:
            in_namespace = self.namespace_selector.matches(namespace_labels.get(namespace) or {})
        return in_namespace and self.selector.matches(md.get("labels") or {})


def _term(owner: Obj, raw: Obj, weight: int = 0) -> Term:
    md = owner.get("metadata") or {}
    labels = md.get("labels") or {}
    try:
        selector = selector_from_object(raw.get("labelSelector"))
    except StatusError:
        selector = nothing()
    if not selector.match_nothing:
        # matchLabelKeys / mismatchLabelKeys merge the declaring pod's own label values in.
        extra = [Requirement(k, "in", (labels[k],)) for k in raw.get("matchLabelKeys") or [] if k in labels]
        extra += [Requirement(k, "notin", (labels[k],)) for k in raw.get("mismatchLabelKeys") or [] if k in labels]
        selector = LabelSelector(selector.requirements + tuple(extra))
    names = raw.get("namespaces") or []
    ns_selector_raw = raw.get("namespaceSelector")
    ns_selector: LabelSelector | None = None
    namespaces: frozenset[str] | None = frozenset(names)
    if ns_selector_raw is not None:
        try:
            ns_selector = selector_from_object(ns_selector_raw)
        except StatusError:
            ns_selector = nothing()
        if ns_selector.empty:
            namespaces, ns_selector = None, None  # {} selects every namespace
    elif not names:
        namespaces = frozenset([md.get("namespace", "")])
    return Term(selector, namespaces, ns_selector, raw.get("topologyKey", ""), weight)


def _section(pod: Obj, kind: str) -> Obj:
    return ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}


def required_terms(pod: Obj, kind: str) -> list[Term]:
    return [_term(pod, raw) for raw in _section(pod, kind).get("requiredDuringSchedulingIgnoredDuringExecution") or []]


def preferred_terms(pod: Obj, kind: str) -> list[Term]:
    out = []
    for raw in _section(pod, kind).get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        weight = int(raw.get("weight") or 0)
        if weight:
            out.append(_term(pod, raw.get("podAffinityTerm") or {}, weight))
    return out


@dataclass
class AffinityState:
    affinity: list[Term] = field(default_factory=list)
    anti_affinity: list[Term] = field(default_factory=list)
    affinity_counts: Counter[Domain] = field(default_factory=Counter)
    anti_affinity_counts: Counter[Domain] = field(default_factory=Counter)
    existing_anti_counts: Counter[Domain] = field(default_factory=Counter)
    scores: Counter[Domain] = field(default_factory=Counter)
    self_match: bool = False

    @property
    def scoring(self) -> bool:
        return bool(self.scores)


def prepare(pod: Obj, nodes: list[NodeInfo],
            namespace_labels: Mapping[str, Mapping[str, str]] | None = None) -> AffinityState:
    """The cycle's PreFilter + PreScore: domain counts for the filter and the score."""
    ns_labels = namespace_labels or {}
    state = AffinityState(required_terms(pod, "podAffinity"), required_terms(pod, "podAntiAffinity"))
    preferred = ([(t, t.weight) for t in preferred_terms(pod, "podAffinity")]
                 + [(t, -t.weight) for t in preferred_terms(pod, "podAntiAffinity")])
    # Only pods with affinity of their own matter unless the incoming pod has terms to match.
    walk_all = bool(state.affinity or state.anti_affinity or preferred)
    for info in nodes:
        candidates = info.pods if walk_all else info.affinity_pods
        for other in candidates.values():
            if state.affinity and all(t.matches(other, ns_labels) for t in state.affinity):
                for t in state.affinity:
                    _count(state.affinity_counts, info, t.topology_key)
            for t in state.anti_affinity:
                if t.matches(other, ns_labels):
                    _count(state.anti_affinity_counts, info, t.topology_key)
            for t, weight in preferred:
                if t.matches(other, ns_labels):
                    _count(state.scores, info, t.topology_key, weight)
            if not has_pod_affinity(other):
                continue
            for t in required_terms(other, "podAntiAffinity"):
                if t.matches(pod, ns_labels):
                    _count(state.existing_anti_counts, info, t.topology_key)
            for t in required_terms(other, "podAffinity"):
                if t.matches(pod, ns_labels):
                    _count(state.scores, info, t.topology_key, HARD_POD_AFFINITY_WEIGHT)
            for t in preferred_terms(other, "podAffinity"):
                if t.matches(pod, ns_labels):
                    _count(state.scores, info, t.topology_key, t.weight)
            for t in preferred_terms(other, "podAntiAffinity"):
                if t.matches(pod, ns_labels):
                    _count(state.scores, info, t.topology_key, -t.weight)
    state.self_match = bool(state.affinity) and all(t.matches(pod, ns_labels) for t in state.affinity)
    return state


def _count(counter: Counter[Domain], info: NodeInfo, key: str, amount: int = 1) -> None:
    value = topology_value(info, key)
    if value is not None:
        counter[(key, value)] += amount


def filter_reason(state: AffinityState, info: NodeInfo) -> str | None:
    """InterPodAffinity's Filter: affinity first, then the pod's anti-affinity, then existing pods'."""
    if state.affinity:
        values = [(t.topology_key, topology_value(info, t.topology_key)) for t in state.affinity]
        if any(v is None for _, v in values):
            return REASON_AFFINITY
        if not all(state.affinity_counts[(k, str(v))] > 0 for k, v in values):
            if state.affinity_counts or not state.self_match:
                return REASON_AFFINITY
    for t in state.anti_affinity:
        value = topology_value(info, t.topology_key)
        if value is not None and state.anti_affinity_counts[(t.topology_key, value)] > 0:
            return REASON_ANTI_AFFINITY
    if state.existing_anti_counts:
        for (key, value), count in state.existing_anti_counts.items():
            if count > 0 and topology_value(info, key) == value:
                return REASON_EXISTING_ANTI_AFFINITY
    return None


def raw_score(state: AffinityState, info: NodeInfo) -> int:
    return sum(amount for (key, value), amount in state.scores.items() if topology_value(info, key) == value)
