from __future__ import annotations

from typing import Any

import pytest

from pocketkube.scheduler.fit import Resources, choose_node, filter_node, pod_requests

Obj = dict[str, Any]


def node(name: str, cpu: str = "2", memory: str = "4Gi", ready: bool = True, labels: dict | None = None,
         unschedulable: bool = False) -> Obj:
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"unschedulable": unschedulable} if unschedulable else {},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def pod(cpu: str = "", memory: str = "", selector: dict | None = None, init: list | None = None) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    spec: Obj = {"containers": [{"name": "c", "resources": {"requests": requests}}]}
    if selector:
        spec["nodeSelector"] = selector
    if init:
        spec["initContainers"] = init
    return {"metadata": {"name": "p", "namespace": "default"}, "spec": spec}


def test_requests_take_the_larger_of_init_and_app_containers() -> None:
    big_init = [{"name": "i", "resources": {"requests": {"cpu": "1500m"}}}]
    assert pod_requests(pod(cpu="500m", init=big_init)) == Resources(1500, 0, 1)
    sidecar = [{"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "250m"}}}]
    assert pod_requests(pod(cpu="500m", memory="1Gi", init=sidecar)) == Resources(750, 1024**3, 1)


@pytest.mark.parametrize(("the_pod", "the_node", "used", "reasons"), [
    (pod(cpu="1"), node("a"), Resources(), []),
    (pod(cpu="3"), node("a"), Resources(), ["Insufficient cpu"]),
    (pod(cpu="1"), node("a"), Resources(1500, 0, 3), ["Insufficient cpu"]),
    (pod(memory="5Gi"), node("a"), Resources(), ["Insufficient memory"]),
    (pod(), node("a", ready=False), Resources(), ["node(s) were not ready"]),
    (pod(), node("a", unschedulable=True), Resources(), ["node(s) were unschedulable"]),
    (pod(selector={"disk": "ssd"}), node("a"), Resources(), ["node(s) didn't match Pod's node affinity/selector"]),
    (pod(selector={"disk": "ssd"}), node("a", labels={"disk": "ssd"}), Resources(), []),
])
def test_filters(the_pod: Obj, the_node: Obj, used: Resources, reasons: list[str]) -> None:
    assert filter_node(the_pod, the_node, used) == reasons


def test_choose_prefers_least_allocated_and_explains_failure() -> None:
    nodes = [node("a"), node("b")]
    assert choose_node(pod(cpu="500m"), nodes, {"a": Resources(1000, 0, 1)}) == ("b", "")
    name, why = choose_node(pod(cpu="8"), nodes + [node("c", ready=False)], {})
    assert name is None
    assert why == "0/3 nodes are available: 2 Insufficient cpu, 1 node(s) were not ready."
