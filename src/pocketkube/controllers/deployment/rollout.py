"""Rollout arithmetic, pure: surge and unavailability budgets, how far to scale which ReplicaSet.

Follows kube's deployment util: maxSurge rounds up and maxUnavailable rounds down against
`replicas` (both zero means maxUnavailable 1); the new ReplicaSet grows within replicas+maxSurge;
old ones shrink while availability stays at or above replicas-maxUnavailable, unhealthy pods
first; and a resize mid-rollout is shared among ReplicaSets in proportion to their size.
ReplicaSets are plain dicts; plans come back as {name: new replicas}.
"""

from __future__ import annotations

import math

from pocketkube.api.obj import Obj

DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"


def replicas(obj: Obj | None) -> int:
    return int(((obj or {}).get("spec") or {}).get("replicas") or 0)


def available(rs: Obj | None) -> int:
    return int(((rs or {}).get("status") or {}).get("availableReplicas") or 0)


def name(rs: Obj) -> str:
    return str(rs["metadata"]["name"])


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """An int-or-percent against `total` (intstr.GetScaledValueFromIntOrPercent)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def _rolling(deploy: Obj) -> Obj | None:
    strategy = (deploy.get("spec") or {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    return dict(strategy.get("rollingUpdate") or {})


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None,
                       desired: int) -> tuple[int, int]:
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # otherwise the rollout could never move
    return surge, unavailable


def max_surge(deploy: Obj) -> int:
    rolling = _rolling(deploy)
    if rolling is None:
        return 0
    return resolve_fenceposts(rolling.get("maxSurge", "25%"), rolling.get("maxUnavailable", "25%"),
                              replicas(deploy))[0]


def max_unavailable(deploy: Obj) -> int:
    rolling = _rolling(deploy)
    want = replicas(deploy)
    if rolling is None or want == 0:
        return 0
    unavailable = resolve_fenceposts(rolling.get("maxSurge", "25%"), rolling.get("maxUnavailable", "25%"),
                                     want)[1]
    return min(unavailable, want)


def new_rs_new_replicas(deploy: Obj, all_rss: list[Obj], new_rs: Obj) -> int:
    """How big the new ReplicaSet may be now (NewRSNewReplicas)."""
    want = replicas(deploy)
    if _rolling(deploy) is None:
        return want
    current = sum(replicas(rs) for rs in all_rss)
    allowed = want + max_surge(deploy)
    if current >= allowed:
        return replicas(new_rs)
    return replicas(new_rs) + min(allowed - current, max(0, want - replicas(new_rs)))


def by_creation(rss: list[Obj]) -> list[Obj]:
    return sorted(rss, key=lambda rs: (rs["metadata"].get("creationTimestamp") or "", name(rs)))


def cleanup_unhealthy(old_rss: list[Obj], max_cleanup: int) -> dict[str, int]:
    """Scale down old ReplicaSets' unavailable pods first: they serve nobody (cleanupUnhealthyReplicas)."""
    plan: dict[str, int] = {}
    total = 0
    for rs in by_creation(old_rss):
        if total >= max_cleanup:
            break
        size, healthy = replicas(rs), available(rs)
        if size == 0 or size == healthy:
            continue
        down = min(max_cleanup - total, size - healthy)
        plan[name(rs)] = size - down
        total += down
    return plan


def scale_down_old(deploy: Obj, all_rss: list[Obj], old_rss: list[Obj]) -> dict[str, int]:
    """Scale down old ReplicaSets while availability stays at replicas - maxUnavailable."""
    min_available = replicas(deploy) - max_unavailable(deploy)
    total_available = sum(available(rs) for rs in all_rss)
    budget = total_available - min_available
    plan: dict[str, int] = {}
    done = 0
    for rs in by_creation(old_rss):
        if done >= budget:
            break
        size = replicas(rs)
        if size == 0:
            continue
        down = min(size, budget - done)
        plan[name(rs)] = size - down
        done += down
    return plan


def reconcile_old(deploy: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> list[dict[str, int]]:
    """The two scale-down steps of a rolling update (reconcileOldReplicaSets), as successive plans."""
    if sum(replicas(rs) for rs in old_rss) == 0:
        return []
    all_rss = old_rss + ([new_rs] if new_rs else [])
    min_available = replicas(deploy) - max_unavailable(deploy)
    new_unavailable = replicas(new_rs) - available(new_rs)
    max_scaled_down = sum(replicas(rs) for rs in all_rss) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return []
    cleanup = cleanup_unhealthy(old_rss, max_scaled_down)
    after = [_resized(rs, cleanup.get(name(rs))) for rs in old_rss]
    all_after = after + ([new_rs] if new_rs else [])
    return [cleanup, scale_down_old(deploy, all_after, after)]


def _resized(rs: Obj, size: int | None) -> Obj:
    if size is None:
        return rs
    return {**rs, "spec": {**(rs.get("spec") or {}), "replicas": size}}


def _annotation_int(rs: Obj, key: str) -> int | None:
    value = ((rs.get("metadata") or {}).get("annotations") or {}).get(key)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def is_saturated(deploy: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    want = replicas(deploy)
    return (replicas(rs) == want and _annotation_int(rs, DESIRED_REPLICAS) == want
            and available(rs) == want)


def is_scaling_event(deploy: Obj, rss: list[Obj]) -> bool:
    """An active ReplicaSet was sized for a different replica count than the Deployment's now."""
    want = replicas(deploy)
    for rs in rss:
        desired = _annotation_int(rs, DESIRED_REPLICAS)
        if replicas(rs) > 0 and desired is not None and desired != want:
            return True
    return False


def _round(x: float) -> int:
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def _fraction(rs: Obj, deploy: Obj) -> int:
    want = replicas(deploy)
    if want == 0:
        return -replicas(rs)
    allowed = want + max_surge(deploy)
    annotated = _annotation_int(rs, MAX_REPLICAS)
    if not annotated:
        annotated = int((deploy.get("status") or {}).get("replicas") or 0)
    if not annotated:
        return 0
    return _round(replicas(rs) * allowed / annotated) - replicas(rs)


def _proportion(rs: Obj, deploy: Obj, to_add: int, added: int) -> int:
    if replicas(rs) == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, deploy)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    if new_rs is None and not old_rss:
        return None
    everything = old_rss + ([new_rs] if new_rs else [])
    active = [rs for rs in everything if replicas(rs) > 0]
    if not active:
        return new_rs if new_rs is not None else by_creation(old_rss)[-1]
    return active[0] if len(active) == 1 else None


def proportional_scale(deploy: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> dict[str, int]:
    """Sizes for every ReplicaSet after the Deployment was resized (kube's `scale`)."""
    want = replicas(deploy)
    single = find_active_or_latest(new_rs, old_rss)
    if single is not None:
        return {} if replicas(single) == want else {name(single): want}
    if is_saturated(deploy, new_rs):
        return {name(rs): 0 for rs in old_rss if replicas(rs) > 0}
    if _rolling(deploy) is None:
        return {}
    active = [rs for rs in old_rss + ([new_rs] if new_rs else []) if replicas(rs) > 0]
    to_add = want + max_surge(deploy) - sum(replicas(rs) for rs in active)
    stamp = [(rs, rs["metadata"].get("creationTimestamp") or "") for rs in active]
    if to_add > 0:  # biggest first, newer first among equals
        ordered = [rs for rs, _ in sorted(stamp, key=lambda p: (-replicas(p[0]), _neg(p[1]), name(p[0])))]
    else:  # biggest first, older first among equals
        ordered = [rs for rs, _ in sorted(stamp, key=lambda p: (-replicas(p[0]), p[1], name(p[0])))]
    sizes = {name(rs): replicas(rs) for rs in ordered}
    added = 0
    if to_add != 0:
        for rs in ordered:
            part = _proportion(rs, deploy, to_add, added)
            sizes[name(rs)] += part
            added += part
    if ordered and to_add != added:
        first = name(ordered[0])
        sizes[first] = max(0, sizes[first] + to_add - added)
    return sizes


def _neg(stamp: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in stamp)
