"""A ReplicaSet's status from the pods it owns (kube's calculateStatus), pure.

replicas counts active pods; fullyLabeledReplicas those carrying every template label;
readyReplicas those Ready; availableReplicas those Ready for at least minReadySeconds. A failed
create sets the ReplicaFailure condition (reason FailedCreate); success clears it.
"""

from __future__ import annotations

from datetime import datetime

from pocketkube.api import meta
from pocketkube.api.obj import Obj
from pocketkube.api.podutil import available_in, is_pod_available, is_pod_ready


def calculate_status(rs: Obj, pods: list[Obj], create_error: str | None, now: datetime) -> Obj:
    spec = rs.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    fully = ready = available = 0
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        if all(labels.get(k) == v for k, v in template_labels.items()):
            fully += 1
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(pod, min_ready, now):
                available += 1
    old = rs.get("status") or {}
    status: Obj = {"replicas": len(pods)}
    for name, value in (("fullyLabeledReplicas", fully), ("readyReplicas", ready),
                        ("availableReplicas", available)):
        if value:
            status[name] = value
    status["observedGeneration"] = int(rs["metadata"].get("generation") or 1)
    conditions = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
    failure = next((c for c in old.get("conditions") or [] if c.get("type") == "ReplicaFailure"), None)
    if create_error is not None:
        # like kube: set once, keep the first error until creates succeed again
        conditions.append(failure or {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                      "message": create_error, "lastTransitionTime": meta.rfc3339(now)})
    if conditions:
        status["conditions"] = conditions
    return status


def next_available_in(rs: Obj, pods: list[Obj], now: datetime) -> float | None:
    """Seconds until the next ready-but-not-yet-available pod becomes available, if any."""
    min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
    if min_ready <= 0:
        return None
    waits = [w for w in (available_in(p, min_ready, now) for p in pods) if w]
    return min(waits) if waits else None
