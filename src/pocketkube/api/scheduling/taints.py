"""Taints and tolerations with Kubernetes' semantics (core/v1 Toleration, component-helpers).

A toleration tolerates a taint when its effect is empty or equal to the taint's, its key is empty
or equal to the taint's, and its operator is `Exists` (any value) or `Equal` — the default — with
an equal value. So an empty key with `Exists` tolerates every taint; an unknown operator tolerates
nothing. Missing strings compare as "" throughout, as Go's zero values do.

NoExecute taints evict: a pod stays on a node only while each NoExecute taint is tolerated, and then
for the smallest `tolerationSeconds` among the tolerations it relies on (the first matching one per
taint); `tolerationSeconds` ≤ 0 means at once, none at all means forever (`eviction_delay`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pocketkube.api.obj import Obj

NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE = "NoSchedule", "PreferNoSchedule", "NoExecute"
EXISTS, EQUAL = "Exists", "Equal"

# The taints Kubernetes' node lifecycle controller writes (k8s.io/api/core/v1 well_known_taints.go).
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"


def _s(obj: Obj, name: str) -> str:
    return str(obj.get(name) or "")


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """Toleration.ToleratesTaint."""
    effect = _s(toleration, "effect")
    if effect and effect != _s(taint, "effect"):
        return False
    key = _s(toleration, "key")
    if key and key != _s(taint, "key"):
        return False
    operator = _s(toleration, "operator")
    if operator in ("", EQUAL):
        return _s(toleration, "value") == _s(taint, "value")
    return operator == EXISTS


def tolerated_by(tolerations: Iterable[Obj], taint: Obj) -> Obj | None:
    """The first toleration that tolerates the taint, or None."""
    for toleration in tolerations:
        if tolerates(toleration, taint):
            return toleration
    return None


def tolerations_tolerate_taint(tolerations: Iterable[Obj], taint: Obj) -> bool:
    """TolerationsTolerateTaint: some toleration tolerates the taint."""
    return tolerated_by(tolerations, taint) is not None


def find_untolerated_taint(taints: Iterable[Obj], tolerations: list[Obj],
                           include: Callable[[Obj], bool] | None = None) -> Obj | None:
    """FindMatchingUntoleratedTaint: the first taint `include` selects (all when None) that no
    toleration tolerates, or None."""
    for taint in taints:
        if (include is None or include(taint)) and not tolerations_tolerate_taint(tolerations, taint):
            return taint
    return None


def effect_in(*effects: str) -> Callable[[Obj], bool]:
    """A taint filter for `find_untolerated_taint`: taints with one of `effects`."""
    return lambda taint: taint.get("effect") in effects


def pod_tolerations(pod: Obj) -> list[Obj]:
    return list((pod.get("spec") or {}).get("tolerations") or [])


# -- taint-based eviction ------------------------------------------------------------------------


def matching_tolerations(taints: Iterable[Obj], tolerations: list[Obj]) -> list[Obj] | None:
    """GetMatchingTolerations: for each taint the first toleration that tolerates it, or None when
    some taint is not tolerated at all."""
    used: list[Obj] = []
    for taint in taints:
        toleration = tolerated_by(tolerations, taint)
        if toleration is None:
            return None
        used.append(toleration)
    return used


def min_toleration_seconds(used: list[Obj]) -> float | None:
    """The taint-eviction controller's getMinTolerationTime: the smallest tolerationSeconds (≤ 0 is
    0: evict now); None when every toleration lasts forever. No tolerations at all (no taints) is 0."""
    if not used:
        return 0.0
    bounded = [float(t["tolerationSeconds"]) for t in used if t.get("tolerationSeconds") is not None]
    if not bounded:
        return None
    return max(0.0, min(bounded))


def no_execute_taints(node: Obj | None) -> list[Obj]:
    return [t for t in ((node or {}).get("spec") or {}).get("taints") or [] if t.get("effect") == NO_EXECUTE]


def eviction_delay(taints: Iterable[Obj], tolerations: list[Obj]) -> float | None:
    """Seconds a pod with `tolerations` may stay under `taints` (only the NoExecute ones count):
    0 to evict now, None to stay forever (no NoExecute taint, or tolerated without a limit)."""
    no_execute = [t for t in taints if t.get("effect") == NO_EXECUTE]
    if not no_execute:
        return None
    used = matching_tolerations(no_execute, tolerations)
    if used is None:
        return 0.0
    return min_toleration_seconds(used)


# -- editing a pod's tolerations -------------------------------------------------------------------


def match_toleration(a: Obj, b: Obj) -> bool:
    """Toleration.MatchToleration: the same key, operator, value and effect (tolerationSeconds aside)."""
    return all(_s(a, name) == _s(b, name) for name in ("key", "operator", "value", "effect"))


def add_or_update_toleration(tolerations: list[Obj], toleration: Obj) -> list[Obj]:
    """AddOrUpdateTolerationInPodSpec: `toleration` replaces every one it matches (so its
    tolerationSeconds wins), or is appended when none does."""
    out: list[Obj] = []
    updated = False
    for existing in tolerations:
        if match_toleration(toleration, existing):
            if existing == toleration:
                return list(tolerations)
            out.append(dict(toleration))
            updated = True
        else:
            out.append(existing)
    if not updated:
        out.append(dict(toleration))
    return out
