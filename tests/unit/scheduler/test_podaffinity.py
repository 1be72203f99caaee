from __future__ import annotations

from typing import Any

import pytest

from pocketkube.api.obj import Obj
from pocketkube.scheduler.podaffinity import (
    REASON_AFFINITY,
    REASON_ANTI_AFFINITY,
    REASON_EXISTING_ANTI_AFFINITY,
    filter_reason,
    prepare,
    raw_score,
)
from tests.unit.scheduler.objects import cluster, make_node, make_pod

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def term(app: str, key: str = HOST, **extra: Any) -> Obj:
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key, **extra}


def required(kind: str, *terms: Obj) -> Obj:
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


NODES = [make_node("n1", labels={ZONE: "a"}), make_node("n2", labels={ZONE: "a"}), make_node("n3", labels={ZONE: "b"})]
DB = make_pod("db-0", labels={"app": "db"}, node="n1")


def verdicts(pod: Obj, pods: list[Obj], namespace_labels: dict[str, dict[str, str]] | None = None) -> list[str | None]:
    infos = cluster(NODES, pods)
    state = prepare(pod, infos, namespace_labels)
    return [filter_reason(state, info) for info in infos]


@pytest.mark.parametrize(("pod", "pods", "expected"), [
    # Required affinity on hostname: only where a db pod runs.
    (make_pod(affinity=required("podAffinity", term("db"))), [DB], [None, REASON_AFFINITY, REASON_AFFINITY]),
    # ... on zone: any node of that zone.
    (make_pod(affinity=required("podAffinity", term("db", ZONE))), [DB], [None, None, REASON_AFFINITY]),
    # Nothing matches anywhere: the first pod of a self-affine group may go anywhere...
    (make_pod(labels={"app": "db"}, affinity=required("podAffinity", term("db"))), [], [None, None, None]),
    # ... but a pod that doesn't match its own term may not.
    (make_pod(affinity=required("podAffinity", term("db"))), [], [REASON_AFFINITY] * 3),
    # Another namespace's db doesn't count unless the term names it.
    (make_pod(namespace="web", affinity=required("podAffinity", term("db"))), [DB], [REASON_AFFINITY] * 3),
    (make_pod(namespace="web", affinity=required("podAffinity", term("db", namespaces=["default"]))), [DB],
     [None, REASON_AFFINITY, REASON_AFFINITY]),
    (make_pod(namespace="web", affinity=required("podAffinity", term("db", namespaceSelector={}))), [DB],
     [None, REASON_AFFINITY, REASON_AFFINITY]),
    # Anti-affinity: not next to a db, by host or by zone.
    (make_pod(affinity=required("podAntiAffinity", term("db"))), [DB], [REASON_ANTI_AFFINITY, None, None]),
    (make_pod(affinity=required("podAntiAffinity", term("db", ZONE))), [DB],
     [REASON_ANTI_AFFINITY, REASON_ANTI_AFFINITY, None]),
    # An existing pod's anti-affinity keeps matching pods away from it (symmetry).
    (make_pod(labels={"app": "web"}),
     [make_pod("db-0", labels={"app": "db"}, node="n2", affinity=required("podAntiAffinity", term("web")))],
     [None, REASON_EXISTING_ANTI_AFFINITY, None]),
])
def test_filter(pod: Obj, pods: list[Obj], expected: list[str | None]) -> None:
    assert verdicts(pod, pods) == expected


def test_namespace_selector_uses_namespace_labels() -> None:
    pod = make_pod(namespace="web", affinity=required(
        "podAffinity", term("db", namespaceSelector={"matchLabels": {"team": "data"}})))
    assert verdicts(pod, [DB], {"default": {"team": "data"}}) == [None, REASON_AFFINITY, REASON_AFFINITY]
    assert verdicts(pod, [DB], {"default": {"team": "other"}}) == [REASON_AFFINITY] * 3


def test_preferred_terms_score_both_ways() -> None:
    pod = make_pod(labels={"app": "web"}, affinity={
        "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "podAffinityTerm": term("db")}]},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 4, "podAffinityTerm": term("web", ZONE)}]}})
    cache = make_pod("cache", labels={"app": "cache"}, node="n3", affinity={"podAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 7, "podAffinityTerm": term("web")}]}})
    other_web = make_pod("web-0", labels={"app": "web"}, node="n2")
    infos = cluster(NODES, [DB, cache, other_web])
    state = prepare(pod, infos)
    assert [raw_score(state, info) for info in infos] == [10 - 4, -4, 7]
