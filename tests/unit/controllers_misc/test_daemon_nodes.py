from __future__ import annotations

import pytest

from pocketkube.api.obj import Obj
from pocketkube.controllers.daemonset.nodes import pin_to_node, should_run, target_node


def node(name: str = "n1", labels: dict[str, str] | None = None, taints: list[Obj] | None = None) -> Obj:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def taint(key: str, effect: str, value: str = "") -> Obj:
    return {"key": key, "value": value, "effect": effect}


@pytest.mark.parametrize("spec,n,expected", [
    ({}, node(), (True, True)),
    ({"nodeSelector": {"disk": "ssd"}}, node(labels={"disk": "ssd"}), (True, True)),
    ({"nodeSelector": {"disk": "ssd"}}, node(labels={"disk": "hdd"}), (False, False)),
    ({}, node(taints=[taint("dedicated", "NoSchedule", "gpu")]), (False, True)),
    ({}, node(taints=[taint("dedicated", "NoExecute", "gpu")]), (False, False)),
    ({}, node(taints=[taint("dedicated", "PreferNoSchedule")]), (True, True)),
    ({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]},
     node(taints=[taint("dedicated", "NoSchedule", "gpu")]), (True, True)),
    ({"tolerations": [{"operator": "Exists"}]}, node(taints=[taint("x", "NoExecute")]), (True, True)),
    # kube's default daemon tolerations
    ({}, node(taints=[taint("node.kubernetes.io/not-ready", "NoExecute")]), (True, True)),
    ({}, node(taints=[taint("node.kubernetes.io/unschedulable", "NoSchedule")]), (True, True)),
    ({}, node(taints=[taint("node.kubernetes.io/network-unavailable", "NoSchedule")]), (False, True)),
    ({"hostNetwork": True}, node(taints=[taint("node.kubernetes.io/network-unavailable", "NoSchedule")]),
     (True, True)),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}}}},
     node(labels={"zone": "b"}), (True, True)),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["other"]}]}]}}}},
     node(labels={"zone": "a"}), (False, False)),
])
def test_should_run(spec: Obj, n: Obj, expected: tuple[bool, bool]) -> None:
    assert should_run(spec, n) == expected


def test_pin_to_node_replaces_required_terms_and_adds_tolerations() -> None:
    spec: Obj = {"affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {}}]}}}
    pinned = pin_to_node(spec, "n7")
    node_affinity = pinned["affinity"]["nodeAffinity"]
    assert node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] == {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n7"]}]}]}
    assert node_affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    keys = {t["key"] for t in pinned["tolerations"]}
    assert "node.kubernetes.io/not-ready" in keys and "node.kubernetes.io/unschedulable" in keys
    assert target_node({"spec": pinned}) == "n7"
    assert target_node({"spec": {**pinned, "nodeName": "n8"}}) == "n8"
    assert "affinity" not in spec["affinity"]["nodeAffinity"]  # input untouched
    assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"]
