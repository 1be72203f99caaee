"""DaemonSet arithmetic: template hashes, what to create and delete on each node, and status.

`plan` is kube's manage + rollingUpdate in one pure step: a pod on every node that should run one,
none where it may not stay, one at most per node, failed pods replaced; under RollingUpdate, old
pods that are already unavailable go at once and available ones go while fewer than maxUnavailable
daemon pods are unavailable. OnDelete leaves old pods until someone deletes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from pocketkube.api.hashing import object_hash
from pocketkube.api.obj import Obj
from pocketkube.api.podutil import is_pod_available, is_pod_ready

HASH_LABEL = "controller-revision-hash"


def template_hash(template: Obj, collision_count: int = 0) -> str:
    """fnv-32a over the template (and collisionCount), in apimachinery's safe alphabet."""
    return object_hash(template, collision_count)


def max_unavailable(ds: Obj, desired: int) -> int:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1)
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * desired / 100)
    return int(value)


@dataclass
class NodeState:
    name: str
    should_run: bool
    may_stay: bool
    pods: list[Obj] = field(default_factory=list)


@dataclass
class Plan:
    create_on: list[str] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)


def _age(pod: Obj) -> str:
    return str(pod["metadata"].get("creationTimestamp") or "")


def plan(nodes: list[NodeState], current_hash: str, rolling: bool, max_unavail: int, min_ready: int,
         now: datetime) -> Plan:
    out = Plan()
    candidates: list[Obj] = []
    unavailable = 0
    for node in nodes:
        pods = sorted(node.pods, key=_age)
        if not node.may_stay:
            out.delete += pods
            continue
        if not node.should_run:
            continue
        failed = [p for p in pods if (p.get("status") or {}).get("phase") == "Failed"]
        out.delete += failed
        alive = [p for p in pods if p not in failed]
        if not alive:
            out.create_on.append(node.name)
            unavailable += 1
            continue
        out.delete += alive[1:]  # one daemon pod per node: keep the oldest
        pod = alive[0]
        available = is_pod_available(pod, min_ready, now)
        if not available:
            unavailable += 1
        if rolling and (pod["metadata"].get("labels") or {}).get(HASH_LABEL) != current_hash:
            if not available:
                out.delete.append(pod)  # already down: replacing it costs nothing
            else:
                candidates.append(pod)
    budget = max(0, max_unavail - unavailable)
    out.delete += sorted(candidates, key=_age)[:budget]
    return out


def status_for(ds: Obj, nodes: list[NodeState], current_hash: str, min_ready: int, now: datetime) -> Obj:
    desired = [n for n in nodes if n.should_run]
    scheduled = [n for n in desired if n.pods]
    first = [sorted(n.pods, key=_age)[0] for n in scheduled]
    ready = sum(1 for p in first if is_pod_ready(p))
    available = sum(1 for p in first if is_pod_available(p, min_ready, now))
    status: Obj = {
        "currentNumberScheduled": len(scheduled),
        "numberMisscheduled": sum(1 for n in nodes if not n.should_run and n.pods),
        "desiredNumberScheduled": len(desired),
        "numberReady": ready,
        "observedGeneration": ds["metadata"].get("generation", 1),
        "updatedNumberScheduled": sum(1 for p in first
                                      if (p["metadata"].get("labels") or {}).get(HASH_LABEL) == current_hash),
        "numberAvailable": available,
        "numberUnavailable": len(desired) - available,
    }
    collisions = (ds.get("status") or {}).get("collisionCount")
    if collisions:
        status["collisionCount"] = collisions
    for key in ("numberAvailable", "numberUnavailable"):
        if not status[key]:
            del status[key]
    return status
