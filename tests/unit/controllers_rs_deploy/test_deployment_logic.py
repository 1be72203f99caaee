"""Deployment pure logic: template hash, revisions and annotations, history cleanup, conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pocketkube.api import meta
from pocketkube.api.obj import Obj
from pocketkube.controllers.deployment import conditions as cond
from pocketkube.controllers.deployment.hashing import HASH_LABEL, compute_hash, equal_ignore_hash
from pocketkube.controllers.deployment.revisions import REVISION, set_new_rs_annotations, to_clean_up

NOW = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}


def test_hash_is_stable_safe_and_changes_with_template_and_collisions() -> None:
    h = compute_hash(TEMPLATE)
    assert h == compute_hash({"spec": TEMPLATE["spec"], "metadata": TEMPLATE["metadata"]})
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(h) <= 10
    assert compute_hash(TEMPLATE, 1) != h
    other = {**TEMPLATE, "spec": {"containers": [{"name": "c", "image": "i:2"}]}}
    assert compute_hash(other) != h
    labelled = {**TEMPLATE, "metadata": {"labels": {"app": "web", HASH_LABEL: h}}}
    assert equal_ignore_hash(labelled, TEMPLATE) and not equal_ignore_hash(other, TEMPLATE)
    # kubectl rollout undo sends `creationTimestamp: null`: still the same template, same hash
    undone = {"metadata": {"labels": {"app": "web"}, "creationTimestamp": None, "annotations": {}},
              "spec": TEMPLATE["spec"]}
    assert equal_ignore_hash(undone, TEMPLATE) and compute_hash(undone) == h


def rs(name: str, revision: int, replicas: int = 0, status_replicas: int = 0) -> Obj:
    return {"metadata": {"name": name, "annotations": {REVISION: str(revision)}, "generation": 1},
            "spec": {"replicas": replicas}, "status": {"replicas": status_replicas, "observedGeneration": 1}}


def test_new_rs_annotations_copy_and_move_revision() -> None:
    deploy = {"metadata": {"annotations": {"kubernetes.io/change-cause": "v2", REVISION: "1",
                                           "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
              "spec": {"replicas": 3}}
    new: Obj = {"metadata": {}}
    assert set_new_rs_annotations(deploy, new, 2, False, 1)
    assert new["metadata"]["annotations"] == {"kubernetes.io/change-cause": "v2", REVISION: "2",
                                              "deployment.kubernetes.io/desired-replicas": "3",
                                              "deployment.kubernetes.io/max-replicas": "4"}
    assert not set_new_rs_annotations(deploy, new, 2, True, 1)  # nothing changes twice
    # rollback: an old revision-1 ReplicaSet becomes revision 3
    old = rs("a", 1)
    assert set_new_rs_annotations(deploy, old, 3, True, 1)
    assert old["metadata"]["annotations"][REVISION] == "3"
    assert old["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"


def test_history_cleanup_keeps_the_limit_and_busy_sets() -> None:
    old = [rs("r1", 1), rs("r2", 2, replicas=1, status_replicas=1), rs("r3", 3), rs("r4", 4)]
    assert [r["metadata"]["name"] for r in to_clean_up(old, 1)] == ["r1", "r3"]  # r2 still has pods
    assert to_clean_up(old, 10) == [] and to_clean_up(old, None) == []


def deploy(replicas: int = 3, deadline: int | None = 600, paused: bool = False,
           status: Obj | None = None) -> Obj:
    spec: Obj = {"replicas": replicas, "paused": paused,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}}
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {"metadata": {"name": "web", "generation": 2}, "spec": spec, "status": status or {}}


def rs_status(name: str, replicas: int, ready: int, available: int) -> Obj:
    return {"metadata": {"name": name}, "spec": {"replicas": replicas},
            "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": available}}


def test_status_and_available_condition() -> None:
    new, old = rs_status("web-new", 2, 1, 1), rs_status("web-old", 2, 2, 2)
    status = cond.calculate_status(deploy(), [old, new], new, NOW)
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 2, "replicas": 4, "updatedReplicas": 2, "readyReplicas": 3,
        "availableReplicas": 3, "unavailableReplicas": 1}
    available = cond.condition(status, "Available")
    assert available is not None and available["reason"] == "MinimumReplicasAvailable"
    low = cond.calculate_status(deploy(), [rs_status("web-new", 3, 0, 0)], None, NOW)
    c = cond.condition(low, "Available")
    assert c is not None and c["status"] == "False"
    assert c["message"] == "Deployment does not have minimum availability."


def progressing_since(seconds_ago: int, reason: str = "ReplicaSetUpdated") -> Obj:
    stamp = meta.rfc3339(NOW - timedelta(seconds=seconds_ago))
    return {"conditions": [{"type": "Progressing", "status": "True", "reason": reason, "message": "",
                            "lastUpdateTime": stamp, "lastTransitionTime": stamp}],
            "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2, "readyReplicas": 2}


def test_progressing_reasons() -> None:
    new = rs_status("web-new", 3, 3, 3)
    done = cond.rollout_status(deploy(status=progressing_since(5)), [new], new, NOW)
    c = cond.condition(done, "Progressing")
    assert c is not None and (c["reason"], c["message"]) == (
        "NewReplicaSetAvailable", 'ReplicaSet "web-new" has successfully progressed.')

    new, old = rs_status("web-new", 2, 2, 2), rs_status("web-old", 1, 1, 1)
    moving = cond.rollout_status(deploy(status=progressing_since(700)), [old, new], new, NOW)
    c = cond.condition(moving, "Progressing")
    assert c is not None and c["reason"] == "ReplicaSetUpdated" and c["lastUpdateTime"] == meta.rfc3339(NOW)
    assert c["message"] == 'ReplicaSet "web-new" is progressing.'

    stuck_new, stuck_old = rs_status("web-new", 1, 0, 0), rs_status("web-old", 2, 2, 2)
    stuck = deploy(deadline=10, status=progressing_since(11))
    stuck["status"].update(replicas=3, updatedReplicas=1, readyReplicas=2, availableReplicas=2)
    out = cond.rollout_status(stuck, [stuck_old, stuck_new], stuck_new, NOW)
    c = cond.condition(out, "Progressing")
    assert c is not None and (c["status"], c["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert c["message"] == 'ReplicaSet "web-new" has timed out progressing.'

    waiting = deploy(deadline=10, status=progressing_since(4))
    waiting["status"].update(replicas=3, updatedReplicas=1, readyReplicas=2, availableReplicas=2)
    out = cond.rollout_status(waiting, [stuck_old, stuck_new], stuck_new, NOW)
    assert (cond.condition(out, "Progressing") or {}).get("reason") == "ReplicaSetUpdated"
    assert cond.requeue_after(waiting, out, NOW) == 7.0  # 6 s left, plus one for second precision

    no_deadline = cond.rollout_status(deploy(deadline=None, status=progressing_since(1)), [], None, NOW)
    assert cond.condition(no_deadline, "Progressing") is None


def test_paused_condition() -> None:
    paused = cond.paused_condition(deploy(paused=True), NOW)
    assert paused is not None and (paused["status"], paused["reason"], paused["message"]) == (
        "Unknown", "DeploymentPaused", "Deployment is paused")
    was = deploy(status={"conditions": [paused]})
    resumed = cond.paused_condition(was, NOW)
    assert resumed is not None and resumed["reason"] == "DeploymentResumed"
    assert cond.paused_condition(deploy(paused=True, status={"conditions": [paused]}), NOW) is None
