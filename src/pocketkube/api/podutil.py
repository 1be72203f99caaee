"""Pod readiness, availability and lifecycle phase, as Kubernetes' `pkg/api/v1/pod` util defines them.

Every component that counts pods asks the same questions — is it ready, is it available, is it
finished, is it still active — so they are answered here once (kube: IsPodReady, IsPodAvailable,
IsPodTerminal, controller.IsPodActive):

- ready: the Ready condition is True;
- available: ready, and either `minReadySeconds` is 0 or the Ready condition's lastTransitionTime
  lies more than `minReadySeconds` before `now` (a ready pod without that timestamp never becomes
  available once minReadySeconds > 0). `now` is an argument so callers decide the clock;
- terminal: phase Succeeded or Failed — its containers will not run again;
- active: neither terminal nor being deleted (what a controller counts towards its replicas).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pocketkube.api.meta import parse_time
from pocketkube.api.obj import Obj

SUCCEEDED, FAILED, RUNNING, PENDING = "Succeeded", "Failed", "Running", "Pending"
TERMINAL_PHASES = (SUCCEEDED, FAILED)
_MOMENT = 0.001


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_phase_terminal(pod_phase: str | None) -> bool:
    """IsPodPhaseTerminal."""
    return pod_phase in TERMINAL_PHASES


def is_pod_terminal(pod: Obj) -> bool:
    """IsPodTerminal: Succeeded or Failed."""
    return is_phase_terminal(phase(pod))


def is_pod_terminating(pod: Obj) -> bool:
    """Being deleted: deletionTimestamp is set."""
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def is_pod_active(pod: Obj) -> bool:
    """controller.IsPodActive: neither terminal nor being deleted."""
    return not is_pod_terminal(pod) and not is_pod_terminating(pod)


def pod_condition(pod: Obj, condition_type: str) -> Obj | None:
    """GetPodCondition: the status condition of that type, if any."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return dict(condition)
    return None


def ready_condition(pod: Obj) -> Obj | None:
    return pod_condition(pod, "Ready")


def is_pod_ready(pod: Obj) -> bool:
    """IsPodReady: the Ready condition is True."""
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def ready_since(pod: Obj) -> datetime | None:
    """When a ready pod became ready (its Ready condition's lastTransitionTime); None when it is not
    ready or the time is unknown."""
    condition = ready_condition(pod)
    if condition is None or condition.get("status") != "True" or not condition.get("lastTransitionTime"):
        return None
    return parse_time(str(condition["lastTransitionTime"]))


def is_pod_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    """IsPodAvailable: ready, and ready for more than `min_ready_seconds` at `now`."""
    if not is_pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + timedelta(seconds=min_ready_seconds) < now


def available_in(pod: Obj, min_ready_seconds: int, now: datetime) -> float | None:
    """Seconds until the pod counts as available, for a controller to look again then: 0 when it is
    available (and only then), None when waiting will not make it so (not ready, or no
    lastTransitionTime)."""
    if is_pod_available(pod, min_ready_seconds, now):
        return 0.0
    since = ready_since(pod)
    if since is None:
        return None
    # At the very instant kube's strict "before" still says no: look again a moment later.
    return max(_MOMENT, (since + timedelta(seconds=min_ready_seconds) - now).total_seconds())
