"""Which pods count, which are ready or available, and which go first on scale-down.

The deletion order is kube's `ActivePods`: unscheduled before scheduled, Pending before Unknown
before Running, not-ready before ready, ready for less time before longer, more restarts before
fewer, newer before older — so the pods doing the least useful work go first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pocketkube.api import meta

Obj = dict[str, Any]

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_active(pod: Obj) -> bool:
    """Neither finished nor terminating: terminating pods are treated as already gone."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def ready_condition(pod: Obj) -> Obj | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return None


def is_ready(pod: Obj) -> bool:
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def ready_since(pod: Obj) -> datetime | None:
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True":
        return None
    stamp = cond.get("lastTransitionTime")
    return meta.parse_time(stamp) if stamp else _EPOCH


def available_in(pod: Obj, min_ready_seconds: int, now: datetime) -> float | None:
    """Seconds until the pod counts as available: 0 if it is now, None if it is not even ready."""
    since = ready_since(pod)
    if since is None:
        return None
    if min_ready_seconds <= 0:
        return 0.0
    remaining = (since + timedelta(seconds=min_ready_seconds) - now).total_seconds()
    return max(0.0, remaining)


def is_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    return available_in(pod, min_ready_seconds, now) == 0.0


def _restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def _created(pod: Obj) -> datetime:
    stamp = pod["metadata"].get("creationTimestamp")
    return meta.parse_time(stamp) if stamp else _EPOCH


def deletion_key(pod: Obj) -> tuple[Any, ...]:
    """Sort key: smaller sorts first and is deleted first."""
    ready = is_ready(pod)
    since = ready_since(pod) or _EPOCH
    return (
        bool(pod.get("spec", {}).get("nodeName")),
        _PHASE_RANK.get((pod.get("status") or {}).get("phase") or "", 0),
        ready,
        # ready for less time goes first: later ready time sorts first
        -since.timestamp() if ready else 0.0,
        -_restarts(pod),
        -_created(pod).timestamp(),
    )


def pods_to_delete(pods: list[Obj], count: int) -> list[Obj]:
    if count <= 0:
        return []
    return sorted(pods, key=deletion_key)[:count]
