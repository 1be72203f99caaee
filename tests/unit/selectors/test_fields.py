"""Field selectors: parsing, per-kind supported fields and their error wording, matching."""

from __future__ import annotations

import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.resources import lookup
from pocketkube.api.selectors import parse_field_selector, selectable_fields

PODS = lookup("", "v1", "pods")
NODES = lookup("", "v1", "nodes")
EVENTS = lookup("", "v1", "events")
EVENTS_V1 = lookup("events.k8s.io", "v1", "events")
SECRETS = lookup("", "v1", "secrets")
NAMESPACES = lookup("", "v1", "namespaces")
SERVICES = lookup("", "v1", "services")
REPLICASETS = lookup("apps", "v1", "replicasets")
DEPLOYMENTS = lookup("apps", "v1", "deployments")
JOBS = lookup("batch", "v1", "jobs")
CONFIGMAPS = lookup("", "v1", "configmaps")


def _pod(name: str = "p", node: str = "", phase: str = "Running", **spec: object) -> dict:
    return {"metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "restartPolicy": "Always", **spec},
            "status": {"phase": phase, "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}]}}


@pytest.mark.parametrize("text, obj, expected", [
    ("", _pod(), True),
    ("metadata.name=p", _pod(), True),
    ("metadata.name==p", _pod(), True),
    ("metadata.name!=p", _pod(), False),
    ("metadata.namespace=default", _pod(), True),
    ("spec.nodeName=n1", _pod(node="n1"), True),
    ("spec.nodeName=", _pod(), True),  # unscheduled pods
    ("spec.nodeName!=", _pod(node="n1"), True),
    ("spec.host=n1", _pod(node="n1"), True),  # old alias converted to spec.nodeName
    ("status.phase!=Running,status.phase!=Pending", _pod(phase="Succeeded"), True),
    ("status.phase!=Running,status.phase!=Pending", _pod(phase="Running"), False),
    ("status.podIP=10.0.0.5", _pod(), True),
    ("spec.hostNetwork=false", _pod(), True),
    ("spec.hostNetwork=true", _pod(hostNetwork=True), True),
    ("status.podIPs=10.0.0.5", _pod(), False),  # accepted, but not a selectable field: reads ""
    ("spec.restartPolicy=Always,metadata.name=p", _pod(), True),
])
def test_pod_matching(text: str, obj: dict, expected: bool) -> None:
    assert parse_field_selector(text, PODS).matches(obj) is expected


def test_exact_pins_a_field() -> None:
    sel = parse_field_selector("spec.nodeName=n1,status.phase!=Failed", PODS)
    assert sel.exact("spec.nodeName") == "n1"
    assert sel.exact("status.phase") is None
    assert parse_field_selector("spec.host==n2", PODS).exact("spec.nodeName") == "n2"
    assert parse_field_selector("", PODS).exact("spec.nodeName") is None


def test_escaped_values_and_string_form() -> None:
    sel = parse_field_selector(r"metadata.name=a\,b\=c\\d", PODS)
    assert sel.matches({"metadata": {"name": "a,b=c\\d"}})
    assert str(sel) == r"metadata.name=a\,b\=c\\d"
    assert str(parse_field_selector("status.phase==Running,metadata.name=x", PODS)) == \
        "metadata.name=x,status.phase=Running"


@pytest.mark.parametrize("resource, text, message", [
    (PODS, "foo=bar", "field label not supported: foo"),
    (PODS, "spec.containers=x", "field label not supported: spec.containers"),
    (NODES, "metadata.namespace=x", "field label not supported: metadata.namespace"),
    (NAMESPACES, "metadata.namespace=x", "field label not supported: metadata.namespace"),
    (EVENTS, "regarding.name=x", "field label not supported: regarding.name"),
    (EVENTS_V1, "involvedObject.name=x", "field label not supported: involvedObject.name"),
    (JOBS, "status.failed=1", 'field label "status.failed" not supported for batchv1.Job'),
    (DEPLOYMENTS, "spec.replicas=1",
     '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    (CONFIGMAPS, "data=x", '"data" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    (PODS, "metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    (PODS, "metadata.name=a=b", "invalid field selector: unescaped character in value: 61"),
    (PODS, r"metadata.name=a\x", r"invalid field selector: invalid escape sequence: \x"),
    (PODS, "metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
])
def test_unsupported_or_malformed(resource, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StatusError) as err:
        parse_field_selector(text, resource)
    assert err.value.code == 400 and err.value.reason == "BadRequest"
    assert err.value.message == message


def test_per_kind_selectable_fields() -> None:
    node = {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}}
    assert parse_field_selector("spec.unschedulable=true", NODES).matches(node)
    assert parse_field_selector("spec.unschedulable=false", NODES).matches({"metadata": {"name": "n2"}})
    assert parse_field_selector("type=kubernetes.io/tls", SECRETS).matches(
        {"metadata": {"name": "s"}, "type": "kubernetes.io/tls"})
    assert parse_field_selector("status.phase=Active", NAMESPACES).matches(
        {"metadata": {"name": "ns"}, "status": {"phase": "Active"}})
    assert parse_field_selector("spec.type=ClusterIP", SERVICES).matches(
        {"metadata": {"name": "s"}, "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1"}})
    assert parse_field_selector("status.replicas=0", REPLICASETS).matches({"metadata": {"name": "rs"}})
    assert parse_field_selector("status.successful=2", JOBS).matches(
        {"metadata": {"name": "j"}, "status": {"succeeded": 2}})
    assert selectable_fields(NODES, node) == {"metadata.name": "n1", "spec.unschedulable": "true"}


CORE_EVENT = {"metadata": {"name": "e1", "namespace": "default"},
              "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "uid": "u1"},
              "reason": "Pulled", "type": "Normal", "source": {"component": "kubelet"},
              "reportingComponent": "kubelet"}
V1_EVENT = {"metadata": {"name": "e1", "namespace": "default"},
            "regarding": {"kind": "Pod", "name": "web", "namespace": "default", "uid": "u1"},
            "reason": "Pulled", "type": "Normal", "reportingController": "kubelet"}


@pytest.mark.parametrize("resource, text", [
    (EVENTS, "involvedObject.kind=Pod,involvedObject.name=web,reason=Pulled,type=Normal,source=kubelet"),
    (EVENTS, "involvedObject.uid=u1,metadata.namespace=default,reason=Pulled"),
    (EVENTS_V1, "regarding.kind=Pod,regarding.name=web,reason=Pulled,reportingController=kubelet"),
])
@pytest.mark.parametrize("obj", [CORE_EVENT, V1_EVENT])
def test_events_match_in_either_shape(resource, text: str, obj: dict) -> None:  # type: ignore[no-untyped-def]
    sel = parse_field_selector(text, resource)
    assert sel.matches(obj)
    assert not sel.matches({**obj, "reason": "Failed"})
