"""Decoding rules, table-driven: pointer zeros stay, non-pointer zeros go, inline structs flatten,
apimachinery's special messages take their JSON forms."""

from __future__ import annotations

from typing import Any

import pytest

from pocketkube.api.protobuf import MAGIC, decode_object, encode_object
from pocketkube.api.protobuf import wire as w


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = w.length_delimited(1, api_version.encode()) + w.length_delimited(2, kind.encode())
    return MAGIC + w.length_delimited(1, type_meta) + w.length_delimited(2, raw)


def message(*parts: bytes) -> bytes:
    return b"".join(parts)


def string(number: int, text: str) -> bytes:
    return w.length_delimited(number, text.encode())


META_NAME = w.length_delimited(1, string(1, "x"))  # metadata {name: x}

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "a"}, "annotations": {"k": ""},
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                                      "uid": "u-1", "controller": True, "blockOwnerDeletion": False}]},
    "spec": {
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 0,
        "securityContext": {"runAsUser": 0, "fsGroup": 2000},
        "volumes": [
            {"name": "scratch", "emptyDir": {}},
            {"name": "sized", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {"name": "cfg", "configMap": {"name": "c", "items": [{"key": "k", "path": "p", "mode": 0}],
                                          "defaultMode": 420, "optional": False}},
            {"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t",
                                                                                "expirationSeconds": 3600}}]}},
        ],
        "containers": [{
            "name": "c", "image": "busybox", "command": ["sh", "-c", "sleep 1"],
            "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
            "env": [{"name": "A", "value": "1"},
                    {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}}],
            "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "0"}},
            "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "initialDelaySeconds": 3},
            "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
            "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN"]}},
            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/c", "readOnly": True}],
        }],
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "z", "operator": "In", "values": ["a"]}]}]}}},
    },
    "status": {"phase": "Running", "startTime": "2024-01-01T00:00:00Z", "podIP": "10.0.0.1"},
}

ROUND_TRIPS: list[tuple[str, dict[str, Any]]] = [
    ("pod with inline volume sources, probes, quantities, pointer zeros", POD),
    ("lease with micro times", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "n1"},
        "spec": {"holderIdentity": "", "leaseDurationSeconds": 40,
                 "renewTime": "2024-05-06T07:08:09.123456Z", "leaseTransitions": 0}}),
    ("events.k8s.io event", {
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "d"},
        "eventTime": "2024-01-01T00:00:00.000001Z", "reportingController": "c", "reportingInstance": "i",
        "action": "Pulling", "reason": "Pulling", "type": "Normal",
        "regarding": {"kind": "Pod", "name": "p", "namespace": "d"}, "series": {"count": 2,
        "lastObservedTime": "2024-01-01T00:00:01.500000Z"}}),
    ("controller revision with embedded JSON", {
        "apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "r"},
        "data": {"spec": {"template": {"x": [1, "two", None]}}}, "revision": 3}),
    ("eviction with a zero grace period", {
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p", "namespace": "d"},
        "deleteOptions": {"gracePeriodSeconds": 0, "dryRun": ["All"],
                          "preconditions": {"uid": "u", "resourceVersion": "5"}}}),
    ("binding", {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
                 "target": {"kind": "Node", "name": "n1"}}),
    ("deployment with int-or-string surge", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                 "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}}}),
    ("secret bytes and string data", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque",
        "data": {"bin": "AAEC/w==", "empty": ""}, "stringData": {"s": "t"}, "immutable": False}),
]


@pytest.mark.parametrize(("what", "obj"), ROUND_TRIPS, ids=[t[0] for t in ROUND_TRIPS])
def test_round_trip(what: str, obj: dict[str, Any]) -> None:
    assert decode_object(encode_object(obj)) == obj


def test_non_pointer_zeros_are_unset_unless_json_writes_them() -> None:
    obj = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "d"}, "spec": {"replicas": 0}}
    # ScaleSpec.Replicas is a plain int32 with omitempty: Go's JSON leaves out the zero too. The
    # status's `replicas` has no omitempty, so Go's JSON writes `status: {replicas: 0}`, and so do we.
    assert decode_object(encode_object(obj)) == {"apiVersion": "autoscaling/v1", "kind": "Scale",
                                                 "metadata": {"name": "d"}, "status": {"replicas": 0}}


def test_node_status_has_the_fields_go_json_always_writes() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n", "generation": 7},
            "spec": {"podCIDR": "10.0.0.0/24",
                     "taints": [{"key": "k", "effect": "NoSchedule", "timeAdded": "2023-12-31T23:59:59Z"}]},
            "status": {"capacity": {"cpu": "2", "pods": "110"}, "images": [{"names": ["a"], "sizeBytes": 123}]}}
    status = decode_object(encode_object(node))["status"]
    assert status["capacity"] == {"cpu": "2", "pods": "110"}
    assert status["images"] == [{"names": ["a"], "sizeBytes": 123}]
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 0}}  # `json:"Port"`, no omitempty
    assert status["nodeInfo"]["machineID"] == ""
    assert "phase" not in status


def test_required_zero_is_kept() -> None:
    port = w.length_delimited(6, w.varint_field(3, 0))  # ports: [{containerPort: 0}]
    container = w.length_delimited(2, string(1, "c") + port)
    body = envelope("v1", "Pod", w.length_delimited(2, container))
    assert decode_object(body)["spec"]["containers"] == [{"name": "c", "ports": [{"containerPort": 0}]}]


@pytest.mark.parametrize(("raw", "expected"), [
    # a negative int32 travels as a ten-byte varint
    (w.length_delimited(2, w.varint_field(1, -1)), {"spec": {"replicas": -1}}),
    # a field number our table does not know is skipped
    (w.length_delimited(2, w.varint_field(99, 5) + w.varint_field(1, 3)), {"spec": {"replicas": 3}}),
    # a message repeated on the wire merges
    (w.length_delimited(1, string(1, "a")) + w.length_delimited(1, string(3, "ns")),
     {"metadata": {"name": "a", "namespace": "ns"}}),
    # a time: seconds since the epoch, RFC 3339 in JSON
    (w.length_delimited(1, w.length_delimited(8, w.varint_field(1, 1704067200) + w.varint_field(2, 999))),
     {"metadata": {"creationTimestamp": "2024-01-01T00:00:00Z"}}),
    # a map entry without its value has the zero value
    (w.length_delimited(1, w.length_delimited(11, string(1, "k"))), {"metadata": {"labels": {"k": ""}}}),
])
def test_deployment_wire_forms(raw: bytes, expected: dict[str, Any]) -> None:
    assert decode_object(envelope("apps/v1", "Deployment", raw)) == {
        "apiVersion": "apps/v1", "kind": "Deployment", **expected}


def test_packed_and_unpacked_repeated_numbers() -> None:
    def job(values: bytes) -> bytes:
        requirement = string(1, "c") + string(2, "In") + values
        rule = string(1, "FailJob") + w.length_delimited(2, requirement)
        policy = w.length_delimited(1, rule)
        return envelope("batch/v1", "Job", w.length_delimited(2, w.length_delimited(11, policy)))

    packed = w.length_delimited(3, w.varint(1) + w.varint(42))
    unpacked = w.varint_field(3, 1) + w.varint_field(3, 42)
    for body in (job(packed), job(unpacked)):
        rule = decode_object(body)["spec"]["podFailurePolicy"]["rules"][0]
        assert rule["onExitCodes"] == {"containerName": "c", "operator": "In", "values": [1, 42]}


@pytest.mark.parametrize("api_version", ["meta.k8s.io/v1", "v1", "apps/v1"])
def test_delete_options_in_any_group_version(api_version: str) -> None:
    body = envelope(api_version, "DeleteOptions", w.varint_field(1, 0) + string(4, "Foreground"))
    assert decode_object(body) == {"apiVersion": api_version, "kind": "DeleteOptions",
                                   "gracePeriodSeconds": 0, "propagationPolicy": "Foreground"}


def test_empty_type_meta_takes_the_hint() -> None:
    body = MAGIC + w.length_delimited(1, b"") + w.length_delimited(2, string(4, "Orphan"))
    assert decode_object(body, kind_hint=("v1", "DeleteOptions")) == {
        "apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Orphan"}


def test_embedded_protobuf_raw_extension() -> None:
    inner = encode_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    raw = w.length_delimited(1, META_NAME[2:]) + w.length_delimited(2, w.length_delimited(1, inner))
    assert decode_object(envelope("apps/v1", "ControllerRevision", raw))["data"] == {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
