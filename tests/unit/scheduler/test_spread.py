from __future__ import annotations

from typing import Any

import pytest

from pocketkube.api.obj import Obj
from pocketkube.scheduler.spread import REASON_SPREAD, REASON_SPREAD_LABEL, filter_reason, prepare, scores
from tests.unit.scheduler.objects import cluster, make_node, make_pod

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def constraint(key: str = HOST, skew: int = 1, when: str = "DoNotSchedule", **extra: Any) -> Obj:
    return {"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"app": "web"}}, **extra}


def web(i: int, node: str) -> Obj:
    return make_pod(f"web-{i}", labels={"app": "web"}, node=node)


NODES = [make_node("n1", labels={ZONE: "a"}), make_node("n2", labels={ZONE: "a"}), make_node("n3", labels={ZONE: "b"})]


@pytest.mark.parametrize(("spread", "pods", "expected"), [
    ([constraint()], [], [None, None, None]),
    ([constraint()], [web(0, "n1")], [REASON_SPREAD, None, None]),
    ([constraint(skew=2)], [web(0, "n1")], [None, None, None]),
    ([constraint()], [web(0, "n1"), web(1, "n2"), web(2, "n3")], [None, None, None]),
    # By zone: a has 2, b has 0 → only zone b.
    ([constraint(ZONE)], [web(0, "n1"), web(1, "n2")], [REASON_SPREAD, REASON_SPREAD, None]),
    # Pods in another namespace or with other labels don't count.
    ([constraint()], [make_pod("x", namespace="other", labels={"app": "web"}, node="n1"),
                      make_pod("y", labels={"app": "db"}, node="n1")], [None, None, None]),
    # A node without the key is rejected for good.
    ([constraint("rack")], [], [REASON_SPREAD_LABEL] * 3),
    # minDomains above the domain count makes the global minimum 0.
    ([constraint(ZONE, skew=1, minDomains=3)], [web(0, "n3")], [None, None, REASON_SPREAD]),
    # ScheduleAnyway never filters.
    ([constraint(when="ScheduleAnyway")], [web(0, "n1"), web(1, "n1")], [None, None, None]),
])
def test_filter(spread: list[Obj], pods: list[Obj], expected: list[str | None]) -> None:
    pod = make_pod("new", labels={"app": "web"}, spread=spread)
    infos = cluster(NODES, pods)
    state = prepare(pod, infos)
    assert [filter_reason(state, info) for info in infos] == expected


def test_node_affinity_policy_limits_the_domains() -> None:
    # Only zone-a nodes are eligible for the pod, so zone b's empty domain doesn't drag the minimum to 0
    # (n3 itself is the NodeAffinity filter's to reject).
    pod = make_pod("new", labels={"app": "web"}, selector={ZONE: "a"}, spread=[constraint(ZONE)])
    infos = cluster(NODES, [web(0, "n1")])
    assert [filter_reason(prepare(pod, infos), i) for i in infos] == [None, None, None]
    pod["spec"]["topologySpreadConstraints"][0]["nodeAffinityPolicy"] = "Ignore"
    infos = cluster(NODES, [web(0, "n1")])
    assert [filter_reason(prepare(pod, infos), i) for i in infos] == [REASON_SPREAD, REASON_SPREAD, None]


def test_schedule_anyway_scores_emptier_domains_higher() -> None:
    pod = make_pod("new", labels={"app": "web"}, spread=[constraint(when="ScheduleAnyway")])
    infos = cluster(NODES, [web(0, "n1"), web(1, "n1"), web(2, "n2")])
    got = scores(pod, infos, infos)
    assert got["n3"] == 100 and got["n3"] > got["n2"] > got["n1"]


def test_default_spreading_counts_pods_of_the_same_owner() -> None:
    pods = [make_pod("rs-a", owner="rs", node="n1"), make_pod("rs-b", owner="rs", node="n1"),
            make_pod("other", owner="other", node="n2"), make_pod("other2", owner="other", node="n2")]
    infos = cluster(NODES, pods)
    got = scores(make_pod("rs-c", owner="rs"), infos, infos)
    # Hostname: n1 holds both; zone: zone a holds both, so n2 (zone a) ranks between.
    assert got["n3"] == 100 and got["n3"] > got["n2"] > got["n1"]
    assert scores(make_pod("bare"), infos, infos) == {}  # no owner, no constraints: nothing to spread
