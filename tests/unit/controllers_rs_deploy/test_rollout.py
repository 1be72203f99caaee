"""Rollout arithmetic, table-tested against kube's deployment util behaviour."""

from __future__ import annotations

from typing import Any

import pytest

from pocketkube.api.obj import Obj
from pocketkube.controllers.deployment import rollout
from pocketkube.controllers.deployment.rollout import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    new_rs_new_replicas,
    proportional_scale,
    reconcile_old,
    resolve_fenceposts,
)


def deploy(replicas: int, surge: Any = "25%", unavailable: Any = "25%", kind: str = "RollingUpdate",
           status_replicas: int = 0) -> Obj:
    strategy: Obj = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "d", "generation": 1}, "spec": {"replicas": replicas, "strategy": strategy},
            "status": {"replicas": status_replicas}}


def rs(name: str, replicas: int, available: int = 0, created: str = "2024-01-01T00:00:00Z",
       desired: int | None = None, max_replicas: int | None = None) -> Obj:
    ann = {}
    if desired is not None:
        ann[DESIRED_REPLICAS] = str(desired)
    if max_replicas is not None:
        ann[MAX_REPLICAS] = str(max_replicas)
    return {"metadata": {"name": name, "creationTimestamp": created, "annotations": ann},
            "spec": {"replicas": replicas}, "status": {"availableReplicas": available}}


@pytest.mark.parametrize("surge, unavailable, desired, expected", [
    ("25%", "25%", 10, (3, 2)),     # surge rounds up, unavailable down
    ("25%", "25%", 4, (1, 1)),
    (0, 0, 5, (0, 1)),              # both zero: unavailable becomes 1
    ("0%", "0%", 3, (0, 1)),
    (1, 0, 3, (1, 0)),
    ("50%", "10%", 3, (2, 0)),
    (2, "100%", 3, (2, 3)),
])
def test_resolve_fenceposts(surge: Any, unavailable: Any, desired: int, expected: tuple[int, int]) -> None:
    assert resolve_fenceposts(surge, unavailable, desired) == expected


def test_max_unavailable_is_capped_and_zero_for_recreate() -> None:
    assert rollout.max_unavailable(deploy(3, 0, 5)) == 3
    assert rollout.max_unavailable(deploy(3, kind="Recreate")) == 0
    assert rollout.max_surge(deploy(3, kind="Recreate")) == 0


@pytest.mark.parametrize("d, rss, new_index, expected", [
    (deploy(10, 3, 2), [rs("old", 10, 10), rs("new", 0)], 1, 3),     # up to surge
    (deploy(10, 3, 2), [rs("old", 10, 10), rs("new", 3)], 1, 3),     # at surge: wait
    (deploy(10, 3, 2), [rs("old", 5, 5), rs("new", 3)], 1, 8),       # room again
    (deploy(10, 3, 2), [rs("old", 0), rs("new", 9)], 1, 10),         # never past replicas
    (deploy(4, kind="Recreate"), [rs("new", 0)], 0, 4),
])
def test_new_rs_new_replicas(d: Obj, rss: list[Obj], new_index: int, expected: int) -> None:
    assert new_rs_new_replicas(d, rss, rss[new_index]) == expected


@pytest.mark.parametrize("d, new, old, expected", [
    # 10 replicas, maxUnavailable 2: new RS has 3 unavailable; old all available → may drop to 8 available
    (deploy(10, 3, 2), rs("new", 3, 0), [rs("old", 10, 10)], [{}, {"old": 8}]),
    # old has 4 unhealthy pods: they go first, then healthy ones within the budget
    (deploy(10, 3, 2), rs("new", 3, 3), [rs("old", 10, 6)], [{"old": 6}, {"old": 5}]),
    # nothing available anywhere beyond the minimum: no scale down
    (deploy(4, 1, 1), rs("new", 1, 0), [rs("old", 4, 3)], [{"old": 3}, {}]),
    (deploy(4, 1, 1), rs("new", 4, 4), [rs("old", 0)], []),
])
def test_reconcile_old(d: Obj, new: Obj, old: list[Obj], expected: list[dict[str, int]]) -> None:
    assert reconcile_old(d, new, old) == expected


@pytest.mark.parametrize("d, new, old, expected", [
    # one active RS takes the whole size
    (deploy(5), rs("new", 3), [rs("old", 0)], {"new": 5}),
    (deploy(3), rs("new", 3), [], {}),
    # saturated new RS: old ones go to zero
    (deploy(3), rs("new", 3, 3, desired=3), [rs("old", 1)], {"old": 0}),
    # mid-rollout 10 → 20 (surge 3, was max 13): 8 and 5 grow proportionally to 23 total
    (deploy(20, 3, 2, status_replicas=13), rs("new", 5, 0, "2024-01-02T00:00:00Z", 10, 13),
     [rs("old", 8, 8, "2024-01-01T00:00:00Z", 10, 13)], {"old": 14, "new": 9}),
    # shrink 10 → 5 mid-rollout: total 5+1 = 6
    (deploy(5, 1, 0, status_replicas=11), rs("new", 4, 0, "2024-01-02T00:00:00Z", 10, 11),
     [rs("old", 7, 7, "2024-01-01T00:00:00Z", 10, 11)], {"old": 4, "new": 2}),
])
def test_proportional_scale(d: Obj, new: Obj, old: list[Obj], expected: dict[str, int]) -> None:
    plan = proportional_scale(d, new, old)
    assert plan == expected
    if expected and len(expected) > 1:
        assert sum(plan.values()) == d["spec"]["replicas"] + rollout.max_surge(d)


def test_scaling_event_reads_desired_annotation() -> None:
    assert rollout.is_scaling_event(deploy(5), [rs("a", 3, desired=3)])
    assert not rollout.is_scaling_event(deploy(3), [rs("a", 3, desired=3)])
    assert not rollout.is_scaling_event(deploy(5), [rs("a", 0, desired=3), rs("b", 2)])
