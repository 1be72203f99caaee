"""The Job controller's decisions as pure functions over JSON-shaped Jobs and Pods.

Pods are tracked with the `batch.kubernetes.io/job-tracking` finalizer, as kube does: a finished
pod's uid is first written to status.uncountedTerminatedPods, then its finalizer is removed, then
it moves into status.succeeded/failed — so each pod is counted exactly once even if the controller
stops half-way. A pod counts as failed when its phase is Failed or it is being deleted unfinished.
"""

from __future__ import annotations

import copy
import math
from datetime import datetime

from pocketkube.api import meta
from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_ready

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"


def spec_int(job: Obj, name: str, default: int | None) -> int | None:
    value = (job.get("spec") or {}).get(name)
    return default if value is None else int(value)


def is_indexed(job: Obj) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def condition(job: Obj, type_: str) -> Obj | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_ and c.get("status") == "True":
            return dict(c)
    return None


def finished_condition(job: Obj) -> Obj | None:
    return condition(job, "Complete") or condition(job, "Failed")


def is_finished(job: Obj) -> bool:
    return finished_condition(job) is not None


def pod_succeeded(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Succeeded"


def pod_failed(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase == "Failed" or (bool(pod["metadata"].get("deletionTimestamp")) and phase != "Succeeded")


def pod_finished(pod: Obj) -> bool:
    return pod_succeeded(pod) or pod_failed(pod)


def pod_index(pod: Obj) -> int | None:
    value = (pod["metadata"].get("annotations") or {}).get(INDEX_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# -- completed indexes ("1,3-5") -------------------------------------------------------------------

def parse_indexes(text: str | None) -> set[int]:
    out: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


def format_indexes(indexes: set[int]) -> str:
    parts: list[str] = []
    run: list[int] = []
    for i in sorted(indexes):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [i]
    if run:
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(parts)


# -- how many pods ----------------------------------------------------------------------------------

def want_active(job: Obj, succeeded: int) -> int:
    """Pods that should be running for a NonIndexed job (kube's wantActive)."""
    parallelism = spec_int(job, "parallelism", 1) or 0
    completions = spec_int(job, "completions", None)
    if completions is None:  # a work queue: done once any pod succeeded
        return 0 if succeeded > 0 else parallelism
    return max(0, min(parallelism, completions - succeeded))


def indexes_to_start(job: Obj, completed: set[int], active_indexes: set[int]) -> list[int]:
    """Indexes with neither a success nor an active pod, lowest first, up to the parallelism left."""
    completions = spec_int(job, "completions", 1) or 0
    room = (spec_int(job, "parallelism", 1) or 0) - len(active_indexes)
    free = [i for i in range(completions) if i not in completed and i not in active_indexes]
    return free[:max(0, room)]


def success_reached(job: Obj, succeeded: int, completed: set[int], active: int) -> bool:
    completions = spec_int(job, "completions", None)
    if is_indexed(job):
        return len(completed) >= (completions or 0)
    if completions is None:
        return succeeded > 0 and active == 0
    return succeeded >= completions


def failure_reason(job: Obj, failed: int, now: datetime) -> tuple[str, str] | None:
    """(reason, message) of a Job that has failed, or None."""
    limit = spec_int(job, "backoffLimit", 6)
    if limit is not None and failed > limit:
        return "BackoffLimitExceeded", "Job has reached the specified backoff limit"
    deadline = spec_int(job, "activeDeadlineSeconds", None)
    start = (job.get("status") or {}).get("startTime")
    if deadline is not None and start and (now - meta.parse_time(start)).total_seconds() >= deadline:
        return "DeadlineExceeded", "Job was active longer than specified deadline"
    return None


def backoff_delay(failed: int, base: float, cap: float = 360.0) -> float:
    """Wait before replacing a failed pod: base · 2^(failures-1), capped (kube: 10 s … 6 min)."""
    return 0.0 if failed <= 0 else min(cap, base * math.pow(2, failed - 1))


def new_condition(type_: str, reason: str, message: str, now: datetime, status: str = "True") -> Obj:
    stamp = meta.rfc3339(now)
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "lastProbeTime": stamp, "lastTransitionTime": stamp}


def with_condition(conditions: list[Obj], cond: Obj) -> list[Obj]:
    """Set a condition, keeping lastTransitionTime when its status did not change."""
    out = []
    found = False
    for c in conditions:
        if c.get("type") == cond["type"]:
            found = True
            if c.get("status") == cond["status"] and c.get("reason") == cond.get("reason"):
                out.append(c)
                continue
            out.append(cond)
        else:
            out.append(c)
    return out if found else out + [cond]


# -- pods ---------------------------------------------------------------------------------------

def pod_for(job: Obj, owner_ref: Obj, index: int | None) -> Obj:
    """A new pod from the Job's template, tracked and owned; Indexed pods get their index."""
    template = copy.deepcopy((job.get("spec") or {}).get("template") or {})
    md = template.get("metadata") or {}
    name = job["metadata"]["name"]
    labels = dict(md.get("labels") or {})
    annotations = dict(md.get("annotations") or {})
    spec = template.get("spec") or {}
    generate = f"{name}-"
    if index is not None:
        annotations[INDEX_ANNOTATION] = str(index)
        labels[INDEX_ANNOTATION] = str(index)
        generate = f"{name}-{index}-"
        if not spec.get("hostname"):
            spec["hostname"] = f"{name}-{index}"
        env_var = {"name": INDEX_ENV, "valueFrom": {"fieldRef": {
            "fieldPath": f"metadata.annotations['{INDEX_ANNOTATION}']"}}}
        for container in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
            env = container.setdefault("env", [])
            if not any(e.get("name") == INDEX_ENV for e in env):
                env.append(copy.deepcopy(env_var))
    pod_md: Obj = {"generateName": generate[:58] if len(generate) > 58 else generate,
                   "namespace": job["metadata"]["namespace"], "labels": labels,
                   "ownerReferences": [owner_ref], "finalizers": [TRACKING_FINALIZER]}
    if annotations:
        pod_md["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_md, "spec": spec}


def deletion_order(pods: list[Obj]) -> list[Obj]:
    """Which active pods to delete first: unscheduled, then pending, then not ready, newest first."""
    def rank(pod: Obj) -> tuple[int, int, int, str]:
        phase = (pod.get("status") or {}).get("phase")
        return (0 if not (pod.get("spec") or {}).get("nodeName") else 1,
                0 if phase == "Pending" else 1, 1 if is_pod_ready(pod) else 0,
                _negated(pod["metadata"].get("creationTimestamp", "")))
    return sorted(pods, key=rank)


def _negated(stamp: str) -> str:
    return "".join(chr(0x10FFFF - ord(ch)) for ch in stamp)
