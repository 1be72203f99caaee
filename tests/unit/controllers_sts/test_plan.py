"""The StatefulSet sync plan, status and identity, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pocketkube.api.obj import Obj
from pocketkube.controllers.statefulset import identity, revision
from pocketkube.controllers.statefulset.plan import Create, Delete, available_in, new_pod_revision, plan
from pocketkube.controllers.statefulset.status import compute_status

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def pod(ordinal: int, state: str = "ready", rev: str = "new", ready_for: float = 60.0) -> Obj:
    """state: ready | running (not ready) | pending | failed | terminating."""
    md: Obj = {"name": f"web-{ordinal}", "uid": f"u{ordinal}", "labels": {identity.REVISION_LABEL: rev}}
    status: Obj = {"phase": {"pending": "Pending", "failed": "Failed"}.get(state, "Running")}
    if state in ("ready", "terminating"):
        since = (NOW - timedelta(seconds=ready_for)).strftime("%Y-%m-%dT%H:%M:%SZ")
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": since}]
    if state == "terminating":
        md["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": md, "status": status}


def spec(replicas: int = 3, policy: str = "OrderedReady", strategy: str = "RollingUpdate", partition: int = 0,
         min_ready: int = 0) -> Obj:
    s: Obj = {"replicas": replicas, "podManagementPolicy": policy, "updateStrategy": {"type": strategy},
              "minReadySeconds": min_ready}
    if strategy == "RollingUpdate":
        s["updateStrategy"]["rollingUpdate"] = {"partition": partition}
    return s


def summary(actions: list[Any]) -> list[str]:
    return [f"create {a.ordinal}@{a.revision}" if isinstance(a, Create) else f"delete {a.name}" for a in actions]


def run(s: Obj, pods: list[Obj], current: str = "new", update: str = "new") -> list[str]:
    live = {int(p["metadata"]["name"].rsplit("-", 1)[1]): p for p in pods}
    replicas = int(s["replicas"])
    condemned = sorted((p for o, p in live.items() if o >= replicas),
                       key=lambda p: -int(p["metadata"]["name"].rsplit("-", 1)[1]))
    return summary(plan(s, {o: p for o, p in live.items() if o < replicas}, condemned, current, update, NOW))


@pytest.mark.parametrize(("s", "pods", "expected"), [
    (spec(), [], ["create 0@new"]),
    (spec(), [pod(0, "pending")], []),
    (spec(), [pod(0, "running")], []),
    (spec(), [pod(0)], ["create 1@new"]),
    (spec(), [pod(0), pod(1)], ["create 2@new"]),
    (spec(), [pod(0), pod(1, "terminating")], []),
    (spec(), [pod(0), pod(1, "failed"), pod(2)], ["delete web-1"]),
    (spec(), [pod(0), pod(2)], ["create 1@new"]),
    (spec(min_ready=30), [pod(0, ready_for=10)], []),
    (spec(min_ready=30), [pod(0, ready_for=40)], ["create 1@new"]),
    (spec(policy="Parallel"), [], ["create 0@new", "create 1@new", "create 2@new"]),
    (spec(policy="Parallel"), [pod(0, "pending"), pod(1, "failed")], ["delete web-1", "create 2@new"]),
    # scale down: highest first, one at a time, never past an unhealthy pod
    (spec(replicas=1), [pod(0), pod(1), pod(2)], ["delete web-2"]),
    (spec(replicas=1), [pod(0), pod(1), pod(2, "terminating")], []),
    (spec(replicas=1), [pod(0), pod(1, "running"), pod(2)], []),
    (spec(replicas=1), [pod(0), pod(1), pod(2, "running")], ["delete web-2"]),
    (spec(replicas=1, policy="Parallel"), [pod(0), pod(1), pod(2)], ["delete web-2", "delete web-1"]),
    (spec(replicas=0), [pod(0)], ["delete web-0"]),
])
def test_create_and_scale(s: Obj, pods: list[Obj], expected: list[str]) -> None:
    assert run(s, pods) == expected


@pytest.mark.parametrize(("s", "pods", "expected"), [
    # rolling update: highest ordinal first, one at a time, down to the partition
    (spec(), [pod(0, rev="old"), pod(1, rev="old"), pod(2, rev="old")], ["delete web-2"]),
    (spec(), [pod(0, rev="old"), pod(1, rev="old"), pod(2)], ["delete web-1"]),
    (spec(), [pod(0, rev="old"), pod(1, rev="old"), pod(2, "running")], []),
    (spec(), [pod(0, rev="old"), pod(1, "terminating", rev="old"), pod(2)], []),
    (spec(partition=2), [pod(0, rev="old"), pod(1, rev="old"), pod(2)], []),
    (spec(partition=1), [pod(0, rev="old"), pod(1, rev="old"), pod(2)], ["delete web-1"]),
    (spec(partition=5), [pod(0, rev="old"), pod(1, rev="old"), pod(2, rev="old")], []),
    (spec(strategy="OnDelete"), [pod(0, rev="old"), pod(1, rev="old"), pod(2, rev="old")], []),
    # recreated pods: below the partition at the current revision, else the update revision
    (spec(partition=2), [pod(0, rev="old"), pod(2)], ["create 1@old"]),
    (spec(partition=2), [pod(0, rev="old"), pod(1, rev="old")], ["create 2@new"]),
    (spec(strategy="OnDelete"), [pod(0, rev="old"), pod(2, rev="old")], ["create 1@new"]),
])
def test_updates(s: Obj, pods: list[Obj], expected: list[str]) -> None:
    assert run(s, pods, current="old", update="new") == expected


def test_new_pod_revision_and_available_in() -> None:
    assert new_pod_revision(spec(partition=2), 1, "a", "b") == "a"
    assert new_pod_revision(spec(partition=2), 2, "a", "b") == "b"
    assert available_in(pod(0, ready_for=10), 30, NOW) == pytest.approx(20)
    assert available_in(pod(0, "running"), 30, NOW) is None
    assert available_in(pod(0), 0, NOW) == 0.0


def test_delete_carries_the_pod() -> None:
    p = pod(2)
    (action,) = plan(spec(replicas=1), {0: pod(0)}, [p], "new", "new", NOW)
    assert isinstance(action, Delete) and action.pod is p


def test_status_counts_and_rollout_completion() -> None:
    sts: Obj = {"metadata": {"generation": 4}, "spec": spec(), "status": {}}
    pods = [pod(0, rev="old"), pod(1, "running"), pod(2), {**pod(3, "terminating")}]
    status = compute_status(sts, pods, "old", "new", 0, NOW)
    assert status == {"observedGeneration": 4, "replicas": 4, "readyReplicas": 3, "availableReplicas": 3,
                      "currentReplicas": 1, "updatedReplicas": 2, "currentRevision": "old",
                      "updateRevision": "new", "collisionCount": 0}
    done = compute_status(sts, [pod(0), pod(1), pod(2)], "old", "new", 1, NOW)
    assert done["currentRevision"] == "new" and done["currentReplicas"] == 3 and done["collisionCount"] == 1
    on_delete: Obj = {"metadata": {"generation": 1}, "spec": spec(strategy="OnDelete")}
    assert compute_status(on_delete, [pod(0)], "old", "new", 0, NOW)["currentRevision"] == "old"
    waiting = compute_status({"metadata": {}, "spec": spec(min_ready=30)}, [pod(0, ready_for=5)], "a", "a", 0, NOW)
    assert waiting["readyReplicas"] == 1 and waiting["availableReplicas"] == 0


STS: Obj = {
    "apiVersion": "apps/v1", "kind": "StatefulSet",
    "metadata": {"name": "web", "namespace": "ns", "uid": "set-uid"},
    "spec": {"serviceName": "nginx", "selector": {"matchLabels": {"app": "web"}},
             "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "c"}],
                                   "volumes": [{"name": "www", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]}},
             "volumeClaimTemplates": [{"metadata": {"name": "www", "labels": {"tier": "data"}},
                                       "spec": {"accessModes": ["ReadWriteOnce"]}}]},
}


@pytest.mark.parametrize(("name", "expected"), [
    ("web-0", 0), ("web-12", 12), ("web-x", None), ("web2-1", None), ("my-web-1", None), ("web-", None),
])
def test_ordinal_of(name: str, expected: int | None) -> None:
    assert identity.ordinal_of("web", name) == expected


def test_new_pod_and_claims() -> None:
    p = identity.new_pod(STS, STS["spec"]["template"], 2, "web-abc")
    assert p["metadata"]["name"] == "web-2" and p["metadata"]["namespace"] == "ns"
    assert p["metadata"]["labels"] == {"app": "web", identity.POD_NAME_LABEL: "web-2",
                                       identity.POD_INDEX_LABEL: "2", identity.REVISION_LABEL: "web-abc"}
    assert p["spec"]["hostname"] == "web-2" and p["spec"]["subdomain"] == "nginx"
    assert p["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {}},
                                    {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-2"}}]
    assert p["metadata"]["ownerReferences"][0]["uid"] == "set-uid"
    assert STS["spec"]["template"]["spec"]["volumes"][0] == {"name": "www", "emptyDir": {}}  # not mutated
    (claim,) = identity.new_claims(STS, 2)
    assert claim["metadata"]["name"] == "www-web-2"
    assert claim["metadata"]["labels"] == {"tier": "data", "app": "web"}
    assert claim["metadata"]["ownerReferences"][0]["uid"] == "set-uid"  # whenDeleted: Delete
    retain = {**STS, "spec": {**STS["spec"], "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain"}}}
    assert "ownerReferences" not in identity.new_claims(retain, 0)[0]["metadata"]


def test_revisions() -> None:
    rev = revision.new_revision(STS, 3)
    name_hash = rev["metadata"]["labels"][revision.HASH_LABEL]
    assert rev["metadata"]["name"] == f"web-{name_hash}" and rev["revision"] == 3
    assert set(name_hash) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert revision.new_revision(STS, 4)["metadata"]["name"] == rev["metadata"]["name"]  # number not hashed
    assert revision.new_revision(STS, 3, collision_count=1)["metadata"]["name"] != rev["metadata"]["name"]
    assert revision.template_of(rev) == STS["spec"]["template"]
    assert rev["data"]["spec"]["template"]["$patch"] == "replace"
    assert revision.fnv32a(b"") == 0x811C9DC5 and revision.fnv32a(b"a") == 0xE40C292C
    revs = [{"metadata": {"name": f"r{i}"}, "revision": i} for i in range(1, 6)]
    assert [r["metadata"]["name"] for r in revision.history_to_delete(revs, {"r5", "r1"}, 1)] == ["r2", "r3"]
    assert revision.history_to_delete(revs, set(), 10) == []
    assert revision.next_number(revs) == 6 and revision.next_number([]) == 1
