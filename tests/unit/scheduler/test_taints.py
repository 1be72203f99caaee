from __future__ import annotations

from typing import Any

import pytest

from pocketkube.scheduler.taints import (
    eviction_delay,
    intolerable_prefer_no_schedule,
    node_taints,
    taint_reason,
    tolerates,
    unschedulable_reason,
    untolerated_taint,
)
from tests.unit.scheduler.objects import make_node

Obj = dict[str, Any]
GPU = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize(("toleration", "taint", "ok"), [
    ({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}, GPU, True),
    ({"key": "dedicated", "value": "gpu"}, GPU, True),  # Equal is the default operator; any effect
    ({"key": "dedicated", "value": "cpu"}, GPU, False),
    ({"key": "dedicated", "operator": "Exists"}, GPU, True),
    ({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, GPU, False),
    ({"operator": "Exists"}, GPU, True),  # empty key with Exists tolerates everything
    ({"key": "other", "operator": "Exists"}, GPU, False),
    ({"key": "k", "operator": "Equal"}, {"key": "k", "effect": "NoSchedule"}, True),  # both values empty
])
def test_tolerates(toleration: Obj, taint: Obj, ok: bool) -> None:
    assert tolerates(toleration, taint) is ok


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


NOEXEC = {"key": "maintenance", "effect": "NoExecute"}
OTHER = {"key": "other", "effect": "NoExecute"}


@pytest.mark.parametrize(("taints", "tolerations", "delay"), [
    ([], [], None),
    ([GPU], [], None),  # NoSchedule never evicts
    ([NOEXEC], [], 0.0),
    ([NOEXEC], [{"key": "maintenance", "operator": "Exists", "effect": "NoExecute"}], None),
    ([NOEXEC], [{"key": "maintenance", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}], 30.0),
    ([NOEXEC], [{"key": "maintenance", "operator": "Exists", "tolerationSeconds": -5}], 0.0),
    ([NOEXEC, OTHER], [{"key": "maintenance", "operator": "Exists", "tolerationSeconds": 60},
                       {"key": "other", "operator": "Exists", "tolerationSeconds": 20}], 20.0),
    ([NOEXEC, OTHER], [{"key": "maintenance", "operator": "Exists", "tolerationSeconds": 60}], 0.0),
    ([NOEXEC, OTHER], [{"key": "maintenance", "operator": "Exists"},
                       {"key": "other", "operator": "Exists", "tolerationSeconds": 20}], 20.0),
])
def test_eviction_delay(taints: list[Obj], tolerations: list[Obj], delay: float | None) -> None:
    assert eviction_delay(taints, tolerations) == delay
