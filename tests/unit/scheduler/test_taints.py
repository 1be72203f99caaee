from __future__ import annotations

import pytest

from pocketkube.scheduler.taints import (
    intolerable_prefer_no_schedule,
    node_taints,
    taint_reason,
    unschedulable_reason,
    untolerated_taint,
)
from tests.unit.scheduler.objects import make_node

GPU = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def test_untolerated_taint_and_reason() -> None:
    taints = [{"key": "soft", "effect": "PreferNoSchedule"}, GPU]
    assert untolerated_taint(taints, []) == GPU
    assert untolerated_taint(taints, [{"key": "dedicated", "operator": "Exists"}]) is None
    assert taint_reason(GPU) == "node(s) had untolerated taint {dedicated: gpu}"
    assert taint_reason({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}) == \
        "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"


@pytest.mark.parametrize(("ready", "key"), [("True", None), ("False", "node.kubernetes.io/not-ready"),
                                             ("Unknown", "node.kubernetes.io/unreachable")])
def test_node_that_is_not_ready_is_tainted(ready: str, key: str | None) -> None:
    keys = [t["key"] for t in node_taints(make_node("a", ready=ready, taints=[GPU]))]
    assert keys == ["dedicated"] + ([key] if key else [])


def test_cordoned_node() -> None:
    cordoned = make_node("a", unschedulable=True)
    assert unschedulable_reason(cordoned, []) == "node(s) were unschedulable"
    assert unschedulable_reason(cordoned, [{"key": "node.kubernetes.io/unschedulable",
                                            "operator": "Exists", "effect": "NoSchedule"}]) is None
    assert unschedulable_reason(make_node("b"), []) is None


def test_prefer_no_schedule_counts_only_relevant_tolerations() -> None:
    taints = [{"key": "a", "effect": "PreferNoSchedule"}, {"key": "b", "effect": "PreferNoSchedule"}, GPU]
    assert intolerable_prefer_no_schedule(taints, []) == 2
    assert intolerable_prefer_no_schedule(taints, [{"key": "a", "operator": "Exists"}]) == 1
    assert intolerable_prefer_no_schedule(taints, [{"key": "a", "operator": "Exists", "effect": "NoSchedule"}]) == 2
