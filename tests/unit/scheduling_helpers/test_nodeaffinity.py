"""Node selectors and node affinity, as component-helpers' nodeaffinity matches them.

Rows marked "DaemonSet copy" (and "scheduler copy") are where the copies in
`controllers/daemonset/nodes.py` and `scheduler/affinity.py` answered otherwise; both callers now
use this module.
"""

from __future__ import annotations

import pytest

from pocketkube.api.obj import Obj
from pocketkube.api.scheduling.nodeaffinity import (
    NodeSelector,
    PreferredSchedulingTerms,
    node_matches,
    node_selector_map_matches,
    required_node_affinity_matches,
    requirement_matches,
)

LABELS = {"disk": "ssd", "cores": "8", "empty": ""}


def req(key: str, operator: str, *values: str) -> Obj:
    return {"key": key, "operator": operator, "values": list(values)}


@pytest.mark.parametrize(("requirement", "ok"), [
    (req("disk", "In", "ssd", "nvme"), True),
    (req("disk", "In", "hdd"), False),
    (req("missing", "In", "x"), False),
    (req("disk", "NotIn", "hdd"), True),
    (req("missing", "NotIn", "x"), True),
    (req("disk", "Exists"), True),
    (req("empty", "Exists"), True),
    (req("missing", "DoesNotExist"), True),
    (req("cores", "Gt", "4"), True),
    (req("cores", "Gt", "8"), False),
    (req("cores", "Lt", "16"), True),
    (req("disk", "Gt", "1"), False),  # the label is not an integer
    (req("missing", "Lt", "1"), False),
    # Requirements that do not parse match nothing.
    (req("cores", "Gt", "1", "100"), False),  # Gt takes one value (DaemonSet copy: compared with the first)
    (req("cores", "Gt", "x"), False),
    (req("cores", "Gt", "-1"), False),  # "-1" is no label value, which every value must be (both copies: True)
    (req("disk", "NotIn"), False),  # In/NotIn need values (both copies: True)
    (req("missing", "DoesNotExist", "x"), False),  # Exists/DoesNotExist take none (both copies: True)
    (req("disk", "Equals", "ssd"), False),  # not a NodeSelectorOperator
    (req("bad key!", "DoesNotExist"), False),  # not a label key (both copies: True)
])
def test_requirement(requirement: Obj, ok: bool) -> None:
    assert requirement_matches(requirement, LABELS) is ok


def terms(*ts: Obj) -> Obj:
    return {"nodeSelectorTerms": list(ts)}


SSD = {"matchExpressions": [req("disk", "In", "ssd")]}
HDD = {"matchExpressions": [req("disk", "In", "hdd")]}
ON_N1 = {"matchFields": [req("metadata.name", "In", "n1")]}


@pytest.mark.parametrize(("selector", "ok"), [
    (terms(SSD), True),
    (terms(HDD), False),
    (terms(HDD, SSD), True),  # terms are ORed
    (terms({"matchExpressions": SSD["matchExpressions"] + HDD["matchExpressions"]}), False),  # ANDed inside
    (terms(), False),
    (terms({}), False),  # an empty term matches nothing
    (terms({}, SSD), True),
    (terms(ON_N1), True),
    (terms({"matchFields": [req("metadata.name", "NotIn", "n1")]}), False),
    (terms({"matchFields": [req("metadata.name", "NotIn", "n2")]}), True),
    (terms({**SSD, **ON_N1}), True),  # expressions and fields together: both must hold
    (terms({**HDD, **ON_N1}), False),
    # Field requirements are In/NotIn with exactly one value (both copies: True).
    (terms({"matchFields": [req("metadata.name", "In", "n1", "n2")]}), False),
    (terms({"matchFields": [req("metadata.name", "Exists")]}), False),
    # A field the node lacks reads as "" (scheduler copy: False).
    (terms({"matchFields": [req("spec.unknown", "NotIn", "x")]}), True),
    # One requirement that does not parse fails its term, not the others.
    (terms({"matchExpressions": [req("disk", "In", "ssd"), req("cores", "Gt", "1", "2")]}), False),
    (terms({"matchExpressions": [req("cores", "Gt", "1", "2")]}, SSD), True),
])
def test_node_selector(selector: Obj, ok: bool) -> None:
    assert NodeSelector.of(selector).matches(LABELS, "n1") is ok


@pytest.mark.parametrize(("node_selector", "ok"), [
    ({}, True),
    ({"disk": "ssd"}, True),
    ({"disk": "ssd", "cores": "8"}, True),
    ({"disk": "hdd"}, False),
    ({"empty": ""}, True),
    ({"missing": ""}, False),  # the label must be there, even for an empty value
])
def test_node_selector_map(node_selector: dict[str, str], ok: bool) -> None:
    assert node_selector_map_matches(node_selector, LABELS) is ok


def affinity(selector: Obj) -> Obj:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": selector}}


@pytest.mark.parametrize(("spec", "ok"), [
    ({}, True),
    ({"nodeSelector": {"disk": "ssd"}}, True),
    ({"affinity": affinity(terms(SSD))}, True),
    ({"affinity": affinity(terms())}, False),  # required with no terms admits no node
    ({"affinity": {"nodeAffinity": {}}}, True),
    ({"nodeSelector": {"disk": "hdd"}, "affinity": affinity(terms(SSD))}, False),  # both must hold
    ({"nodeSelector": {"disk": "ssd"}, "affinity": affinity(terms(HDD))}, False),
])
def test_required_node_affinity(spec: Obj, ok: bool) -> None:
    assert required_node_affinity_matches(spec, LABELS, "n1") is ok
    node = {"metadata": {"name": "n1", "labels": LABELS}}
    assert node_matches(spec, node) is ok


def test_preferred_terms_sum_the_weights_of_matching_terms() -> None:
    spec = {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": SSD},
        {"weight": 5, "preference": {"matchExpressions": [req("cores", "Gt", "4")]}},
        {"weight": 50, "preference": HDD},
        {"weight": 7, "preference": {}},  # an empty term is dropped
        {"weight": 0, "preference": SSD},  # so is weight 0
        {"weight": 3, "preference": ON_N1},
    ]}}}
    preferred = PreferredSchedulingTerms.of(spec)
    assert preferred.score(LABELS, "n1") == 18
    assert preferred.score({"disk": "hdd"}, "n2") == 50
    assert PreferredSchedulingTerms.of({}).score(LABELS, "n1") == 0
