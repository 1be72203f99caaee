"""Which pods go first on scale-down (readiness and availability are `pocketkube.api.podutil`).

The deletion order is kube's `ActivePods`: unscheduled before scheduled, Pending before Unknown
before Running, not-ready before ready, ready for less time before longer, more restarts before
fewer, newer before older — so the pods doing the least useful work go first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pocketkube.api import meta
from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_ready, ready_since

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def _created(pod: Obj) -> datetime:
    stamp = pod["metadata"].get("creationTimestamp")
    return meta.parse_time(stamp) if stamp else _EPOCH


def deletion_key(pod: Obj) -> tuple[Any, ...]:
    """Sort key: smaller sorts first and is deleted first."""
    ready = is_pod_ready(pod)
    since = ready_since(pod) or _EPOCH  # kube's podReadyTime: the zero time when unknown
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
