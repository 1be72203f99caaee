"""What one StatefulSet sync does, decided from a snapshot: which ordinals to create at which
revision and which pods to delete — kube's `updateStatefulSet`, as a pure function.

Order of business, as in kube: (1) every ordinal below `replicas` gets a pod — a missing one is
created, a Failed/Succeeded one deleted so it is recreated; (2) pods at or above `replicas` are
deleted, highest ordinal first; (3) with RollingUpdate, the highest-ordinal pod at or above the
partition that is not at the update revision is deleted (it comes back at the update revision).

`OrderedReady` is monotonic: the sync stops at the first pod it creates, deletes or must wait for
(not Running and Ready for minReadySeconds, or terminating), so pods come up 0, 1, 2 and go down
2, 1 one at a time. `Parallel` does (1) and (2) for all at once. Rolling updates go one pod at a
time under both policies, waiting for the replaced pod to be available again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pocketkube.api import podutil
from pocketkube.api.obj import Obj
from pocketkube.controllers.statefulset.identity import revision_of


@dataclass(frozen=True)
class Create:
    ordinal: int
    revision: str


@dataclass(frozen=True)
class Delete:
    pod: Obj = field(compare=False)
    name: str = ""


Action = Create | Delete


# Readiness and availability are podutil's; a StatefulSet also wants its pods Running.
is_terminating = podutil.is_pod_terminating
is_finished = podutil.is_pod_terminal


def is_running_and_ready(pod: Obj) -> bool:
    return podutil.phase(pod) == podutil.RUNNING and podutil.is_pod_ready(pod)


def available_in(pod: Obj, min_ready_seconds: int, now: datetime) -> float | None:
    """Seconds until a running, ready pod counts as available (0: it is); None when not ready."""
    if not is_running_and_ready(pod):
        return None
    return podutil.available_in(pod, min_ready_seconds, now)


def is_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    return is_running_and_ready(pod) and podutil.is_pod_available(pod, min_ready_seconds, now)


def _delete(pod: Obj) -> Delete:
    return Delete(pod, str((pod.get("metadata") or {}).get("name", "")))


def new_pod_revision(spec: Obj, ordinal: int, current: str, update: str) -> str:
    """Below a RollingUpdate partition a recreated pod keeps the current revision; else the update."""
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        if ordinal < partition:
            return current
    return update


def plan(spec: Obj, pods: dict[int, Obj], condemned: list[Obj], current: str, update: str,
         now: datetime) -> list[Action]:
    """The actions of one sync, in order. `pods`: ordinal → pod for ordinals below replicas;
    `condemned`: every other pod of the set, highest ordinal first."""
    replicas = int(spec.get("replicas", 1))
    monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
    min_ready = int(spec.get("minReadySeconds") or 0)
    actions: list[Action] = []

    for ordinal in range(replicas):
        pod = pods.get(ordinal)
        if pod is None:
            actions.append(Create(ordinal, new_pod_revision(spec, ordinal, current, update)))
        elif is_finished(pod) and not is_terminating(pod):
            actions.append(_delete(pod))
        elif is_terminating(pod) or not is_available(pod, min_ready, now):
            pass  # wait for it
        else:
            continue
        if monotonic:
            return actions

    in_order = [*(pods[o] for o in sorted(pods)), *reversed(condemned)]
    first_unhealthy = next((p for p in in_order if is_terminating(p) or not is_available(p, min_ready, now)),
                           None)
    for pod in condemned:
        if is_terminating(pod):
            if monotonic:
                return actions
            continue
        # Monotonic scale-down never deletes while a pod other than this one is unhealthy.
        if monotonic and first_unhealthy is not None and first_unhealthy is not pod:
            return actions
        actions.append(_delete(pod))
        if monotonic:
            return actions
    if actions:
        return actions

    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return actions
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    for ordinal in range(replicas - 1, partition - 1, -1):
        pod = pods.get(ordinal)
        if pod is None:
            continue
        if revision_of(pod) != update and not is_terminating(pod):
            return [_delete(pod)]
        if is_terminating(pod) or not is_available(pod, min_ready, now):
            return []  # one at a time: wait for the replaced pod
    return actions
