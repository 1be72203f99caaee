"""Real kubectl (oldest and newest supported) against a freshly started pocketkube server."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from tests.support.server import ServerProcess, kubectl_binary

pytestmark = pytest.mark.e2e

VERSIONS = ["1.27", "1.33"]

DEPLOYMENT = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: {name}
      labels: {{app: {name}}}
    spec:
      replicas: {replicas}
      selector:
        matchLabels: {{app: {name}}}
      template:
        metadata:
          labels: {{app: {name}}}
        spec:
          containers:
          - name: web
            image: busybox:1.35
            command: ["httpd", "-f", "-p", "8080"]
    """)


def configmap(name: str, **data: str) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    kubectl_binary(request.param)
    return str(request.param)


def get_json(server: ServerProcess, version: str, *args: str) -> dict:
    return json.loads(server.kubectl("get", *args, "-o", "json", version=version).stdout)


def test_create_get_delete(server: ServerProcess, version: str) -> None:
    name = f"cm-create-{version.replace('.', '')}"
    server.kubectl("create", "-f", "-", input=configmap(name, a="1"), version=version)
    obj = get_json(server, version, "configmap", name)
    assert obj["data"] == {"a": "1"}
    assert obj["metadata"]["uid"] and obj["metadata"]["creationTimestamp"]
    again = server.kubectl("create", "-f", "-", input=configmap(name, a="1"), version=version, check=False)
    assert again.returncode != 0 and "AlreadyExists" in again.stderr
    as_yaml = yaml.safe_load(server.kubectl("get", "configmap", name, "-o", "yaml", version=version).stdout)
    assert as_yaml["metadata"]["name"] == name
    table = server.kubectl("get", "configmaps", version=version).stdout
    assert table.splitlines()[0].split() == ["NAME", "DATA", "AGE"]
    assert any(line.split()[:2] == [name, "1"] for line in table.splitlines()[1:])
    server.kubectl("delete", "configmap", name, version=version)
    gone = server.kubectl("get", "configmap", name, version=version, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_apply_twice_then_server_side(server: ServerProcess, version: str) -> None:
    name = f"web-apply-{version.replace('.', '')}"
    first = server.kubectl("apply", "-f", "-", input=DEPLOYMENT.format(name=name, replicas=1), version=version)
    assert "created" in first.stdout
    second = server.kubectl("apply", "-f", "-", input=DEPLOYMENT.format(name=name, replicas=3), version=version)
    assert "configured" in second.stdout
    obj = get_json(server, version, "deployment", name)
    assert obj["spec"]["replicas"] == 3
    assert obj["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]
    unchanged = server.kubectl("apply", "-f", "-", input=DEPLOYMENT.format(name=name, replicas=3), version=version)
    assert "unchanged" in unchanged.stdout
    ssa_name = name + "-ssa"
    ssa = server.kubectl("apply", "--server-side", "-f", "-", input=DEPLOYMENT.format(name=ssa_name, replicas=2),
                         version=version)
    assert "serverside-applied" in ssa.stdout
    obj = get_json(server, version, "deployment", ssa_name, "--show-managed-fields")
    managers = {(m["manager"], m["operation"]) for m in obj["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers
    # The defaulted strategy is kept; replicas change through a second apply.
    server.kubectl("apply", "--server-side", "-f", "-", input=DEPLOYMENT.format(name=ssa_name, replicas=4),
                   version=version)
    obj = get_json(server, version, "deployment", ssa_name)
    assert obj["spec"]["replicas"] == 4 and obj["spec"]["strategy"]["type"] == "RollingUpdate"
    server.kubectl("delete", "deployment", name, ssa_name, version=version)


def test_get_wide_and_pods_table(server: ServerProcess, version: str) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p-{version.replace('.', '')}"},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}}
    server.kubectl("create", "-f", "-", input=json.dumps(pod), version=version)
    out = server.kubectl("get", "pods", "-o", "wide", version=version).stdout.splitlines()
    assert out[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    row = next(line.split() for line in out[1:] if line.startswith(pod["metadata"]["name"]))
    assert row[1:4] == ["0/1", "Pending", "0"]
    server.kubectl("delete", "pod", pod["metadata"]["name"], "--wait=false", version=version)


def test_label_annotate_patch_edit(server: ServerProcess, version: str, tmp_path: Path) -> None:
    name = f"cm-edit-{version.replace('.', '')}"
    server.kubectl("create", "-f", "-", input=configmap(name, a="1"), version=version)
    server.kubectl("label", "configmap", name, "tier=web", version=version)
    server.kubectl("annotate", "configmap", name, "note=hello", version=version)
    server.kubectl("patch", "configmap", name, "-p", '{"data":{"b":"2"}}', version=version)
    server.kubectl("patch", "configmap", name, "--type=merge", "-p", '{"data":{"c":"3"}}', version=version)
    server.kubectl("patch", "configmap", name, "--type=json", "-p",
                   '[{"op":"remove","path":"/data/a"}]', version=version)
    obj = get_json(server, version, "configmap", name)
    assert obj["metadata"]["labels"]["tier"] == "web"
    assert obj["metadata"]["annotations"]["note"] == "hello"
    assert obj["data"] == {"b": "2", "c": "3"}
    selected = server.kubectl("get", "configmaps", "-l", "tier=web", "-o", "name", version=version).stdout
    assert f"configmap/{name}" in selected.split()
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/^  b: \"2\"/  b: \"edited\"/' \"$1\"\n")
    editor.chmod(0o755)
    server.kubectl("edit", "configmap", name, env={"KUBE_EDITOR": str(editor)}, version=version)
    assert get_json(server, version, "configmap", name)["data"]["b"] == "edited"
    server.kubectl("delete", "configmap", name, version=version)


def test_watch_sees_added_modified_deleted(server: ServerProcess, version: str) -> None:
    name = f"cm-watch-{version.replace('.', '')}"
    cmd = [kubectl_binary(version), "--kubeconfig", str(server.kubeconfig), "get", "configmaps", "-w",
           "--output-watch-events", "--field-selector", f"metadata.name={name}", "--request-timeout", "30s"]
    watcher = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HOME": str(server.data_dir)})
    try:
        time.sleep(1.0)
        server.kubectl("create", "-f", "-", input=configmap(name, a="1"), version=version)
        server.kubectl("label", "configmap", name, "x=y", version=version)
        server.kubectl("delete", "configmap", name, version=version)
        deadline = time.monotonic() + 20
        seen: list[str] = []
        assert watcher.stdout is not None
        while time.monotonic() < deadline and "DELETED" not in seen:
            line = watcher.stdout.readline()
            if not line:
                break
            if name in line:
                seen.append(line.split()[0])
        assert seen == ["ADDED", "MODIFIED", "DELETED"], seen
    finally:
        watcher.kill()
        watcher.wait()


def test_explain_and_api_resources(server: ServerProcess, version: str) -> None:
    out = server.kubectl("explain", "pod.spec.containers", version=version).stdout
    assert "KIND:" in out and "Pod" in out and "image" in out
    resources = server.kubectl("api-resources", version=version).stdout
    lines = [line.split() for line in resources.splitlines()]
    names = {line[0] for line in lines[1:]}
    assert {"pods", "deployments", "namespaces", "leases", "jobs", "statefulsets", "events"} <= names
    pods = next(line for line in lines if line[0] == "pods")
    assert pods[1] == "po" and "true" in pods


def test_wait_for_delete(server: ServerProcess, version: str) -> None:
    name = f"cm-wait-{version.replace('.', '')}"
    server.kubectl("create", "-f", "-", input=configmap(name, a="1"), version=version)
    waiter = subprocess.Popen([kubectl_binary(version), "--kubeconfig", str(server.kubeconfig), "wait",
                               "--for=delete", f"configmap/{name}", "--timeout=30s"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "HOME": str(server.data_dir)})
    time.sleep(0.5)
    server.kubectl("delete", "configmap", name, "--wait=false", version=version)
    out, err = waiter.communicate(timeout=40)
    assert waiter.returncode == 0, err


def test_namespaces_exist(server: ServerProcess) -> None:
    out = server.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system", "namespace/kube-public",
            "namespace/kube-node-lease"} <= set(out)


def test_events_are_one_object_in_two_apis(server: ServerProcess, version: str) -> None:
    name = f"ev-{version.replace('.', '')}"
    event = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": name},
             "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "pocketkube/test",
             "reportingInstance": "test-1", "action": "Testing", "reason": "Tested", "note": "hello",
             "type": "Normal", "regarding": {"kind": "Pod", "name": "p1", "namespace": "default"}}
    server.kubectl("create", "-f", "-", input=json.dumps(event), version=version)
    core = get_json(server, version, "events.v1.", name)
    assert core["apiVersion"] == "v1" and core["message"] == "hello"
    assert core["involvedObject"]["name"] == "p1" and core["reportingComponent"] == "pocketkube/test"
    new = get_json(server, version, "events.v1.events.k8s.io", name)
    assert new["note"] == "hello" and new["regarding"]["kind"] == "Pod"
    table = server.kubectl("get", "events", version=version).stdout
    assert "Tested" in table and "pod/p1" in table
    server.kubectl("delete", "events.v1.events.k8s.io", name, version=version)


def test_get_watch_prints_table_rows(server: ServerProcess, version: str) -> None:
    name = f"cm-tw-{version.replace('.', '')}"
    cmd = [kubectl_binary(version), "--kubeconfig", str(server.kubeconfig), "get", "configmaps", "-w",
           "--request-timeout", "30s"]
    watcher = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "HOME": str(server.data_dir)})
    try:
        time.sleep(1.0)
        server.kubectl("create", "-f", "-", input=configmap(name, a="1", b="2"), version=version)
        assert watcher.stdout is not None
        header = watcher.stdout.readline().split()
        assert header == ["NAME", "DATA", "AGE"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            row = watcher.stdout.readline().split()
            if row and row[0] == name:
                assert row[1] == "2"
                break
        else:
            pytest.fail("no row for the new configmap")
    finally:
        watcher.kill()
        watcher.wait()
    server.kubectl("delete", "configmap", name, version=version)


def test_generator_creates(server: ServerProcess, version: str) -> None:
    """`kubectl create <kind>` generators: kubectl 1.32+ sends these as protobuf."""
    v = version.replace(".", "")
    ns = f"gen-{v}"
    server.kubectl("create", "namespace", ns, version=version)
    server.kubectl("-n", ns, "create", "configmap", "cm", "--from-literal=a=b", version=version)
    server.kubectl("-n", ns, "create", "secret", "generic", "s", "--from-literal=x=y", version=version)
    server.kubectl("-n", ns, "create", "deployment", "d", "--image=busybox:1.35", "--replicas=0",
                   version=version)
    server.kubectl("-n", ns, "create", "job", "j", "--image=busybox:1.35", "--", "echo", "hi", version=version)
    server.kubectl("-n", ns, "create", "serviceaccount", "sa", version=version)
    assert get_json(server, version, "-n", ns, "configmap", "cm")["data"] == {"a": "b"}
    assert get_json(server, version, "-n", ns, "secret", "s")["data"] == {"x": "eQ=="}
    deployment = get_json(server, version, "-n", ns, "deployment", "d")
    assert deployment["spec"]["replicas"] == 0
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.35"
    job = get_json(server, version, "-n", ns, "job", "j")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]


def test_scheduler_binds_to_a_ready_node(server: ServerProcess, version: str) -> None:
    node_name = f"node-{version.replace('.', '')}"
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name},
            "spec": {"taints": []}}
    server.kubectl("create", "-f", "-", input=json.dumps(node), version=version)
    status = {"status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                         "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                         "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}
    server.kubectl("patch", "node", node_name, "--subresource=status", "--type=merge", "-p", json.dumps(status),
                   version=version)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"sched-{version.replace('.', '')}"},
           "spec": {"nodeSelector": {"kubernetes.io/hostname": node_name},
                    "containers": [{"name": "c", "image": "busybox:1.35"}]}}
    server.kubectl("create", "-f", "-", input=json.dumps(pod), version=version)
    waited = server.kubectl("wait", "--for=condition=PodScheduled", f"pod/{pod['metadata']['name']}",
                            "--timeout=3s", version=version, check=False)
    # No node has the hostname label: the pod stays Pending and says why.
    assert waited.returncode != 0
    described = server.kubectl("describe", "pod", pod["metadata"]["name"], version=version).stdout
    assert "FailedScheduling" in described and "didn't match Pod's node affinity/selector" in described
    server.kubectl("label", "node", node_name, f"kubernetes.io/hostname={node_name}", version=version)
    server.kubectl("wait", "--for=condition=PodScheduled", f"pod/{pod['metadata']['name']}", "--timeout=20s",
                   version=version)
    assert get_json(server, version, "pod", pod["metadata"]["name"])["spec"]["nodeName"] == node_name
    server.kubectl("delete", "node", node_name, version=version)
