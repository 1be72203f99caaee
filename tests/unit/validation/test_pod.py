"""Pod validation on create and update: field paths and error types as kube-apiserver reports them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pocketkube.api.errors import invalid
from pocketkube.api.validation import validate_update
from tests.unit.validation.helpers import Mutation, defaulted, errors_after, pairs
from tests.unit.validation.manifests import POD, WEB_POD, fresh


def _spec(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["spec"]


def _web(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["spec"]["containers"][0]


CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("valid", lambda p: None, []),
    ("no containers", lambda p: _spec(p).update(containers=[]), [("Required", "spec.containers")]),
    ("container name missing", lambda p: _web(p).pop("name"), [("Required", "spec.containers[0].name")]),
    ("container name not a label", lambda p: _web(p).update(name="Web_1"), [("Invalid", "spec.containers[0].name")]),
    ("image missing", lambda p: _web(p).pop("image"), [("Required", "spec.containers[0].image")]),
    ("init container shares a name", lambda p: _spec(p)["initContainers"][0].update(name="web"),
     [("Duplicate", "spec.initContainers[0].name")]),
    ("port zero", lambda p: _web(p)["ports"][0].update(containerPort=0),
     [("Required", "spec.containers[0].ports[0].containerPort")]),
    ("port too big", lambda p: _web(p)["ports"][0].update(containerPort=70000),
     [("Invalid", "spec.containers[0].ports[0].containerPort")]),
    ("port name too long", lambda p: _web(p)["ports"][0].update(name="a-very-long-port-name"),
     [("Invalid", "spec.containers[0].ports[0].name")]),
    ("duplicate port name", lambda p: _web(p)["ports"].append({"name": "http", "containerPort": 81,
                                                              "protocol": "TCP"}),
     [("Duplicate", "spec.containers[0].ports[1].name")]),
    ("bad protocol", lambda p: _web(p)["ports"][0].update(protocol="HTTP"),
     [("NotSupported", "spec.containers[0].ports[0].protocol")]),
    ("env name with '='", lambda p: _web(p)["env"][1].update(name="A=B"), [("Invalid", "spec.containers[0].env[1].name")]),
    ("env value and valueFrom", lambda p: _web(p)["env"][0].update(value="x"),
     [("Invalid", "spec.containers[0].env[0].valueFrom")]),
    ("unsupported fieldPath", lambda p: _web(p)["env"][0]["valueFrom"]["fieldRef"].update(fieldPath="spec.x"),
     [("NotSupported", "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath")]),
    ("mount of unknown volume", lambda p: _web(p)["volumeMounts"][0].update(name="nope"),
     [("NotFound", "spec.containers[0].volumeMounts[0].name")]),
    ("duplicate mountPath", lambda p: _web(p)["volumeMounts"][1].update(mountPath="/cache"),
     [("Invalid", "spec.containers[0].volumeMounts[1].mountPath")]),
    ("mountPath missing", lambda p: _web(p)["volumeMounts"][0].pop("mountPath"),
     [("Required", "spec.containers[0].volumeMounts[0].mountPath")]),
    ("duplicate volume", lambda p: _spec(p)["volumes"][1].update(name="cache"),
     [("Duplicate", "spec.volumes[1].name"), ("NotFound", "spec.containers[0].volumeMounts[1].name")]),
    ("two volume sources", lambda p: _spec(p)["volumes"][1].update(emptyDir={}),
     [("Forbidden", "spec.volumes[1].emptyDir")]),
    ("configMap name missing", lambda p: _spec(p)["volumes"][1]["configMap"].pop("name"),
     [("Required", "spec.volumes[1].configMap.name")]),
    ("bad defaultMode", lambda p: _spec(p)["volumes"][1]["configMap"].update(defaultMode=1000),
     [("Invalid", "spec.volumes[1].configMap.defaultMode")]),
    ("bad hostPath type", lambda p: _spec(p)["volumes"][2]["hostPath"].update(type="Dir"),
     [("NotSupported", "spec.volumes[2].hostPath.type")]),
    ("restartPolicy", lambda p: _spec(p).update(restartPolicy="Sometimes"), [("NotSupported", "spec.restartPolicy")]),
    ("dnsPolicy", lambda p: _spec(p).update(dnsPolicy="Cluster"), [("NotSupported", "spec.dnsPolicy")]),
    ("dnsPolicy None needs dnsConfig", lambda p: _spec(p).update(dnsPolicy="None"), [("Required", "spec.dnsConfig")]),
    ("negative grace period", lambda p: _spec(p).update(terminationGracePeriodSeconds=-1),
     [("Invalid", "spec.terminationGracePeriodSeconds")]),
    ("requests above limits", lambda p: _web(p)["resources"]["requests"].update(cpu="1"),
     [("Invalid", "spec.containers[0].resources.requests")]),
    ("bad quantity", lambda p: _web(p)["resources"]["limits"].update(memory="1GB"),
     [("Invalid", "spec.containers[0].resources.limits[memory]")]),
    ("probe without handler", lambda p: _web(p).update(livenessProbe={"periodSeconds": 10}),
     [("Required", "spec.containers[0].livenessProbe")]),
    ("probe with two handlers", lambda p: _web(p)["livenessProbe"].update(exec={"command": ["true"]}),
     [("Forbidden", "spec.containers[0].livenessProbe.httpGet")]),
    ("liveness successThreshold", lambda p: _web(p)["livenessProbe"].update(successThreshold=2),
     [("Invalid", "spec.containers[0].livenessProbe.successThreshold")]),
    ("negative probe period", lambda p: _web(p)["readinessProbe"].update(periodSeconds=-5),
     [("Invalid", "spec.containers[0].readinessProbe.periodSeconds")]),
    ("restartPolicy on a regular container", lambda p: _web(p).update(restartPolicy="Always"),
     [("Forbidden", "spec.containers[0].restartPolicy")]),
    ("sidecar init container", lambda p: _spec(p)["initContainers"][0].update(
        restartPolicy="Always", readinessProbe={"exec": {"command": ["true"]}, "timeoutSeconds": 1}), []),
    ("init container restartPolicy Never", lambda p: _spec(p)["initContainers"][0].update(restartPolicy="Never"),
     [("NotSupported", "spec.initContainers[0].restartPolicy")]),
    ("probe on plain init container", lambda p: _spec(p)["initContainers"][0].update(
        livenessProbe={"exec": {"command": ["true"]}}), [("Forbidden", "spec.initContainers[0].livenessProbe")]),
    ("toleration with empty key needs Exists", lambda p: _spec(p)["tolerations"].append({"operator": "Equal"}),
     [("Invalid", "spec.tolerations[2].operator")]),
    ("tolerationSeconds needs NoExecute", lambda p: _spec(p)["tolerations"].append(
        {"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}),
     [("Invalid", "spec.tolerations[2].effect")]),
    ("bad nodeSelector label", lambda p: _spec(p).update(nodeSelector={"disk": "ssd!"}),
     [("Invalid", "spec.nodeSelector")]),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pod_create(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    assert pairs(errors_after(POD, fresh(WEB_POD), mutate)) == expected


def test_messages_are_worded_as_kubernetes() -> None:
    errs = errors_after(POD, fresh(WEB_POD), lambda p: _web(p).update(name="Web"))
    assert str(errs[0]) == (
        'spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case '
        "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
        "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    errs = errors_after(POD, fresh(WEB_POD), lambda p: _spec(p).update(restartPolicy="Sometimes"))
    assert str(errs[0]) == ('spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
                            '"OnFailure", "Never"')
    errs = errors_after(POD, fresh(WEB_POD), lambda p: _web(p)["resources"]["requests"].update(cpu="1"))
    assert str(errs[0]) == ('spec.containers[0].resources.requests: Invalid value: "1": must be less than or '
                            "equal to cpu limit of 500m")
    status = invalid("", "Pod", "web", errs).status()
    assert status["details"]["causes"][0]["field"] == "spec.containers[0].resources.requests"


def _update(mutate: Mutation) -> list[tuple[str, str]]:
    old = defaulted(POD, fresh(WEB_POD))
    old["metadata"].update(uid="u1", creationTimestamp="2024-01-01T00:00:00Z")
    old["spec"]["nodeName"] = "node-1"
    new = copy.deepcopy(old)
    mutate(new)
    return pairs(validate_update(POD, new, old))


UPDATE_CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("no change", lambda p: None, []),
    ("image", lambda p: _web(p).update(image="nginx:1.27"), []),
    ("init image", lambda p: _spec(p)["initContainers"][0].update(image="busybox:1.36"), []),
    ("labels", lambda p: p["metadata"]["labels"].update(tier="front"), []),
    ("activeDeadlineSeconds set", lambda p: _spec(p).update(activeDeadlineSeconds=30), []),
    ("toleration added", lambda p: _spec(p)["tolerations"].append({"key": "k", "operator": "Exists"}), []),
    ("toleration removed", lambda p: _spec(p)["tolerations"].pop(), [("Forbidden", "spec.tolerations")]),
    ("port changed", lambda p: _web(p)["ports"][0].update(containerPort=8080), [("Forbidden", "spec")]),
    ("nodeName changed", lambda p: _spec(p).update(nodeName="node-2"),
     [("Invalid", "spec.nodeName"), ("Forbidden", "spec")]),
    ("name changed", lambda p: p["metadata"].update(name="other"), [("Invalid", "metadata.name")]),
    ("uid changed", lambda p: p["metadata"].update(uid="u2"), [("Invalid", "metadata.uid")]),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in UPDATE_CASES], ids=[c[0] for c in UPDATE_CASES])
def test_pod_update(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    assert _update(mutate) == expected


def test_pod_update_message_and_deadline() -> None:
    old = defaulted(POD, fresh(WEB_POD))
    old["spec"]["activeDeadlineSeconds"] = 30
    new = copy.deepcopy(old)
    new["spec"]["restartPolicy"] = "Never"
    new["spec"]["activeDeadlineSeconds"] = 60
    errs = validate_update(POD, new, old)
    assert pairs(errs) == [("Invalid", "spec.activeDeadlineSeconds"), ("Forbidden", "spec")]
    assert "must be less than or equal to previous value" in str(errs[0])
    assert str(errs[1]).startswith("spec: Forbidden: pod updates may not change fields other than "
                                   "`spec.containers[*].image`,`spec.initContainers[*].image`")
    assert "restartPolicy" in str(errs[1])
