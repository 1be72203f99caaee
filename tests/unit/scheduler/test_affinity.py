from __future__ import annotations

import pytest

from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.nodeaffinity import requirement_matches
from pocketkube.scheduler.affinity import preferred_terms, required_affinity
from tests.unit.scheduler.objects import make_pod

LABELS = {"disk": "ssd", "cores": "8", "kubernetes.io/hostname": "n1"}


@pytest.mark.parametrize(("operator", "key", "values", "ok"), [
    ("In", "disk", ["ssd", "nvme"], True),
    ("In", "disk", ["hdd"], False),
    ("In", "missing", ["x"], False),
    ("NotIn", "disk", ["hdd"], True),
    ("NotIn", "disk", ["ssd"], False),
    ("NotIn", "missing", ["x"], True),
    ("Exists", "disk", [], True),
    ("Exists", "missing", [], False),
    ("DoesNotExist", "missing", [], True),
    ("DoesNotExist", "disk", [], False),
    ("Gt", "cores", ["4"], True),
    ("Gt", "cores", ["8"], False),
    ("Lt", "cores", ["16"], True),
    ("Lt", "disk", ["16"], False),  # not an integer
    ("Gt", "missing", ["1"], False),
])
def test_requirement(operator: str, key: str, values: list[str], ok: bool) -> None:
    assert requirement_matches({"key": key, "operator": operator, "values": values}, LABELS) is ok


def required(*terms: Obj) -> Obj:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


SSD = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
HDD = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["hdd"]}]}


@pytest.mark.parametrize(("pod", "ok"), [
    (make_pod(), True),
    (make_pod(selector={"disk": "ssd"}), True),
    (make_pod(selector={"disk": "hdd"}), False),
    (make_pod(affinity=required(SSD)), True),
    (make_pod(affinity=required(HDD)), False),
    (make_pod(affinity=required(HDD, SSD)), True),  # terms are ORed
    (make_pod(affinity=required({"matchExpressions": SSD["matchExpressions"] + HDD["matchExpressions"]})),
     False),  # expressions in a term are ANDed
    (make_pod(affinity=required({})), False),  # an empty term matches nothing
    (make_pod(affinity=required({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]})),
     True),
    (make_pod(affinity=required({"matchFields": [{"key": "metadata.name", "operator": "NotIn",
                                                  "values": ["n1"]}]})), False),
    (make_pod(selector={"disk": "hdd"}, affinity=required(SSD)), False),  # both must hold
])
def test_matches_node(pod: Obj, ok: bool) -> None:
    assert required_affinity(pod).matches(LABELS, "n1") is ok


def test_preferred_score_sums_matching_weights() -> None:
    pod = make_pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": SSD},
        {"weight": 5, "preference": {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]}},
        {"weight": 50, "preference": HDD},
    ]}})
    assert preferred_terms(pod).score(LABELS, "n1") == 15
    assert preferred_terms(pod).score({"disk": "hdd"}, "n2") == 50
