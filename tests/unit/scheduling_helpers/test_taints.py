"""Tolerations against taints, as core/v1 and component-helpers define them.

Rows marked "DaemonSet copy" are where `controllers/daemonset/nodes.py` used to answer otherwise
with its own copy of the matching; they pin the shared semantics both callers now use.
"""

from __future__ import annotations

import pytest

from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.taints import (
    add_or_update_toleration,
    effect_in,
    eviction_delay,
    find_untolerated_taint,
    matching_tolerations,
    min_toleration_seconds,
    tolerates,
)

GPU = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize(("toleration", "taint", "ok"), [
    ({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}, GPU, True),
    ({"key": "dedicated", "value": "gpu"}, GPU, True),  # Equal is the default operator; any effect
    ({"key": "dedicated", "value": "cpu"}, GPU, False),
    ({"key": "dedicated", "operator": "Exists"}, GPU, True),
    ({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, GPU, False),
    ({"operator": "Exists"}, GPU, True),  # empty key with Exists tolerates everything
    ({"operator": "Exists", "effect": "NoExecute"}, GPU, False),  # ... of its effect only
    ({"key": "other", "operator": "Exists"}, GPU, False),
    ({"key": "k", "operator": "Equal"}, {"key": "k", "effect": "NoSchedule"}, True),  # both values empty
    ({"key": "k", "value": ""}, {"key": "k", "value": None, "effect": "NoSchedule"}, True),  # missing is ""
    # An empty key matches any key; Equal then compares the values (DaemonSet copy: False).
    ({"operator": "Equal", "value": ""}, {"key": "k", "effect": "NoSchedule"}, True),
    ({"value": "gpu"}, GPU, True),
    # An unknown operator tolerates nothing (DaemonSet copy: True, as if it were Equal).
    ({"key": "dedicated", "operator": "Gte", "value": "gpu"}, GPU, False),
])
def test_tolerates(toleration: Obj, taint: Obj, ok: bool) -> None:
    assert tolerates(toleration, taint) is ok


def test_find_untolerated_taint_filters_by_effect() -> None:
    soft = {"key": "soft", "effect": "PreferNoSchedule"}
    evict = {"key": "evict", "effect": "NoExecute"}
    assert find_untolerated_taint([soft, GPU], []) == soft  # no filter: every taint counts
    assert find_untolerated_taint([soft, GPU], [], effect_in("NoSchedule", "NoExecute")) == GPU
    assert find_untolerated_taint([soft, GPU, evict], [], effect_in("NoExecute")) == evict
    assert find_untolerated_taint([GPU], [{"key": "dedicated", "operator": "Exists"}]) is None


NOEXEC = {"key": "maintenance", "effect": "NoExecute"}
OTHER = {"key": "other", "effect": "NoExecute"}


def test_matching_tolerations_uses_the_first_match_per_taint() -> None:
    first = {"key": "maintenance", "operator": "Exists", "tolerationSeconds": 60}
    second = {"operator": "Exists"}
    assert matching_tolerations([NOEXEC, OTHER], [first, second]) == [first, second]
    assert matching_tolerations([NOEXEC, OTHER], [first]) is None
    assert matching_tolerations([], []) == []


@pytest.mark.parametrize(("used", "seconds"), [
    ([], 0.0),  # kube's getMinTolerationTime: no tolerations, no grace
    ([{"operator": "Exists"}], None),  # forever
    ([{"operator": "Exists", "tolerationSeconds": 30}, {"operator": "Exists"}], 30.0),
    ([{"operator": "Exists", "tolerationSeconds": 30}, {"operator": "Exists", "tolerationSeconds": 10}], 10.0),
    ([{"operator": "Exists", "tolerationSeconds": 0}], 0.0),
    ([{"operator": "Exists", "tolerationSeconds": -3}], 0.0),
])
def test_min_toleration_seconds(used: list[Obj], seconds: float | None) -> None:
    assert min_toleration_seconds(used) == seconds


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
    ([GPU, NOEXEC], [{"key": "maintenance", "operator": "Exists"}], None),  # GPU is NoSchedule
])
def test_eviction_delay(taints: list[Obj], tolerations: list[Obj], delay: float | None) -> None:
    assert eviction_delay(taints, tolerations) == delay


NOT_READY = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}


@pytest.mark.parametrize(("tolerations", "expected"), [
    ([], [NOT_READY]),
    ([GPU], [GPU, NOT_READY]),
    ([NOT_READY], [NOT_READY]),
    # The same key, operator, value and effect: replaced, so the added toleration's (missing)
    # tolerationSeconds wins (DaemonSet copy: kept the 300 s).
    ([GPU, {**NOT_READY, "tolerationSeconds": 300}], [GPU, NOT_READY]),
    # Another operator is another toleration: both stay (DaemonSet copy: added nothing).
    ([{"key": "node.kubernetes.io/not-ready", "operator": "Equal", "value": "x", "effect": "NoExecute"}],
     [{"key": "node.kubernetes.io/not-ready", "operator": "Equal", "value": "x", "effect": "NoExecute"},
      NOT_READY]),
])
def test_add_or_update_toleration(tolerations: list[Obj], expected: list[Obj]) -> None:
    before = [dict(t) for t in tolerations]
    assert add_or_update_toleration(tolerations, NOT_READY) == expected
    assert tolerations == before  # the input is not changed
