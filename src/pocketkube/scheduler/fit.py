"""Pure scheduling decisions: what a pod asks for, which nodes can take it, which is best.

Filters follow kube-scheduler's wording so FailedScheduling events read the same:
`0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.`
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pocketkube.api.quantity import to_bytes, to_millicores

Obj = dict[str, Any]


@dataclass(frozen=True)
class Resources:
    milli_cpu: int = 0
    memory: int = 0
    pods: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.milli_cpu + other.milli_cpu, self.memory + other.memory, self.pods + other.pods)


def _container_requests(container: Obj) -> Resources:
    requests = (container.get("resources") or {}).get("requests") or {}
    return Resources(to_millicores(requests["cpu"]) if "cpu" in requests else 0,
                     to_bytes(requests["memory"]) if "memory" in requests else 0)


def pod_requests(pod: Obj) -> Resources:
    """Effective requests: app containers and sidecars together, or the largest init container."""
    spec = pod.get("spec") or {}
    total = Resources()
    for container in spec.get("containers") or []:
        total = total + _container_requests(container)
    sidecars = Resources()
    init_peak = Resources()
    for init in spec.get("initContainers") or []:
        req = _container_requests(init)
        if init.get("restartPolicy") == "Always":
            sidecars = sidecars + req
            continue
        running = sidecars + req
        init_peak = Resources(max(init_peak.milli_cpu, running.milli_cpu), max(init_peak.memory, running.memory))
    total = total + sidecars
    return Resources(max(total.milli_cpu, init_peak.milli_cpu), max(total.memory, init_peak.memory), 1)


def node_allocatable(node: Obj) -> Resources:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    return Resources(to_millicores(alloc.get("cpu", "0")), to_bytes(alloc.get("memory", "0")),
                     int(alloc.get("pods", "110")))


def node_ready(node: Obj) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def filter_node(pod: Obj, node: Obj, used: Resources) -> list[str]:
    """Why the node cannot take the pod (kube-scheduler's reasons); empty when it can."""
    spec = pod.get("spec") or {}
    node_spec = node.get("spec") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    if not node_ready(node):
        return ["node(s) were not ready"]
    if node_spec.get("unschedulable"):
        return ["node(s) were unschedulable"]
    selector = spec.get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return ["node(s) didn't match Pod's node affinity/selector"]
    want = pod_requests(pod)
    have = node_allocatable(node)
    reasons = []
    if used.pods + 1 > have.pods:
        reasons.append("Too many pods")
    if want.milli_cpu and used.milli_cpu + want.milli_cpu > have.milli_cpu:
        reasons.append("Insufficient cpu")
    if want.memory and used.memory + want.memory > have.memory:
        reasons.append("Insufficient memory")
    return reasons


def score_node(pod: Obj, node: Obj, used: Resources) -> float:
    """Least allocated: the share of cpu and memory left after placing the pod (higher is better)."""
    have = node_allocatable(node)
    want = pod_requests(pod)
    cpu = 1 - (used.milli_cpu + want.milli_cpu) / have.milli_cpu if have.milli_cpu else 0.0
    mem = 1 - (used.memory + want.memory) / have.memory if have.memory else 0.0
    return (cpu + mem) / 2


def choose_node(pod: Obj, nodes: list[Obj], used: dict[str, Resources]) -> tuple[str | None, str]:
    """(node name, "") when one fits, else (None, the FailedScheduling message)."""
    best: tuple[float, str] | None = None
    reasons: Counter[str] = Counter()
    for node in nodes:
        name = node["metadata"]["name"]
        node_used = used.get(name, Resources())
        why = filter_node(pod, node, node_used)
        if why:
            reasons.update(why)
            continue
        score = score_node(pod, node, node_used)
        if best is None or (score, name) > best:
            best = (score, name)
    if best is not None:
        return best[1], ""
    detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    message = f"0/{len(nodes)} nodes are available"
    message += f": {detail}." if detail else "."
    return None, message
