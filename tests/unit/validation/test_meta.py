"""ObjectMeta validation: names per kind, namespaces, labels, annotations, finalizers, owners."""

from __future__ import annotations

from typing import Any

import pytest

from pocketkube.api.validation import validate_create, validate_update
from tests.unit.validation.helpers import pairs
from tests.unit.validation.manifests import CONFIGMAP, NAMESPACE


def _cm(**meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "cfg", "namespace": "default", **meta}}


@pytest.mark.parametrize("meta, expected", [
    ({}, []),
    ({"name": ""}, [("Required", "metadata.name")]),
    ({"name": "", "generateName": "cfg-"}, []),
    ({"name": "", "generateName": "Cfg-"}, [("Invalid", "metadata.generateName")]),
    ({"name": "a" * 254}, [("Invalid", "metadata.name")]),
    ({"name": "my.config"}, []),
    ({"namespace": ""}, [("Required", "metadata.namespace")]),
    ({"namespace": "Default"}, [("Invalid", "metadata.namespace")]),
    ({"labels": {"app.kubernetes.io/name": "web", "tier": ""}}, []),
    ({"labels": {"bad key!": "v"}}, [("Invalid", "metadata.labels")]),
    ({"labels": {"k": "v" * 64}}, [("Invalid", "metadata.labels")]),
    ({"labels": {"k": "-v"}}, [("Invalid", "metadata.labels")]),
    ({"labels": {"/k": "v"}}, [("Invalid", "metadata.labels")]),
    ({"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}, []),
    ({"annotations": {"a/b/c": "v"}}, [("Invalid", "metadata.annotations")]),
    ({"annotations": {"big": "x" * (256 * 1024)}}, [("TooLong", "metadata.annotations")]),
    ({"finalizers": ["example.com/cleanup", "kubernetes"]}, []),
    ({"finalizers": ["cleanup"]}, [("Invalid", "metadata.finalizers")]),
    ({"finalizers": ["a.io/x", "a.io/x"]}, [("Duplicate", "metadata.finalizers")]),
    ({"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "1"}]}, []),
    ({"ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs"}]},
     [("Invalid", "metadata.ownerReferences[0].uid")]),
    ({"ownerReferences": [{"apiVersion": "v1", "kind": "A", "name": "a", "uid": "1", "controller": True},
                          {"apiVersion": "v1", "kind": "B", "name": "b", "uid": "2", "controller": True}]},
     [("Invalid", "metadata.ownerReferences")]),
])
def test_object_meta(meta: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert pairs(validate_create(CONFIGMAP, _cm(**meta))) == expected


def test_label_message() -> None:
    errs = validate_create(CONFIGMAP, _cm(labels={"k": "-v"}))
    assert str(errs[0]) == (
        'metadata.labels: Invalid value: "-v": a valid label must be an empty string or consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def test_name_required_message() -> None:
    errs = validate_create(NAMESPACE, {"metadata": {}})
    assert str(errs[0]) == "metadata.name: Required value: name or generateName is required"


@pytest.mark.parametrize("field, value", [
    ("name", "other"), ("namespace", "kube-system"), ("uid", "u2"), ("creationTimestamp", "2025-01-01T00:00:00Z"),
])
def test_immutable_meta(field: str, value: str) -> None:
    old = _cm(uid="u1", creationTimestamp="2024-01-01T00:00:00Z")
    new = _cm(uid="u1", creationTimestamp="2024-01-01T00:00:00Z")
    new["metadata"][field] = value
    errs = validate_update(CONFIGMAP, new, old)
    assert pairs(errs) == [("Invalid", f"metadata.{field}")]
    assert str(errs[0]).endswith("field is immutable")


def test_no_new_finalizers_while_deleting() -> None:
    old = _cm(deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["a.io/x"])
    new = _cm(deletionTimestamp="2024-01-01T00:00:00Z", finalizers=["a.io/x", "a.io/y"])
    assert pairs(validate_update(CONFIGMAP, new, old)) == [("Forbidden", "metadata.finalizers")]
    new["metadata"]["finalizers"] = []
    assert validate_update(CONFIGMAP, new, old) == []
