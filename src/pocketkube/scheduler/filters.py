"""The filter chain, in kube-scheduler's default plugin order, and the FailedScheduling message.

Per node the first failing plugin decides, as in kube (NodeUnschedulable, TaintToleration,
NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity); NodeResourcesFit
may give several reasons at once. Each failure is either resolvable by preemption (resources,
ports, anti-affinity, spread skew) or not (taints, selectors, missing labels), which decides the
`preemption:` half of the message. pocketkube does not preempt, so resolvable nodes read
"No preemption victims found for incoming pod", exactly what kube says when no lower-priority pod
could make room. The message is FitError.Error(): reasons counted, rendered "N reason" and sorted
as strings, e.g.
`0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}.
preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod,
2 Preemption is not helpful for scheduling.`
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.nodeaffinity import RequiredNodeAffinity
from pocketkube.api.scheduling.taints import pod_tolerations
from pocketkube.scheduler import podaffinity, spread
from pocketkube.scheduler.affinity import REASON_NODE_AFFINITY, required_affinity
from pocketkube.scheduler.fit import Resources, fit_reasons, pod_requests
from pocketkube.scheduler.nodeinfo import NodeInfo, host_ports
from pocketkube.scheduler.taints import taint_reason, unschedulable_reason, untolerated_taint

REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"
NO_NODES = "no nodes available to schedule pods"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


@dataclass
class Failure:
    reasons: list[str]
    resolvable: bool  # kube's Unschedulable (preemption might help) vs UnschedulableAndUnresolvable


@dataclass
class CycleState:
    """What the filters precompute once per pod per cycle (kube's PreFilter)."""

    pod: Obj
    tolerations: list[Obj]
    requests: Resources
    ports: list[tuple[str, str, int]]
    affinity: podaffinity.AffinityState
    spread: spread.SpreadState
    node_affinity: RequiredNodeAffinity
    namespace_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def prepare(pod: Obj, nodes: list[NodeInfo],
            namespace_labels: Mapping[str, Mapping[str, str]] | None = None) -> CycleState:
    return CycleState(pod, pod_tolerations(pod), pod_requests(pod), host_ports(pod),
                      podaffinity.prepare(pod, nodes, namespace_labels), spread.prepare(pod, nodes),
                      required_affinity(pod), dict(namespace_labels or {}))


def _ports_conflict(wanted: list[tuple[str, str, int]], used: Counter[tuple[str, str, int]]) -> bool:
    for ip, protocol, port in wanted:
        for used_ip, used_protocol, used_port in used:
            if used_port == port and used_protocol == protocol and (
                    ip == used_ip or "0.0.0.0" in (ip, used_ip)):
                return True
    return False


def filter_node(state: CycleState, info: NodeInfo) -> Failure | None:
    """None when the node can take the pod, else the first failing plugin's reasons."""
    node = info.node or {}
    reason = unschedulable_reason(node, state.tolerations)
    if reason:
        return Failure([reason], False)
    taint = untolerated_taint(info.taints, state.tolerations)
    if taint is not None:
        return Failure([taint_reason(taint)], False)
    if not state.node_affinity.matches(info.labels, info.name):
        return Failure([REASON_NODE_AFFINITY], False)
    if state.ports and _ports_conflict(state.ports, info.ports):
        return Failure([REASON_PORTS], True)
    reasons = fit_reasons(state.requests, info.requested, info.allocatable)
    if reasons:
        return Failure(reasons, True)
    reason = spread.filter_reason(state.spread, info)
    if reason:
        return Failure([reason], reason != spread.REASON_SPREAD_LABEL)
    reason = podaffinity.filter_reason(state.affinity, info)
    if reason:
        return Failure([reason], reason != podaffinity.REASON_AFFINITY)
    return None


def _histogram(reasons: Counter[str]) -> str:
    return ", ".join(sorted(f"{count} {reason}" for reason, count in reasons.items()))


def failure_message(pod: Obj, node_count: int, failures: Mapping[str, Failure]) -> str:
    """FitError.Error() followed by DefaultPreemption's PostFilter message."""
    if node_count == 0:
        return NO_NODES
    reasons: Counter[str] = Counter()
    for failure in failures.values():
        reasons.update(failure.reasons)
    message = f"0/{node_count} nodes are available"
    message += f": {_histogram(reasons)}." if reasons else ":"
    if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
        return message + " preemption: not eligible due to preemptionPolicy=Never."
    preemption: Counter[str] = Counter()
    for failure in failures.values():
        preemption[NO_VICTIMS if failure.resolvable else NOT_HELPFUL] += 1
    preemption[NOT_HELPFUL] += node_count - len(failures)
    preemption += Counter()
    return message + f" preemption: 0/{node_count} nodes are available: {_histogram(preemption)}."
