"""Per-node state kept incrementally from informer events: the scheduler's cache.

Each `NodeInfo` holds what filters and scores ask about a node — its labels, taints, allocatable,
the summed requests of the pods on it (real and non-zero), host ports in use, how many pods each
controller owns there, and the pods themselves. Pod and node events adjust these sums in O(1) per
event, so a scheduling cycle reads them instead of walking every pod for every pod.

A pod the scheduler has just decided on is "assumed": added to its node here before the binding
reaches the informer, so the next decision already counts it (kube's assume/forget).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_terminal
from pocketkube.scheduler.fit import Resources, node_allocatable, pod_requests
from pocketkube.scheduler.taints import node_taints

HostPort = tuple[str, str, int]  # (hostIP, protocol, hostPort)


def pod_key(pod: Obj) -> str:
    md = pod.get("metadata") or {}
    return f"{md.get('namespace', '')}/{md.get('name', '')}"


def owner_uid(pod: Obj) -> str:
    """The uid of the pod's controller (ReplicaSet, StatefulSet, Job…), or "" for a bare pod."""
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid") or "")
    return ""


def host_ports(pod: Obj) -> list[HostPort]:
    ports: list[HostPort] = []
    spec = pod.get("spec") or {}
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                ports.append((port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP",
                              int(port["hostPort"])))
    return ports


def has_pod_affinity(pod: Obj) -> bool:
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    return bool(affinity.get("podAffinity") or affinity.get("podAntiAffinity"))


@dataclass
class NodeInfo:
    name: str
    node: Obj | None = None
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[Obj] = field(default_factory=list)
    allocatable: Resources = field(default_factory=Resources)
    requested: Resources = field(default_factory=Resources)
    nonzero: Resources = field(default_factory=Resources)
    pods: dict[str, Obj] = field(default_factory=dict)
    owners: Counter[str] = field(default_factory=Counter)
    ports: Counter[HostPort] = field(default_factory=Counter)
    affinity_pods: dict[str, Obj] = field(default_factory=dict)  # pods here with pod (anti-)affinity

    def set_node(self, node: Obj) -> None:
        self.node = node
        self.labels = dict((node.get("metadata") or {}).get("labels") or {})
        self.taints = node_taints(node)
        self.allocatable = node_allocatable(node)

    def add_pod(self, key: str, pod: Obj) -> None:
        self.pods[key] = pod
        self.requested = self.requested + pod_requests(pod)
        self.nonzero = self.nonzero + pod_requests(pod, nonzero=True)
        self.owners[owner_uid(pod)] += 1
        self.ports.update(host_ports(pod))
        if has_pod_affinity(pod):
            self.affinity_pods[key] = pod

    def remove_pod(self, key: str) -> None:
        pod = self.pods.pop(key, None)
        if pod is None:
            return
        self.requested = self.requested - pod_requests(pod)
        self.nonzero = self.nonzero - pod_requests(pod, nonzero=True)
        self.owners.subtract([owner_uid(pod)])
        self.ports.subtract(host_ports(pod))
        self.owners += Counter()  # drop zero counts
        self.ports += Counter()
        self.affinity_pods.pop(key, None)


def make_node_info(node: Obj, pods: Iterable[Obj] = ()) -> NodeInfo:
    """A NodeInfo built at once (tests and one-off use); the cache builds them incrementally."""
    info = NodeInfo(node["metadata"]["name"])
    info.set_node(node)
    for pod in pods:
        info.add_pod(pod_key(pod), pod)
    return info


class ClusterCache:
    """NodeInfos by node name, fed by pod and node events; pods on unknown nodes wait for their node."""

    def __init__(self) -> None:
        self.infos: dict[str, NodeInfo] = {}
        self._pod_node: dict[str, str] = {}
        self.assumed: set[str] = set()

    def nodes(self) -> list[NodeInfo]:
        """The schedulable view: infos whose Node object is known, in name order."""
        return [info for _, info in sorted(self.infos.items()) if info.node is not None]

    def all_pods(self) -> list[Obj]:
        return [pod for info in self.infos.values() for pod in info.pods.values()]

    def set_node(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        self.infos.setdefault(name, NodeInfo(name)).set_node(node)

    def remove_node(self, name: str) -> None:
        info = self.infos.get(name)
        if info is None:
            return
        if info.pods:
            info.node = None  # keep the pods' accounting until they are deleted too
        else:
            del self.infos[name]

    def update_pod(self, pod: Obj) -> None:
        """Account a pod as the informer now has it: bound and live → on its node; else nowhere."""
        key = pod_key(pod)
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            if key in self.assumed:
                return  # a stale event from before our binding: keep the assumption
            self.remove_pod(key)
            return
        self.assumed.discard(key)
        self.remove_pod(key)
        if not is_pod_terminal(pod):
            self._pod_node[key] = node
            self.infos.setdefault(node, NodeInfo(node)).add_pod(key, pod)

    def assume(self, pod: Obj, node: str) -> None:
        key = pod_key(pod)
        self.remove_pod(key)
        assumed = {**pod, "spec": {**(pod.get("spec") or {}), "nodeName": node}}
        self._pod_node[key] = node
        self.infos.setdefault(node, NodeInfo(node)).add_pod(key, assumed)
        self.assumed.add(key)

    def forget(self, key: str) -> None:
        self.assumed.discard(key)
        self.remove_pod(key)

    def remove_pod(self, key: str) -> None:
        node = self._pod_node.pop(key, None)
        if node is None:
            return
        info = self.infos.get(node)
        if info is None:
            return
        info.remove_pod(key)
        if info.node is None and not info.pods:
            del self.infos[node]
