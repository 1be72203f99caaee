"""Score plugins with kube-scheduler's default weights, and picking the node.

Each plugin gives every feasible node 0–100 (after its own normalisation), the total is the
weighted sum — TaintToleration ×3, NodeAffinity ×2, PodTopologySpread ×2 (including the default
owner spreading), InterPodAffinity ×2, NodeResourcesFit (LeastAllocated) ×1,
NodeResourcesBalancedAllocation ×1 — and the highest total wins; ties go to the node first in name
order (kube picks among ties at random; determinism makes tests and debugging simpler).
"""

from __future__ import annotations

from pocketkube.scheduler import podaffinity, spread
from pocketkube.scheduler.affinity import has_preferred, preferred_terms
from pocketkube.scheduler.filters import CycleState
from pocketkube.scheduler.fit import Resources, pod_requests
from pocketkube.scheduler.nodeinfo import NodeInfo
from pocketkube.scheduler.taints import intolerable_prefer_no_schedule

MAX = 100
WEIGHTS = {"TaintToleration": 3, "NodeAffinity": 2, "PodTopologySpread": 2, "InterPodAffinity": 2,
           "NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1}


def least_allocated(want: Resources, used: Resources, allocatable: Resources) -> int:
    """Mean over cpu and memory of the share left free after placing the pod, 0–100."""
    total = 0
    for requested, capacity in ((used.milli_cpu + want.milli_cpu, allocatable.milli_cpu),
                                (used.memory + want.memory, allocatable.memory)):
        if capacity > 0 and requested <= capacity:
            total += (capacity - requested) * MAX // capacity
    return total // 2


def balanced_allocation(want: Resources, used: Resources, allocatable: Resources) -> int:
    """100 × (1 − standard deviation of the cpu and memory fractions requested)."""
    fractions = []
    for requested, capacity in ((used.milli_cpu + want.milli_cpu, allocatable.milli_cpu),
                                (used.memory + want.memory, allocatable.memory)):
        if capacity > 0:
            fractions.append(min(1.0, requested / capacity))
    if len(fractions) < 2:
        return MAX
    std = abs(fractions[0] - fractions[1]) / 2
    return int((1 - std) * MAX)


def default_normalize(raw: dict[str, int], reverse: bool = False) -> dict[str, int]:
    """helper.DefaultNormalizeScore: scale to 0–100 by the maximum; reversed, fewer is better."""
    top = max(raw.values(), default=0)
    if top == 0:
        return {name: MAX if reverse else 0 for name in raw}
    return {name: (MAX - value * MAX // top) if reverse else value * MAX // top for name, value in raw.items()}


def min_max_normalize(raw: dict[str, int]) -> dict[str, int]:
    """InterPodAffinity's normalisation: (score − min) scaled by (max − min); all 0 when flat."""
    if not raw:
        return {}
    low, high = min(raw.values()), max(raw.values())
    if high == low:
        return {name: 0 for name in raw}
    return {name: int(MAX * (value - low) / (high - low)) for name, value in raw.items()}


def score_nodes(state: CycleState, feasible: list[NodeInfo], all_nodes: list[NodeInfo]) -> dict[str, int]:
    """The weighted total of every score plugin for each feasible node."""
    pod = state.pod
    want = pod_requests(pod, nonzero=True)
    plugins: dict[str, dict[str, int]] = {
        "NodeResourcesFit": {n.name: least_allocated(want, n.nonzero, n.allocatable) for n in feasible},
        "NodeResourcesBalancedAllocation": {n.name: balanced_allocation(want, n.nonzero, n.allocatable)
                                            for n in feasible},
        "TaintToleration": default_normalize(
            {n.name: intolerable_prefer_no_schedule(n.taints, state.tolerations) for n in feasible}, reverse=True),
        "PodTopologySpread": spread.scores(pod, feasible, all_nodes),
    }
    if has_preferred(pod):
        preferred = preferred_terms(pod)
        plugins["NodeAffinity"] = default_normalize({n.name: preferred.score(n.labels, n.name) for n in feasible})
    if state.affinity.scoring:
        plugins["InterPodAffinity"] = min_max_normalize(
            {n.name: podaffinity.raw_score(state.affinity, n) for n in feasible})
    totals = {n.name: 0 for n in feasible}
    for plugin, node_scores in plugins.items():
        weight = WEIGHTS[plugin]
        for name, value in node_scores.items():
            totals[name] += weight * value
    return totals


def pick(totals: dict[str, int]) -> str | None:
    best: tuple[int, str] | None = None
    for name, total in totals.items():
        if best is None or total > best[0] or (total == best[0] and name < best[1]):
            best = (total, name)
    return best[1] if best else None
