from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pocketkube.api.obj import Obj
from pocketkube.apiserver.registry import gc_finalizers
from pocketkube.controllers.daemonset.rollout import HASH_LABEL, NodeState, plan
from pocketkube.controllers.gc.plan import OwnerState, plan_dependent
from pocketkube.controllers.job import logic

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def dpod(name: str, hash_: str, ready: bool = True) -> Obj:
    return {"metadata": {"name": name, "labels": {HASH_LABEL: hash_}, "creationTimestamp": name},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_rolling_update_respects_max_unavailable() -> None:
    nodes = [NodeState(f"n{i}", True, True, [dpod(f"p{i}", "old")]) for i in range(4)]
    out = plan(nodes, "new", rolling=True, max_unavail=1, min_ready=0, now=NOW)
    assert [p["metadata"]["name"] for p in out.delete] == ["p0"] and not out.create_on
    nodes[0].pods = [dpod("p0", "old", ready=False)]  # an unavailable old pod goes without budget
    out = plan(nodes, "new", rolling=True, max_unavail=1, min_ready=0, now=NOW)
    assert [p["metadata"]["name"] for p in out.delete] == ["p0"]
    nodes[1].pods = []
    out = plan(nodes, "new", rolling=True, max_unavail=2, min_ready=0, now=NOW)
    assert out.create_on == ["n1"] and [p["metadata"]["name"] for p in out.delete] == ["p0"]
    assert not plan(nodes, "new", rolling=False, max_unavail=1, min_ready=0, now=NOW).delete


def test_plan_removes_extra_and_evicted_pods() -> None:
    nodes = [NodeState("a", True, True, [dpod("p1", "h"), dpod("p2", "h")]),
             NodeState("b", False, False, [dpod("p3", "h")]),
             NodeState("c", False, True, [dpod("p4", "h")])]
    out = plan(nodes, "h", rolling=True, max_unavail=1, min_ready=0, now=NOW)
    assert sorted(p["metadata"]["name"] for p in out.delete) == ["p2", "p3"]


@pytest.mark.parametrize("states,has_deps,expected", [
    ({"a": OwnerState.SOLID}, False, (False, "", ())),
    ({"a": OwnerState.DANGLING}, False, (True, "", ())),
    ({"a": OwnerState.WAITING}, True, (True, "Foreground", ())),
    ({"a": OwnerState.WAITING}, False, (True, "", ())),
    ({"a": OwnerState.SOLID, "b": OwnerState.DANGLING}, False, (False, "", ("b",))),
])
def test_plan_dependent(states: dict[str, OwnerState], has_deps: bool, expected: tuple[Any, ...]) -> None:
    p = plan_dependent([{"uid": u} for u in states], states, has_deps)
    assert (p.delete, p.propagation, p.remove_uids) == expected


@pytest.mark.parametrize("current,policy,orphan,expected", [
    ([], "Orphan", None, ["orphan"]),
    ([], "Foreground", None, ["foregroundDeletion"]),
    (["x", "orphan"], "Background", None, ["x"]),
    (["orphan"], "", None, ["orphan"]),
    (["foregroundDeletion"], "Orphan", None, ["orphan"]),
    ([], "", True, ["orphan"]),
    ([], "", None, []),
])
def test_gc_finalizers(current: list[str], policy: str, orphan: bool | None, expected: list[str]) -> None:
    assert gc_finalizers(current, policy, orphan) == expected


@pytest.mark.parametrize("text,indexes", [("", set()), ("0-2,4", {0, 1, 2, 4}), ("7", {7})])
def test_completed_indexes_round_trip(text: str, indexes: set[int]) -> None:
    assert logic.parse_indexes(text) == indexes
    assert logic.format_indexes(indexes) == text


@pytest.mark.parametrize("spec,succeeded,want", [
    ({"completions": 5, "parallelism": 2}, 0, 2),
    ({"completions": 5, "parallelism": 2}, 4, 1),
    ({"completions": 5, "parallelism": 2}, 5, 0),
    ({"parallelism": 3}, 0, 3),
    ({"parallelism": 3}, 1, 0),
])
def test_want_active(spec: Obj, succeeded: int, want: int) -> None:
    assert logic.want_active({"spec": spec}, succeeded) == want


def test_failure_reason() -> None:
    job = {"spec": {"backoffLimit": 2, "activeDeadlineSeconds": 10}, "status": {"startTime": "2030-01-01T00:00:00Z"}}
    assert logic.failure_reason(job, 2, NOW) is None
    assert logic.failure_reason(job, 3, NOW) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    later = datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert logic.failure_reason(job, 0, later) == ("DeadlineExceeded", "Job was active longer than specified deadline")


def test_backoff_delay_doubles_and_caps() -> None:
    assert [logic.backoff_delay(n, 10) for n in (0, 1, 2, 3)] == [0, 10, 20, 40]
    assert logic.backoff_delay(20, 10) == 360
