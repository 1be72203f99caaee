"""A Deployment's status and its Available/Progressing conditions (kube's sync status logic), pure.

Progressing carries the rollout's story: NewReplicaSetCreated / FoundNewReplicaSet when the new
ReplicaSet appears, ReplicaSetUpdated each time pods move forward (which restarts the
progressDeadlineSeconds clock via lastUpdateTime), NewReplicaSetAvailable when complete, and
ProgressDeadlineExceeded (status False) when nothing moved for progressDeadlineSeconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pocketkube.api import meta
from pocketkube.api.obj import Obj
from pocketkube.controllers.deployment.rollout import available, max_unavailable, replicas

AVAILABLE, PROGRESSING, REPLICA_FAILURE = "Available", "Progressing", "ReplicaFailure"
NEW_RS_CREATED, FOUND_NEW_RS, RS_UPDATED = "NewReplicaSetCreated", "FoundNewReplicaSet", "ReplicaSetUpdated"
NEW_RS_AVAILABLE, TIMED_OUT = "NewReplicaSetAvailable", "ProgressDeadlineExceeded"
PAUSED, RESUMED = "DeploymentPaused", "DeploymentResumed"
MIN_AVAILABLE, MIN_UNAVAILABLE = "MinimumReplicasAvailable", "MinimumReplicasUnavailable"
NO_DEADLINE = 2147483647


def condition(status: Obj, type_: str) -> Obj | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def new_condition(type_: str, status: str, reason: str, message: str, now: datetime) -> Obj:
    stamp = meta.rfc3339(now)
    return {"type": type_, "status": status, "lastUpdateTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def set_condition(status: Obj, cond: Obj) -> None:
    """Replace the condition of that type; same status and reason is left alone (SetDeploymentCondition)."""
    current = condition(status, cond["type"])
    if current is not None and current["status"] == cond["status"] and current.get("reason") == cond["reason"]:
        return
    if current is not None and current["status"] == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: Obj, type_: str) -> None:
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def has_progress_deadline(deploy: Obj) -> bool:
    value = (deploy.get("spec") or {}).get("progressDeadlineSeconds")
    return value is not None and int(value) != NO_DEADLINE


def calculate_status(deploy: Obj, all_rss: list[Obj], new_rs: Obj | None, now: datetime) -> Obj:
    def total(field: str, rss: list[Obj]) -> int:
        return sum(int((rs.get("status") or {}).get(field) or 0) for rs in rss)

    old = deploy.get("status") or {}
    avail = sum(available(rs) for rs in all_rss)
    status: Obj = {
        "observedGeneration": int(deploy["metadata"].get("generation") or 1),
        "replicas": total("replicas", all_rss),
        "updatedReplicas": total("replicas", [new_rs] if new_rs else []),
        "readyReplicas": total("readyReplicas", all_rss),
        "availableReplicas": avail,
        "unavailableReplicas": max(0, sum(replicas(rs) for rs in all_rss) - avail),
    }
    status = {k: v for k, v in status.items() if v or k == "observedGeneration"}  # kube omits zeros
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if avail >= replicas(deploy) - max_unavailable(deploy):
        set_condition(status, new_condition(AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability.",
                                            now))
    else:
        set_condition(status, new_condition(AVAILABLE, "False", MIN_UNAVAILABLE,
                                            "Deployment does not have minimum availability.", now))
    return status


def _n(status: Obj, field: str) -> int:
    return int(status.get(field) or 0)


def is_complete(deploy: Obj, status: Obj) -> bool:
    want = replicas(deploy)
    return (_n(status, "updatedReplicas") == want and _n(status, "replicas") == want
            and _n(status, "availableReplicas") == want
            and _n(status, "observedGeneration") >= int(deploy["metadata"].get("generation") or 1))


def is_progressing(old: Obj, new: Obj) -> bool:
    old_old = _n(old, "replicas") - _n(old, "updatedReplicas")
    new_old = _n(new, "replicas") - _n(new, "updatedReplicas")
    return (_n(new, "updatedReplicas") > _n(old, "updatedReplicas") or new_old < old_old
            or _n(new, "readyReplicas") > _n(old, "readyReplicas")
            or _n(new, "availableReplicas") > _n(old, "availableReplicas"))


def timed_out(deploy: Obj, status: Obj, now: datetime) -> bool:
    if not has_progress_deadline(deploy):
        return False
    cond = condition(status, PROGRESSING)
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    deadline = int(deploy["spec"]["progressDeadlineSeconds"])
    since = meta.parse_time(cond.get("lastUpdateTime") or meta.rfc3339(now))
    return since + timedelta(seconds=deadline) < now


def rollout_status(deploy: Obj, all_rss: list[Obj], new_rs: Obj | None, now: datetime) -> Obj:
    """calculate_status plus the Progressing condition (syncRolloutStatus)."""
    status = calculate_status(deploy, all_rss, new_rs, now)
    if not has_progress_deadline(deploy):
        remove_condition(status, PROGRESSING)
    current = condition(status, PROGRESSING)
    complete_before = (_n(status, "replicas") == _n(status, "updatedReplicas") and current is not None
                       and current.get("reason") == NEW_RS_AVAILABLE)
    if has_progress_deadline(deploy) and not complete_before:
        rs_name = new_rs["metadata"]["name"] if new_rs else ""
        if is_complete(deploy, status):
            if new_rs is not None:
                set_condition(status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE,
                                                    f'ReplicaSet "{rs_name}" has successfully progressed.', now))
        elif is_progressing(deploy.get("status") or {}, status):
            cond = new_condition(PROGRESSING, "True", RS_UPDATED, f'ReplicaSet "{rs_name}" is progressing.', now)
            if current is not None and current["status"] == "True":
                cond["lastTransitionTime"] = current.get("lastTransitionTime")
            # removed first, so lastUpdateTime moves on: progress restarts the deadline clock
            remove_condition(status, PROGRESSING)
            status.setdefault("conditions", []).append(cond)
        elif timed_out(deploy, status, now):
            set_condition(status, new_condition(PROGRESSING, "False", TIMED_OUT,
                                                f'ReplicaSet "{rs_name}" has timed out progressing.', now))
    return status


def requeue_after(deploy: Obj, status: Obj, now: datetime) -> float | None:
    """When to look again for a stuck rollout (requeueStuckDeployment)."""
    cond = condition(status, PROGRESSING)
    if not has_progress_deadline(deploy) or cond is None or cond.get("reason") in (NEW_RS_AVAILABLE, TIMED_OUT):
        return None
    if is_complete(deploy, status):
        return None
    since = meta.parse_time(cond.get("lastUpdateTime") or meta.rfc3339(now))
    after = (since + timedelta(seconds=int(deploy["spec"]["progressDeadlineSeconds"])) - now).total_seconds()
    return max(after, 0.0) + 1.0  # seconds precision: look just after the deadline has surely passed


def paused_condition(deploy: Obj, now: datetime) -> Obj | None:
    """The Progressing condition to set when pause changed (checkPausedConditions), else None."""
    if not has_progress_deadline(deploy):
        return None
    cond = condition(deploy.get("status") or {}, PROGRESSING)
    paused_now = cond is not None and cond.get("reason") == PAUSED
    if (deploy.get("spec") or {}).get("paused") and not paused_now:
        return new_condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused", now)
    if not (deploy.get("spec") or {}).get("paused") and paused_now:
        return new_condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed", now)
    return None
