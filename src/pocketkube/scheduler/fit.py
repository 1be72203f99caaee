"""Resources: what a pod asks for, what a node offers, and the NodeResourcesFit filter.

Requests are the effective ones kube computes (app containers plus restartable init "sidecars",
or the largest init container if bigger, plus `spec.overhead`). cpu is in millicores, memory and
every other resource (ephemeral-storage, hugepages, extended resources like nvidia.com/gpu) in
integer units. Scores use the "non-zero" requests: a container without a cpu or memory request
counts as 100m / 200Mi, so pods that ask for nothing still spread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pocketkube.api.obj import Obj
from pocketkube.api.quantity import to_bytes, to_millicores

DEFAULT_MILLI_CPU = 100  # kube's non-zero defaults for scoring (schedutil.DefaultMilliCPURequest)
DEFAULT_MEMORY = 200 * 1024 * 1024


@dataclass(frozen=True)
class Resources:
    milli_cpu: int = 0
    memory: int = 0
    pods: int = 0
    scalars: Mapping[str, int] = field(default_factory=dict, hash=False)

    def __add__(self, other: Resources) -> Resources:
        scalars = dict(self.scalars)
        for name, amount in other.scalars.items():
            scalars[name] = scalars.get(name, 0) + amount
        return Resources(self.milli_cpu + other.milli_cpu, self.memory + other.memory, self.pods + other.pods,
                         scalars)

    def __sub__(self, other: Resources) -> Resources:
        scalars = dict(self.scalars)
        for name, amount in other.scalars.items():
            scalars[name] = scalars.get(name, 0) - amount
        return Resources(self.milli_cpu - other.milli_cpu, self.memory - other.memory, self.pods - other.pods,
                         {k: v for k, v in scalars.items() if v})

    def peak(self, other: Resources) -> Resources:
        """Resource-wise maximum (an init container runs alone, so only the peak counts)."""
        names = set(self.scalars) | set(other.scalars)
        return Resources(max(self.milli_cpu, other.milli_cpu), max(self.memory, other.memory),
                         max(self.pods, other.pods),
                         {n: max(self.scalars.get(n, 0), other.scalars.get(n, 0)) for n in names})


def _requests(requests: Mapping[str, Any], nonzero: bool = False) -> Resources:
    cpu = to_millicores(requests["cpu"]) if "cpu" in requests else (DEFAULT_MILLI_CPU if nonzero else 0)
    memory = to_bytes(requests["memory"]) if "memory" in requests else (DEFAULT_MEMORY if nonzero else 0)
    if nonzero:
        return Resources(cpu, memory)
    scalars = {name: to_bytes(value) for name, value in requests.items() if name not in ("cpu", "memory")}
    return Resources(cpu, memory, 0, {k: v for k, v in scalars.items() if v})


def _container_requests(container: Obj, nonzero: bool) -> Resources:
    return _requests((container.get("resources") or {}).get("requests") or {}, nonzero)


def pod_requests(pod: Obj, nonzero: bool = False) -> Resources:
    """Effective requests: app containers and sidecars together, or the largest init container.

    With `nonzero`, cpu and memory only, unset requests counted at kube's scoring defaults.
    """
    spec = pod.get("spec") or {}
    total = Resources()
    for container in spec.get("containers") or []:
        total = total + _container_requests(container, nonzero)
    sidecars = Resources()
    init_peak = Resources()
    for init in spec.get("initContainers") or []:
        req = _container_requests(init, nonzero)
        if init.get("restartPolicy") == "Always":
            sidecars = sidecars + req
            continue
        init_peak = init_peak.peak(sidecars + req)
    total = (total + sidecars).peak(init_peak)
    if spec.get("overhead") and not nonzero:
        total = total + _requests(spec["overhead"])
    return total + Resources(pods=1)


def node_allocatable(node: Obj) -> Resources:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    scalars = {name: to_bytes(value) for name, value in alloc.items() if name not in ("cpu", "memory", "pods")}
    return Resources(to_millicores(alloc.get("cpu", "0")), to_bytes(alloc.get("memory", "0")),
                     int(alloc.get("pods", "110")), scalars)


def node_ready(node: Obj) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def fit_reasons(want: Resources, requested: Resources, allocatable: Resources) -> list[str]:
    """NodeResourcesFit: every resource the node lacks, in kube's order and wording."""
    reasons = []
    if requested.pods + 1 > allocatable.pods:
        reasons.append("Too many pods")
    if want.milli_cpu and requested.milli_cpu + want.milli_cpu > allocatable.milli_cpu:
        reasons.append("Insufficient cpu")
    if want.memory and requested.memory + want.memory > allocatable.memory:
        reasons.append("Insufficient memory")
    for name in sorted(want.scalars, key=lambda n: (n != "ephemeral-storage", n)):
        if requested.scalars.get(name, 0) + want.scalars[name] > allocatable.scalars.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons
