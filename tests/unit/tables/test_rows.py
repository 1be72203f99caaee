"""Rows and columns of the non-pod printers, checked against what kube prints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocketkube.api.resources import RESOURCES, lookup
from pocketkube.api.tables import column_definitions, row_cells

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
META = {"name": "x", "namespace": "default", "creationTimestamp": "2024-05-01T11:00:00Z"}


def res(group: str, plural: str):  # type: ignore[no-untyped-def]
    r = lookup(group, "v1", plural)
    assert r is not None
    return r


@pytest.mark.parametrize("group, plural, names", [
    ("", "pods", ["Name", "Ready", "Status", "Restarts", "Age", "*IP", "*Node", "*Nominated Node",
                  "*Readiness Gates"]),
    ("", "namespaces", ["Name", "Status", "Age"]),
    ("", "nodes", ["Name", "Status", "Roles", "Age", "Version", "*Internal-IP", "*External-IP", "*OS-Image",
                   "*Kernel-Version", "*Container-Runtime"]),
    ("", "configmaps", ["Name", "Data", "Age"]),
    ("", "secrets", ["Name", "Type", "Data", "Age"]),
    ("", "services", ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "*Selector"]),
    ("", "endpoints", ["Name", "Endpoints", "Age"]),
    ("", "events", ["Last Seen", "Type", "Reason", "Object", "*Subobject", "*Source", "Message",
                    "*First Seen", "*Count", "*Name"]),
    ("events.k8s.io", "events", ["Last Seen", "Type", "Reason", "Object", "*Subobject", "*Source", "Message",
                                 "*First Seen", "*Count", "*Name"]),
    ("", "serviceaccounts", ["Name", "Secrets", "Age"]),
    ("apps", "deployments", ["Name", "Ready", "Up-to-date", "Available", "Age", "*Containers", "*Images",
                             "*Selector"]),
    ("apps", "replicasets", ["Name", "Desired", "Current", "Ready", "Age", "*Containers", "*Images",
                             "*Selector"]),
    ("apps", "statefulsets", ["Name", "Ready", "Age", "*Containers", "*Images"]),
    ("apps", "daemonsets", ["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector",
                            "Age", "*Containers", "*Images", "*Selector"]),
    ("apps", "controllerrevisions", ["Name", "Controller", "Revision", "Age"]),
    ("batch", "jobs", ["Name", "Status", "Completions", "Duration", "Age", "*Containers", "*Images",
                       "*Selector"]),
    ("batch", "cronjobs", ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age",
                           "*Containers", "*Images", "*Selector"]),
    ("coordination.k8s.io", "leases", ["Name", "Holder", "Age"]),
])
def test_columns(group: str, plural: str, names: list[str]) -> None:
    cols = column_definitions(res(group, plural))
    assert [("*" if c["priority"] else "") + c["name"] for c in cols] == names
    assert all(set(c) == {"name", "type", "format", "description", "priority"} for c in cols)
    name_cols = [c for c in cols if c["name"] == "Name"]
    assert name_cols and all(c["format"] == "name" for c in name_cols)


def test_every_served_resource_has_a_printer_with_matching_cells() -> None:
    for r in RESOURCES:
        cols = column_definitions(r)
        assert cols[0]["name"] in ("Name", "Last Seen")
        assert len(row_cells(r, {"metadata": dict(META)}, NOW)) == len(cols), r.plural


def test_descriptions_come_from_the_schema() -> None:
    cols = column_definitions(res("", "namespaces"))
    assert cols[0]["description"].startswith("Name must be unique within a namespace")


def deployment(**status: int) -> dict:
    return {"metadata": META, "spec": {
        "replicas": 3, "selector": {"matchLabels": {"app": "web"}},
        "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1"},
                                             {"name": "log", "image": "busybox"}]}}},
        "status": status}


def test_deployment_row() -> None:
    cells = row_cells(res("apps", "deployments"), deployment(readyReplicas=2, updatedReplicas=3,
                                                             availableReplicas=2), NOW)
    assert cells == ["x", "2/3", 3, 2, "60m", "web,log", "nginx:1,busybox", "app=web"]


def test_deployment_fresh_and_bad_selector() -> None:
    d = deployment()
    d["spec"]["selector"] = {"matchExpressions": [{"key": "a", "operator": "Nope"}]}
    assert row_cells(res("apps", "deployments"), d, NOW)[1:4] == ["0/3", 0, 0]
    assert row_cells(res("apps", "deployments"), d, NOW)[-1] == "<invalid>"


def svc(spec: dict, status: dict | None = None) -> dict:
    return {"metadata": META, "spec": spec, "status": status or {}}


@pytest.mark.parametrize("spec, status, expected", [
    ({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
      "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}], "selector": {"k8s-app": "dns"}},
     None, ["x", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "60m", "k8s-app=dns"]),
    ({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}, None,
     ["x", "ClusterIP", "None", "<none>", "<none>", "60m", "<none>"]),
    ({"type": "NodePort", "clusterIP": "10.96.1.1", "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}],
      "externalIPs": ["1.2.3.4"]}, None,
     ["x", "NodePort", "10.96.1.1", "1.2.3.4", "80:30080/TCP", "60m", "<none>"]),
    ({"type": "LoadBalancer", "clusterIPs": ["10.96.1.2"], "ports": [{"port": 443, "nodePort": 31443}]},
     None, ["x", "LoadBalancer", "10.96.1.2", "<pending>", "443:31443/TCP", "60m", "<none>"]),
    ({"type": "LoadBalancer", "clusterIPs": ["10.96.1.2"]},
     {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb.example.com"}]}},
     ["x", "LoadBalancer", "10.96.1.2", "5.6.7.8,lb.example.com", "<none>", "60m", "<none>"]),
    ({"type": "ExternalName", "externalName": "db.example.com"}, None,
     ["x", "ExternalName", "<none>", "db.example.com", "<none>", "60m", "<none>"]),
])
def test_service_rows(spec: dict, status: dict | None, expected: list) -> None:
    assert row_cells(res("", "services"), svc(spec, status), NOW) == expected


def node(conditions: list[dict], unschedulable: bool = False, labels: dict | None = None) -> dict:
    return {"metadata": {**META, "labels": labels or {}}, "spec": {"unschedulable": unschedulable},
            "status": {"conditions": conditions,
                       "addresses": [{"type": "InternalIP", "address": "192.168.1.5"},
                                     {"type": "Hostname", "address": "n1"}],
                       "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian GNU/Linux 12",
                                    "kernelVersion": "6.1.0", "containerRuntimeVersion": "runc://1.1"}}}


@pytest.mark.parametrize("n, status, roles", [
    (node([{"type": "Ready", "status": "True"}]), "Ready", "<none>"),
    (node([{"type": "Ready", "status": "False"}]), "NotReady", "<none>"),
    (node([{"type": "Ready", "status": "Unknown"}]), "NotReady", "<none>"),
    (node([]), "Unknown", "<none>"),
    (node([{"type": "Ready", "status": "True"}], unschedulable=True), "Ready,SchedulingDisabled", "<none>"),
    (node([{"type": "Ready", "status": "True"}],
          labels={"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/master": "",
                  "kubernetes.io/role": "edge"}), "Ready", "control-plane,edge,master"),
])
def test_node_rows(n: dict, status: str, roles: str) -> None:
    cells = row_cells(res("", "nodes"), n, NOW)
    assert cells[1:3] == [status, roles]
    assert cells[3:] == ["60m", "v1.33.0", "192.168.1.5", "<none>", "Debian GNU/Linux 12", "6.1.0", "runc://1.1"]


def test_small_core_rows() -> None:
    assert row_cells(res("", "namespaces"), {"metadata": META, "status": {"phase": "Terminating"}}, NOW) == \
        ["x", "Terminating", "60m"]
    assert row_cells(res("", "configmaps"), {"metadata": META, "data": {"a": "1"}, "binaryData": {"b": ""}},
                     NOW) == ["x", 2, "60m"]
    assert row_cells(res("", "secrets"), {"metadata": META, "type": "Opaque", "data": {"a": "MQ=="}}, NOW) == \
        ["x", "Opaque", 1, "60m"]
    assert row_cells(res("", "serviceaccounts"), {"metadata": META}, NOW) == ["x", 0, "60m"]
    assert row_cells(res("coordination.k8s.io", "leases"), {"metadata": META, "spec": {"holderIdentity": "n1"}},
                     NOW) == ["x", "n1", "60m"]


@pytest.mark.parametrize("subsets, text", [
    ([], "<none>"),
    ([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}]}],
     "10.0.0.1:80,10.0.0.2:80"),
    ([{"addresses": [{"ip": "10.0.0.1"}]}], "10.0.0.1"),
    ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}], "[fd00::1]:80"),
    ([{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 5)], "ports": [{"port": 80}, {"port": 443}]}],
     "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 5 more..."),
])
def test_endpoints(subsets: list, text: str) -> None:
    assert row_cells(res("", "endpoints"), {"metadata": META, "subsets": subsets}, NOW)[1] == text


def test_core_event_row() -> None:
    ev = {"metadata": {**META, "name": "web.17a"}, "involvedObject": {"kind": "Pod", "name": "web",
                                                                      "fieldPath": "spec.containers{web}"},
          "reason": "Pulled", "type": "Normal", "message": " pulled \n", "count": 3,
          "source": {"component": "kubelet", "host": "n1"},
          "firstTimestamp": "2024-05-01T11:00:00Z", "lastTimestamp": "2024-05-01T11:59:00Z"}
    assert row_cells(res("", "events"), ev, NOW) == [
        "60s", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, n1", "pulled", "60m", 3, "web.17a"]


def test_new_style_event_row_in_both_apis() -> None:
    ev = {"metadata": {**META, "name": "e"}, "regarding": {"kind": "Node"}, "reason": "Started",
          "type": "Normal", "note": "hello", "eventTime": "2024-05-01T11:58:00.000000Z",
          "reportingController": "pocketkube", "reportingInstance": "n1",
          "series": {"count": 4, "lastObservedTime": "2024-05-01T11:59:30.000000Z"}}
    expected = ["30s", "Normal", "Started", "node", "", "pocketkube, n1", "hello", "2m", 4, "e"]
    assert row_cells(res("events.k8s.io", "events"), ev, NOW) == expected
    core = {"metadata": ev["metadata"], "involvedObject": {"kind": "Node"}, "reason": "Started", "type": "Normal",
            "message": "hello", "eventTime": ev["eventTime"], "reportingComponent": "pocketkube",
            "reportingInstance": "n1", "source": {}}
    assert row_cells(res("", "events"), core, NOW)[5:9] == ["pocketkube, n1", "hello", "2m", 1]


def test_replicaset_statefulset_daemonset_rows() -> None:
    tmpl = {"spec": {"containers": [{"name": "a", "image": "img:a"}], "nodeSelector": {"disk": "ssd"}}}
    spec = {"replicas": 2, "selector": {"matchLabels": {"app": "a"}}, "template": tmpl}
    rs = {"metadata": META, "spec": spec, "status": {"replicas": 2, "readyReplicas": 1}}
    assert row_cells(res("apps", "replicasets"), rs, NOW) == ["x", 2, 2, 1, "60m", "a", "img:a", "app=a"]
    assert row_cells(res("apps", "statefulsets"), rs, NOW) == ["x", "1/2", "60m", "a", "img:a"]
    ds = {"metadata": META, "spec": spec, "status": {"desiredNumberScheduled": 1, "currentNumberScheduled": 1,
                                                     "numberReady": 1, "updatedNumberScheduled": 1,
                                                     "numberAvailable": 0}}
    assert row_cells(res("apps", "daemonsets"), ds, NOW) == \
        ["x", 1, 1, 1, 1, 0, "disk=ssd", "60m", "a", "img:a", "app=a"]


def test_controllerrevision_row() -> None:
    cr = {"metadata": {**META, "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "controller": True}]}, "revision": 2}
    assert row_cells(res("apps", "controllerrevisions"), cr, NOW) == ["x", "daemonset.apps/ds", 2, "60m"]
    assert row_cells(res("apps", "controllerrevisions"), {"metadata": META}, NOW)[1] == "<none>"


def job(spec: dict, status: dict, deleting: bool = False) -> dict:
    meta = {**META, **({"deletionTimestamp": "2024-05-01T11:59:00Z"} if deleting else {})}
    return {"metadata": meta, "spec": {"template": {"spec": {"containers": [{"name": "j", "image": "pi"}]}},
                                       "selector": {"matchLabels": {"job": "x"}}, **spec}, "status": status}


@pytest.mark.parametrize("j, expected", [
    (job({"completions": 1}, {"succeeded": 1, "startTime": "2024-05-01T11:00:00Z",
                              "completionTime": "2024-05-01T11:00:07Z",
                              "conditions": [{"type": "Complete", "status": "True"}]}),
     ["Complete", "1/1", "7s"]),
    (job({"completions": 5, "parallelism": 2}, {"succeeded": 2, "startTime": "2024-05-01T11:58:00Z"}),
     ["Running", "2/5", "2m"]),
    (job({"parallelism": 3}, {}), ["Running", "0/1 of 3", ""]),
    (job({}, {"conditions": [{"type": "Failed", "status": "True"}]}), ["Failed", "0/1", ""]),
    (job({}, {"conditions": [{"type": "Suspended", "status": "True"}]}), ["Suspended", "0/1", ""]),
    (job({}, {"conditions": [{"type": "FailureTarget", "status": "True"}]}), ["FailureTarget", "0/1", ""]),
    (job({}, {"conditions": [{"type": "Suspended", "status": "True"}]}, deleting=True),
     ["Terminating", "0/1", ""]),
])
def test_job_rows(j: dict, expected: list) -> None:
    cells = row_cells(res("batch", "jobs"), j, NOW)
    assert cells[1:4] == expected
    assert cells[4:] == ["60m", "j", "pi", "job=x"]


def test_cronjob_row() -> None:
    cj = {"metadata": META, "spec": {"schedule": "*/5 * * * *", "suspend": False, "jobTemplate": {"spec": {
        "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}},
          "status": {"active": [{"name": "j1"}], "lastScheduleTime": "2024-05-01T11:55:00Z"}}
    assert row_cells(res("batch", "cronjobs"), cj, NOW) == \
        ["x", "*/5 * * * *", "<none>", "False", 1, "5m", "60m", "c", "busybox", "<none>"]
    cj["spec"].pop("suspend")
    cj["spec"]["timeZone"] = "Etc/UTC"
    cj["status"] = {}
    assert row_cells(res("batch", "cronjobs"), cj, NOW)[2:6] == ["Etc/UTC", "<unset>", 0, "<none>"]
