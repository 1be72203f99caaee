"""Whole decisions over realistic clusters, and the FailedScheduling message kube would write."""

from __future__ import annotations

import pytest

from pocketkube.api.obj import Obj
from pocketkube.scheduler.framework import Decision, schedule_pod
from tests.unit.scheduler.objects import cluster, make_node, make_pod

GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"


@pytest.mark.parametrize(("nodes", "pods", "pod", "message"), [
    ([make_node("a", taints=[GPU_TAINT]), make_node("b")], [], make_pod(selector={"disk": "ssd"}),
     "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
     "1 node(s) had untolerated taint {dedicated: gpu}. "
     f"preemption: 0/2 nodes are available: 2 {NOT_HELPFUL}."),
    ([make_node("a"), make_node("b"), make_node("c", ready="False")], [], make_pod(cpu="8"),
     "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
     f"2 Insufficient cpu. preemption: 0/3 nodes are available: 1 {NOT_HELPFUL}, 2 {NO_VICTIMS}."),
    ([make_node("a", pods="1")], [make_pod("x", node="a")], make_pod(cpu="3", memory="8Gi"),
     "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods. "
     f"preemption: 0/1 nodes are available: 1 {NO_VICTIMS}."),
    ([make_node("a", unschedulable=True)], [], make_pod(),
     f"0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 {NOT_HELPFUL}."),
    ([make_node("a")], [make_pod("x", node="a", host_port=8080)], make_pod(host_port=8080),
     "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. "
     f"preemption: 0/1 nodes are available: 1 {NO_VICTIMS}."),
    ([], [], make_pod(), "no nodes available to schedule pods"),
])
def test_failure_messages(nodes: list[Obj], pods: list[Obj], pod: Obj, message: str) -> None:
    assert schedule_pod(pod, cluster(nodes, pods)) == Decision(None, message)


def test_preemption_policy_never() -> None:
    pod = make_pod(cpu="8")
    pod["spec"]["preemptionPolicy"] = "Never"
    assert schedule_pod(pod, cluster([make_node("a")])).message == \
        "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."


@pytest.mark.parametrize(("nodes", "pods", "pod", "chosen"), [
    # A matching toleration lets the pod onto the tainted node only.
    ([make_node("a", taints=[GPU_TAINT]), make_node("b", cpu="1")], [],
     make_pod(cpu="1500m", tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu"}]), "a"),
    # Least allocated: the emptier node.
    ([make_node("a"), make_node("b")], [make_pod("x", cpu="1", node="a")], make_pod(cpu="500m"), "b"),
    # PreferNoSchedule (weight 3) outweighs a small resource advantage.
    ([make_node("a", taints=[{"key": "spot", "effect": "PreferNoSchedule"}]), make_node("b")],
     [make_pod("x", cpu="200m", node="b")], make_pod(), "b"),
    # Preferred node affinity.
    ([make_node("a"), make_node("b", labels={"disk": "ssd"})], [make_pod("x", cpu="1", node="b")],
     make_pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
         {"weight": 50, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}}]}}), "b"),
    # Same owner spreads even against resources: b is busier but has none of rs's pods.
    ([make_node("a"), make_node("b")],
     [make_pod("rs-1", owner="rs", node="a"), make_pod("rs-2", owner="rs", node="a"),
      make_pod("big", cpu="300m", node="b")], make_pod("rs-3", owner="rs"), "b"),
    # Only one node fits: no scoring needed.
    ([make_node("a", cpu="1"), make_node("b")], [], make_pod(cpu="1500m"), "b"),
])
def test_choices(nodes: list[Obj], pods: list[Obj], pod: Obj, chosen: str) -> None:
    assert schedule_pod(pod, cluster(nodes, pods)) == Decision(chosen)
