"""Service, ConfigMap, Secret, Namespace, Node and Lease validation."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from pocketkube.api.validation import validate_create, validate_status_update, validate_update
from tests.unit.validation.helpers import Mutation, defaulted, errors_after, pairs
from tests.unit.validation.manifests import CONFIGMAP, DEPLOYMENT, LEASE, NAMESPACE, NODE, SECRET, SERVICE


def _svc() -> dict[str, Any]:
    return {"metadata": {"name": "my-service", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


def _ports(s: dict[str, Any]) -> list[dict[str, Any]]:
    return s["spec"]["ports"]


SERVICE_CASES: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("valid", lambda s: None, []),
    ("name starts with digit", lambda s: s["metadata"].update(name="1service"), [("Invalid", "metadata.name")]),
    ("no ports", lambda s: s["spec"].update(ports=[]), [("Required", "spec.ports")]),
    ("headless without ports", lambda s: s["spec"].update(ports=[], clusterIP="None"), []),
    ("port zero", lambda s: _ports(s)[0].update(port=0), [("Invalid", "spec.ports[0].port")]),
    ("second port without name", lambda s: _ports(s).append({"port": 443, "protocol": "TCP", "targetPort": 443}),
     [("Required", "spec.ports[1].name")]),
    ("duplicate port name", lambda s: _ports(s).append({"name": "http", "port": 443, "protocol": "TCP",
                                                        "targetPort": 443}),
     [("Duplicate", "spec.ports[1].name")]),
    ("bad type", lambda s: s["spec"].update(type="Internal"), [("NotSupported", "spec.type")]),
    ("nodePort on ClusterIP", lambda s: _ports(s)[0].update(nodePort=30080), [("Forbidden", "spec.ports[0].nodePort")]),
    ("bad targetPort name", lambda s: _ports(s)[0].update(targetPort="HTTP_PORT"),
     [("Invalid", "spec.ports[0].targetPort"), ("Invalid", "spec.ports[0].targetPort")]),
    ("ExternalName without name", lambda s: s["spec"].update(type="ExternalName"),
     [("Required", "spec.externalName")]),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in SERVICE_CASES], ids=[c[0] for c in SERVICE_CASES])
def test_service_create(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    assert pairs(errors_after(SERVICE, _svc(), mutate)) == expected


def test_service_cluster_ip_is_fixed() -> None:
    old = defaulted(SERVICE, _svc())
    old["spec"]["clusterIP"] = "10.96.0.10"
    new = copy.deepcopy(old)
    new["spec"]["ports"][0]["port"] = 81
    assert validate_update(SERVICE, new, old) == []
    new["spec"]["clusterIP"] = "10.96.0.11"
    assert pairs(validate_update(SERVICE, new, old)) == [("Invalid", "spec.clusterIPs[0]"),
                                                         ("Invalid", "spec.clusterIP")]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("resource, obj, expected", [
    (CONFIGMAP, {"data": {"good.key": "v", "bad key": "v"}}, [("Invalid", "data[bad key]")]),
    (CONFIGMAP, {"data": {"..": "v"}}, [("Invalid", "data[..]")]),
    (CONFIGMAP, {"data": {"k": "v"}, "binaryData": {"k": _b64("x")}}, [("Invalid", "binaryData[k]")]),
    (CONFIGMAP, {"data": {"big": "x" * (1024 * 1024 + 1)}}, [("TooLong", "")]),
    (SECRET, {"type": "Opaque", "data": {"k": "not base64!"}}, [("Invalid", "data[k]")]),
    (SECRET, {"type": "kubernetes.io/tls", "data": {"tls.crt": _b64("c")}}, [("Required", "data[tls.key]")]),
    (SECRET, {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": _b64("{}")}}, []),
    (SECRET, {"type": "kubernetes.io/basic-auth", "data": {}},
     [("Required", "data[username]"), ("Required", "data[password]")]),
])
def test_config_data(resource: Any, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    obj["metadata"] = {"name": "cfg", "namespace": "default"}
    assert pairs(validate_create(resource, defaulted(resource, obj))) == expected


def test_immutable_configmap_and_secret_type() -> None:
    old: dict[str, Any] = {"metadata": {"name": "cfg", "namespace": "default"}, "data": {"a": "1"},
                           "immutable": True}
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"
    assert pairs(validate_update(CONFIGMAP, new, old)) == [("Forbidden", "data")]
    old_secret = defaulted(SECRET, {"metadata": {"name": "s", "namespace": "default"}, "data": {}})
    new_secret = copy.deepcopy(old_secret)
    new_secret["type"] = "kubernetes.io/tls"
    errs = validate_update(SECRET, new_secret, old_secret)
    assert ("Invalid", "type") in pairs(errs)


@pytest.mark.parametrize("resource, obj, expected", [
    (NAMESPACE, {"metadata": {"name": "dev"}}, []),
    (NAMESPACE, {"metadata": {"name": "my.ns"}}, [("Invalid", "metadata.name")]),
    (NAMESPACE, {"metadata": {"name": "dev", "namespace": "x"}}, [("Forbidden", "metadata.namespace")]),
    (NODE, {"metadata": {"name": "node-1.example.com"},
            "spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}, {"key": "gpu", "effect": "NoSchedule"}]}},
     [("Duplicate", "spec.taints[1]")]),
    (NODE, {"metadata": {"name": "n"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}},
     [("NotSupported", "spec.taints[0].effect")]),
    (LEASE, {"metadata": {"name": "l", "namespace": "kube-node-lease"}, "spec": {"leaseDurationSeconds": 0}},
     [("Invalid", "spec.leaseDurationSeconds")]),
    (LEASE, {"metadata": {"name": "l"}, "spec": {}}, [("Required", "metadata.namespace")]),
])
def test_cluster_kinds(resource: Any, obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert pairs(validate_create(resource, defaulted(resource, obj))) == expected


def test_status_update_keeps_metadata() -> None:
    old: dict[str, Any] = {"metadata": {"name": "d", "namespace": "default", "uid": "u"}, "status": {}}
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 2, "readyReplicas": -1}
    new["metadata"]["uid"] = "other"
    assert pairs(validate_status_update(DEPLOYMENT, new, old)) == [("Invalid", "metadata.uid"),
                                                                    ("Invalid", "status.readyReplicas")]
