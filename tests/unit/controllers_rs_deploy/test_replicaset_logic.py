"""ReplicaSet pure logic: deletion ranking, availability, status, ownership claims, batches, expectations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_active, is_pod_available
from pocketkube.api.selectors import selector_from_object
from pocketkube.controllers.common.expectations import Expectations
from pocketkube.controllers.common.ownership import claim
from pocketkube.controllers.replicaset.controller import pod_from_template, slow_start_batches
from pocketkube.controllers.replicaset.ranking import pods_to_delete
from pocketkube.controllers.replicaset.status import calculate_status, next_available_in

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def pod(name: str, node: str = "n", phase: str = "Running", ready_at: str | None = "2024-01-01T11:00:00Z",
        restarts: int = 0, created: str = "2024-01-01T10:00:00Z", labels: dict[str, str] | None = None,
        owner: str | None = None, deleting: bool = False) -> Obj:
    conds = [{"type": "Ready", "status": "True" if ready_at else "False",
              "lastTransitionTime": ready_at or "2024-01-01T11:00:00Z"}]
    md: Obj = {"name": name, "creationTimestamp": created, "labels": labels or {"app": "web"}}
    if owner:
        md["ownerReferences"] = [{"kind": "ReplicaSet", "name": "web", "uid": owner, "controller": True}]
    if deleting:
        md["deletionTimestamp"] = "2024-01-01T12:00:00Z"
    status = {"phase": phase, "conditions": conds, "containerStatuses": [{"restartCount": restarts}]}
    return {"metadata": md, "spec": {"nodeName": node}, "status": status}


@pytest.mark.parametrize("pods, first", [
    ([pod("scheduled"), pod("unscheduled", node="")], "unscheduled"),
    ([pod("running"), pod("pending", phase="Pending")], "pending"),
    ([pod("running"), pod("unknown", phase="Unknown")], "unknown"),
    ([pod("ready"), pod("notready", ready_at=None)], "notready"),
    ([pod("long", ready_at="2024-01-01T10:00:00Z"), pod("short", ready_at="2024-01-01T11:59:00Z")], "short"),
    ([pod("calm"), pod("crashy", restarts=5)], "crashy"),
    ([pod("old"), pod("new", created="2024-01-01T10:30:00Z")], "new"),
])
def test_deletion_order(pods: list[Obj], first: str) -> None:
    assert pods_to_delete(pods, 1)[0]["metadata"]["name"] == first
    assert pods_to_delete(list(reversed(pods)), 1)[0]["metadata"]["name"] == first


def test_active_and_available() -> None:
    assert not is_pod_active(pod("a", phase="Succeeded"))
    assert not is_pod_active(pod("a", deleting=True))
    assert is_pod_available(pod("a", ready_at="2024-01-01T11:59:50Z"), 5, NOW)
    assert not is_pod_available(pod("a", ready_at="2024-01-01T11:59:58Z"), 5, NOW)
    assert not is_pod_available(pod("a", ready_at=None), 0, NOW)


def test_status_counts_and_requeue_for_min_ready() -> None:
    rs = {"metadata": {"name": "web", "generation": 3},
          "spec": {"minReadySeconds": 10, "template": {"metadata": {"labels": {"app": "web", "tier": "fe"}}}}}
    pods = [pod("a", labels={"app": "web", "tier": "fe"}), pod("b", ready_at="2024-01-01T11:59:56Z"),
            pod("c", ready_at=None)]
    status = calculate_status(rs, pods, None, NOW)
    assert status == {"replicas": 3, "fullyLabeledReplicas": 1, "readyReplicas": 2, "availableReplicas": 1,
                      "observedGeneration": 3}
    assert next_available_in(rs, pods, NOW) == pytest.approx(6.0)
    failed = calculate_status(rs, [], "quota exceeded", NOW)
    assert failed["conditions"][0]["reason"] == "FailedCreate"
    assert failed["conditions"][0]["message"] == "quota exceeded"
    assert "conditions" not in calculate_status({**rs, "status": failed}, [], None, NOW)


def test_claim_adopts_keeps_and_releases() -> None:
    owner = {"metadata": {"name": "web", "uid": "u1"}}
    sel = selector_from_object({"matchLabels": {"app": "web"}})
    pods = [pod("mine", owner="u1"), pod("orphan"), pod("theirs", owner="u2"),
            pod("stray", owner="u1", labels={"app": "db"}), pod("other", labels={"app": "db"}),
            pod("dying-orphan", deleting=True)]
    c = claim(owner, sel, pods)
    names = lambda objs: [o["metadata"]["name"] for o in objs]  # noqa: E731
    assert (names(c.owned), names(c.adopt), names(c.release)) == (["mine"], ["orphan"], ["stray"])


@pytest.mark.parametrize("count, batches", [(0, []), (1, [1]), (3, [1, 2]), (10, [1, 2, 4, 3]),
                                            (100, [1, 2, 4, 8, 16, 32, 37])])
def test_slow_start_batches(count: int, batches: list[int]) -> None:
    assert slow_start_batches(count) == batches


def test_pod_from_template() -> None:
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": "web-abc", "namespace": "ns", "uid": "u1"},
          "spec": {"template": {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                                "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    p = pod_from_template(rs)
    assert p["metadata"]["generateName"] == "web-abc-" and p["metadata"]["namespace"] == "ns"
    assert p["metadata"]["labels"] == {"app": "web"} and p["metadata"]["annotations"] == {"a": "b"}
    ref = p["metadata"]["ownerReferences"][0]
    assert ref["uid"] == "u1" and ref["controller"] is True and ref["kind"] == "ReplicaSet"


def test_expectations() -> None:
    exp = Expectations()
    assert exp.satisfied("k")
    exp.expect_creations("k", 2)
    exp.creation_observed("k")
    assert not exp.satisfied("k")
    exp.creation_observed("k")
    assert exp.satisfied("k")
    exp.expect_deletions("k", ["ns/a"])
    assert not exp.satisfied("k")
    exp.deletion_observed("k", "ns/a")
    assert exp.satisfied("k")
    stale = Expectations(timeout=-1)
    stale.expect_creations("k", 5)
    assert stale.satisfied("k")
