"""Realistic Node and Pod dicts for the scheduler's table tests."""

from __future__ import annotations

from collections.abc import Sequence

from pocketkube.api.obj import Obj
from pocketkube.scheduler.nodeinfo import NodeInfo, make_node_info


def make_node(name: str, cpu: str = "2", memory: str = "4Gi", pods: str = "110", ready: str = "True",
              labels: dict[str, str] | None = None, taints: list[Obj] | None = None,
              unschedulable: bool = False, extra: dict[str, str] | None = None) -> Obj:
    spec: Obj = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    allocatable = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": spec,
            "status": {"allocatable": allocatable, "capacity": allocatable,
                       "conditions": [{"type": "Ready", "status": ready}]}}


def make_pod(name: str = "p", namespace: str = "default", cpu: str = "", memory: str = "",
             labels: dict[str, str] | None = None, node: str = "", selector: dict[str, str] | None = None,
             tolerations: list[Obj] | None = None, affinity: Obj | None = None,
             spread: list[Obj] | None = None, owner: str = "", host_port: int = 0,
             requests: dict[str, str] | None = None) -> Obj:
    reqs = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    reqs.update(requests or {})
    container: Obj = {"name": "c", "image": "busybox:1.36", "resources": {"requests": reqs}}
    if host_port:
        container["ports"] = [{"containerPort": 80, "hostPort": host_port, "protocol": "TCP"}]
    spec: Obj = {"containers": [container]}
    if node:
        spec["nodeName"] = node
    if selector:
        spec["nodeSelector"] = selector
    if tolerations:
        spec["tolerations"] = tolerations
    if affinity:
        spec["affinity"] = affinity
    if spread:
        spec["topologySpreadConstraints"] = spread
    md: Obj = {"name": name, "namespace": namespace, "labels": labels or {}, "uid": f"uid-{name}"}
    if owner:
        md["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                  "uid": f"uid-{owner}", "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec, "status": {"phase": "Pending"}}


def cluster(nodes: list[Obj], pods: Sequence[Obj] = ()) -> list[NodeInfo]:
    """NodeInfos for the nodes, each holding the pods bound to it."""
    return [make_node_info(n, [p for p in pods if p["spec"].get("nodeName") == n["metadata"]["name"]])
            for n in nodes]
