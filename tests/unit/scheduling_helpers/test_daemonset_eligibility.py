"""NodeShouldRunDaemonPod on the shared helpers: the cases where the DaemonSet controller's own copy
of taint and affinity matching answered otherwise than Kubernetes (its old answer in comments)."""

from __future__ import annotations

import pytest

from pocketkube.api.obj import Obj
from pocketkube.controllers.daemonset.nodes import should_run, with_default_tolerations

NOT_READY = "node.kubernetes.io/not-ready"


def node(name: str = "n1", labels: dict[str, str] | None = None, taints: list[Obj] | None = None) -> Obj:
    return {"metadata": {"name": name, "labels": labels or {"cores": "8"}}, "spec": {"taints": taints or []}}


def required(*requirements: Obj, fields: bool = False) -> Obj:
    term = {"matchFields" if fields else "matchExpressions": list(requirements)}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


CORDONED = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


@pytest.mark.parametrize(("spec", "n", "expected"), [
    # The template names another node: no pod here (was: (True, True)).
    ({"nodeName": "n2"}, node(), (False, False)),
    ({"nodeName": "n1"}, node(), (True, True)),
    # Gt takes exactly one value (was: compared with the first, (True, True)).
    ({"affinity": required({"key": "cores", "operator": "Gt", "values": ["1", "100"]})}, node(), (False, False)),
    # A field requirement takes exactly one value (was: (True, True)).
    ({"affinity": required({"key": "metadata.name", "operator": "In", "values": ["n1", "n2"]}, fields=True)},
     node(), (False, False)),
    # NotIn without values does not parse (was: (True, True)).
    ({"affinity": required({"key": "zone", "operator": "NotIn", "values": []})}, node(), (False, False)),
    # A template toleration of the same key and effect but another operator does not keep kube's
    # unschedulable toleration out (was: not added, so a cordoned node got no pod: (False, True)).
    ({"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Equal", "value": "x",
                       "effect": "NoSchedule"}]}, node(taints=[CORDONED]), (True, True)),
])
def test_should_run(spec: Obj, n: Obj, expected: tuple[bool, bool]) -> None:
    assert should_run(spec, n) == expected


def test_daemon_pods_tolerate_not_ready_forever() -> None:
    # kube replaces a template's not-ready:NoExecute Exists toleration with its own, which has no
    # tolerationSeconds: taint eviction never removes a daemon pod from a node that is not ready
    # (was: the template's 300 s kept).
    spec = {"tolerations": [{"key": NOT_READY, "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300}]}
    not_ready = [t for t in with_default_tolerations(spec) if t["key"] == NOT_READY]
    assert not_ready == [{"key": NOT_READY, "operator": "Exists", "effect": "NoExecute"}]
