"""Unknown-field detection for fieldValidation=Strict|Warn."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pocketkube.api import fieldcheck

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                 "annotations": {"note": "x"}, "finalizers": ["a/b"],
                 "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "uid": "u"}],
                 "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
                                    "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"},
                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [{
                    "name": "nginx", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                    "args": ["-g", "daemon off;"],
                    "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}],
                    "resources": {"limits": {"cpu": "500m", "memory": 128974848}, "requests": {"cpu": 0.1}},
                    "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                    "livenessProbe": {"tcpSocket": {"port": 80}},
                    "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "runAsNonRoot": False},
                }],
                "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 1, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                      "labelSelector": {"matchLabels": {"app": "web"}}}}]}},
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
            },
        },
    },
    "status": {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]},
}

POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p"},
    "spec": {
        "volumes": [
            {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "a.conf"}]}},
            {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
            {"name": "sec", "secret": {"secretName": "s", "defaultMode": 420}},
            {"name": "proj", "projected": {"sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
            ]}},
        ],
        "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
        "containers": [{
            "name": "app", "image": "busybox", "command": ["sh", "-c", "sleep 3600"],
            "env": [
                {"name": "A", "value": "1"},
                {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}},
                {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                   "divisor": "1Mi"}}},
            ],
            "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True}],
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
        }],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
    },
}


@pytest.mark.parametrize(("group", "version", "kind", "obj"), [
    ("apps", "v1", "Deployment", DEPLOYMENT),
    ("", "v1", "Pod", POD),
    ("", "v1", "Service", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                           "spec": {"selector": {"app": "web"}, "type": "NodePort",
                                    "ports": [{"port": 80, "targetPort": "http", "nodePort": 30080}]}}),
    ("", "v1", "ConfigMap", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                             "data": {"any.key": "v"}, "binaryData": {"b": "AA=="}, "immutable": True}),
    ("batch", "v1", "CronJob", {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
                                "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {
                                    "backoffLimit": 2, "template": {"spec": {
                                        "restartPolicy": "OnFailure",
                                        "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
    ("", "v1", "Event", {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
                         "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{app}"},
                         "reason": "Started", "count": 1, "firstTimestamp": "2025-01-01T00:00:00Z"}),
])
def test_valid_manifests_have_no_unknown_fields(group: str, version: str, kind: str, obj: dict[str, Any]) -> None:
    assert fieldcheck.unknown_fields(group, version, kind, obj) == []


def _with(obj: dict[str, Any], path: list[Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    node: Any = out
    for step in path:
        node = node[step]
    node[key] = "oops"
    return out


_TEMPLATE = ["spec", "template", "spec"]


@pytest.mark.parametrize(("obj", "kind", "path", "key", "expected"), [
    (DEPLOYMENT, "Deployment", [], "spek", "spek"),
    (DEPLOYMENT, "Deployment", ["spec"], "replica", "spec.replica"),
    (DEPLOYMENT, "Deployment", ["metadata"], "label", "metadata.label"),
    (DEPLOYMENT, "Deployment", [*_TEMPLATE, "containers", 0], "imagePullPolicyy",
     "spec.template.spec.containers[0].imagePullPolicyy"),
    (DEPLOYMENT, "Deployment", [*_TEMPLATE, "containers", 0, "ports", 0], "hostport",
     "spec.template.spec.containers[0].ports[0].hostport"),
    (DEPLOYMENT, "Deployment", [*_TEMPLATE, "containers", 0, "readinessProbe", "httpGet"], "paht",
     "spec.template.spec.containers[0].readinessProbe.httpGet.paht"),
    (DEPLOYMENT, "Deployment", ["spec", "selector", "matchExpressions", 0], "value",
     "spec.selector.matchExpressions[0].value"),
    (DEPLOYMENT, "Deployment", ["metadata", "ownerReferences", 0], "uuid", "metadata.ownerReferences[0].uuid"),
    (POD, "Pod", ["spec", "volumes", 1, "emptyDir"], "size", "spec.volumes[1].emptyDir.size"),
    (POD, "Pod", ["spec", "containers", 0, "env", 1, "valueFrom", "fieldRef"], "path",
     "spec.containers[0].env[1].valueFrom.fieldRef.path"),
])
def test_typos_are_reported_at_their_path(obj: dict[str, Any], kind: str, path: list[Any], key: str,
                                          expected: str) -> None:
    group = "apps" if kind == "Deployment" else ""
    assert fieldcheck.unknown_fields(group, "v1", kind, _with(obj, path, key)) == [expected]


def test_free_form_and_map_fields_accept_any_key() -> None:
    obj = copy.deepcopy(DEPLOYMENT)
    obj["metadata"]["labels"]["anything/goes"] = "x"
    obj["metadata"]["managedFields"][0]["fieldsV1"] = {"f:metadata": {"f:whatever": {".": {}}}}
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["example.com/gpu"] = 1
    assert fieldcheck.unknown_fields("apps", "v1", "Deployment", obj) == []


def test_map_of_structs_is_checked() -> None:
    crd = {"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
        "properties": {"a": {"type": "string", "typo": 1}}}}}]}}
    assert fieldcheck.unknown_fields("apiextensions.k8s.io", "v1", "CustomResourceDefinition", crd) == [
        "spec.versions[0].schema.openAPIV3Schema.properties.a.typo"]


def test_several_unknown_fields_in_document_order_and_message() -> None:
    obj = _with(_with(DEPLOYMENT, ["spec"], "zeta"), ["metadata"], "alpha")
    found = fieldcheck.unknown_fields("apps", "v1", "Deployment", obj)
    assert found == ["metadata.alpha", "spec.zeta"]
    assert fieldcheck.strict_error_message(found) == (
        'strict decoding error: unknown field "metadata.alpha", unknown field "spec.zeta"')
    assert fieldcheck.warning("spec.zeta") == 'unknown field "spec.zeta"'


def test_unknown_kind_and_wrong_types_are_not_unknown_fields() -> None:
    assert fieldcheck.unknown_fields("example.com", "v1", "Widget", {"anything": 1}) == []
    assert fieldcheck.unknown_fields("", "v1", "Pod", {"spec": "not-an-object", "metadata": []}) == []
