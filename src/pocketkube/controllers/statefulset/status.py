"""A StatefulSet's status from its pods, as kube's computeReplicaStatus + completeRollingUpdate.

`replicas` counts created pods; ready/available count Running+Ready pods (available after
minReadySeconds); current/updated count non-terminating pods at the current/update revision. A
RollingUpdate whose every pod is updated and ready completes: currentRevision becomes the update
revision.
"""

from __future__ import annotations

from datetime import datetime

from pocketkube.api.obj import Obj
from pocketkube.controllers.statefulset.identity import revision_of
from pocketkube.controllers.statefulset.plan import is_available, is_running_and_ready, is_terminating


def compute_status(sts: Obj, pods: list[Obj], current: str, update: str, collision_count: int,
                   now: datetime) -> Obj:
    spec = sts.get("spec") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    counts = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "currentReplicas": 0,
              "updatedReplicas": 0}
    for pod in pods:
        created = bool((pod.get("status") or {}).get("phase"))
        if created:
            counts["replicas"] += 1
        if is_running_and_ready(pod):
            counts["readyReplicas"] += 1
            if is_available(pod, min_ready, now):
                counts["availableReplicas"] += 1
        if created and not is_terminating(pod):
            revision = revision_of(pod)
            if revision == current:
                counts["currentReplicas"] += 1
            if revision == update:
                counts["updatedReplicas"] += 1
    strategy = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate")
    if (strategy == "RollingUpdate" and counts["updatedReplicas"] == counts["replicas"]
            and counts["readyReplicas"] == counts["replicas"]):
        current = update
        counts["currentReplicas"] = counts["updatedReplicas"]
    status: Obj = {"observedGeneration": (sts.get("metadata") or {}).get("generation", 0), **counts,
                   "currentRevision": current, "updateRevision": update, "collisionCount": collision_count}
    conditions = (sts.get("status") or {}).get("conditions")
    if conditions:
        status["conditions"] = conditions
    return status
