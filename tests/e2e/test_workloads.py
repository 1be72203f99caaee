"""Workloads end to end: real kubectl against `pocketkube server` with its controllers and node agent.

Each test is one line of issue 4's "what it must show" that needs one node: Deployments replace,
scale, roll out, roll back and stall; the kubelet restarts a killed container; a StatefulSet comes up
in order with stable names and storage; Jobs complete or fail; deletion cascades (or orphans) and a
namespace empties. One server serves the module; every test uses names of its own. Waits poll with
deadlines; where the claim is about what happens *during* a change (never too few ready pods, pods
created in order, removed in reverse order) the test samples the cluster throughout and asserts on
every sample, not only the end state.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pocketkube.api.obj import Obj
from tests.e2e.pods import busybox, node_server, pod_json
from tests.support.server import ServerProcess
from tests.support.wait import until_sync

pytestmark = pytest.mark.e2e

RUNC_ROOT = "/run/pocketkube/runc"
IMAGE = "busybox:1.35"
NEW_TAG = "busybox:1.35-b"
SLEEP = ("sleep", "3600")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    harness = node_server(tmp_path_factory.mktemp("workloads"))
    srv = next(harness)
    try:
        # A second tag of busybox, built into the server's own image store, is the "new version".
        subprocess.run([sys.executable, "-m", "pocketkube.cli.main", "image", "busybox", NEW_TAG, "--data-dir",
                        str(srv.data_dir)], capture_output=True, text=True, check=True)
        yield srv
        # Owners first, or their controllers would replace the pods the harness deletes.
        srv.kubectl("delete", "deployments,replicasets,statefulsets,jobs", "--all", "-A", "--wait=false",
                    check=False)
        with contextlib.suppress(AssertionError):  # the harness deletes what is left
            until_sync(lambda: not srv.kubectl("get", "deployments,replicasets,statefulsets,jobs", "-A", "-o",
                                               "name", check=False).stdout.strip(), 30)
    finally:
        next(harness, None)  # deletes every pod, waits for the agent, stops the server


# -- manifests ------------------------------------------------------------------------------------------


def container(*command: str, image: str = IMAGE) -> Obj:
    return {**busybox("c", *command), "image": image}


def template(app: str, *command: str, **spec: Any) -> Obj:
    return {"metadata": {"labels": {"app": app}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [container(*command)], **spec}}


def deployment(name: str, replicas: int, namespace: str = "default", **spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": template(name, *SLEEP), **spec}}


def create(server: ServerProcess, obj: Obj) -> None:
    server.kubectl("create", "-f", "-", input=json.dumps(obj))


# -- reading the cluster --------------------------------------------------------------------------------


def get_json(server: ServerProcess, *args: str) -> Obj:
    out = server.kubectl("get", *args, "-o", "json", check=False)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def pods(server: ServerProcess, app: str, namespace: str = "default") -> list[Obj]:
    return list(get_json(server, "pods", "-n", namespace, "-l", f"app={app}").get("items", []))


def is_ready(p: Obj) -> bool:
    conditions = p.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def serving(items: list[Obj]) -> list[Obj]:
    """Pods that are Running and Ready and not being deleted: what a Service would send traffic to."""
    return [p for p in items if is_ready(p) and p["status"].get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")]


def names(items: list[Obj]) -> list[str]:
    return sorted(p["metadata"]["name"] for p in items)


def image_of(p: Obj) -> str:
    return str(p["spec"]["containers"][0]["image"])


def rollout_status(server: ServerProcess, kind_name: str, timeout: int = 60,
                   namespace: str = "default") -> subprocess.CompletedProcess[str]:
    return server.kubectl("rollout", "status", kind_name, "-n", namespace, f"--timeout={timeout}s", check=False,
                          timeout=timeout + 10)


def wait_rolled_out(server: ServerProcess, kind_name: str, timeout: int = 60, namespace: str = "default") -> None:
    done = rollout_status(server, kind_name, timeout, namespace)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"


def wait_serving(server: ServerProcess, app: str, count: int, timeout: float = 60,
                 namespace: str = "default") -> list[Obj]:
    """Wait until exactly `count` pods of the app exist and all serve; returns them."""
    def settled() -> bool:
        items = pods(server, app, namespace)
        return len(items) == count and len(serving(items)) == count

    until_sync(settled, timeout, interval=0.3)
    return pods(server, app, namespace)


def replica_sets(server: ServerProcess, app: str) -> list[Obj]:
    return list(get_json(server, "replicasets", "-l", f"app={app}").get("items", []))


def events(server: ServerProcess, kind: str, name: str) -> list[tuple[str, str]]:
    """(reason, message) of the events about one object, oldest first."""
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    items = get_json(server, "events", "--field-selector", selector).get("items", [])
    return [(e.get("reason", ""), e.get("message", "")) for e in sorted(items, key=lambda e: e["metadata"]["name"])]


def columns(server: ServerProcess, *args: str) -> list[str]:
    """The one row `kubectl get` prints for an object, split into columns."""
    return server.kubectl("get", *args, "--no-headers", check=False).stdout.split()


def container_pid(p: Obj) -> int:
    cid = p["status"]["containerStatuses"][0]["containerID"].removeprefix("pocketkube://")
    state = subprocess.run(["runc", "--root", RUNC_ROOT, "state", cid], capture_output=True, text=True, check=True)
    return int(json.loads(state.stdout)["pid"])


# -- 1. a Deployment's pods are replaced; a killed container is restarted in place ------------------------


def test_a_deleted_pod_of_a_deployment_is_replaced(server: ServerProcess) -> None:
    create(server, deployment("replace", 3))
    wait_rolled_out(server, "deployment/replace")
    before = names(wait_serving(server, "replace", 3))
    victim = before[1]

    server.kubectl("delete", "pod", victim, "--wait=false")
    until_sync(lambda: victim not in names(pods(server, "replace")), 30)
    after = names(wait_serving(server, "replace", 3))
    assert victim not in after
    assert len(set(after) - set(before)) == 1
    rows = server.kubectl("get", "pods", "-l", "app=replace", "--no-headers").stdout.splitlines()
    assert [row.split()[2] for row in rows] == ["Running"] * 3
    until_sync(lambda: columns(server, "deployment", "replace")[1:4] == ["3/3", "3", "3"], 10)


def test_a_killed_container_is_restarted_while_the_pod_stays(server: ServerProcess) -> None:
    create(server, deployment("restart", 1))
    [before] = wait_serving(server, "restart", 1)
    assert before["spec"]["restartPolicy"] == "Always"
    assert before["status"]["containerStatuses"][0]["restartCount"] == 0
    name, uid = before["metadata"]["name"], before["metadata"]["uid"]

    os.kill(container_pid(before), signal.SIGKILL)

    def restarted() -> bool:
        status = (pod_json(server, name).get("status", {}).get("containerStatuses") or [{}])[0]
        return status.get("restartCount") == 1 and "running" in status.get("state", {})

    until_sync(restarted, 30, interval=0.3)
    [after] = wait_serving(server, "restart", 1)
    assert (after["metadata"]["name"], after["metadata"]["uid"]) == (name, uid)
    last = after["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 137
    assert after["status"]["containerStatuses"][0]["containerID"] != before["status"]["containerStatuses"][0][
        "containerID"]


# -- 2. scale ---------------------------------------------------------------------------------------------


def test_scale_3_to_10_to_2(server: ServerProcess) -> None:
    create(server, deployment("scale", 3))
    wait_rolled_out(server, "deployment/scale")
    wait_serving(server, "scale", 3)

    server.kubectl("scale", "deployment/scale", "--replicas=10")
    wait_rolled_out(server, "deployment/scale")
    wait_serving(server, "scale", 10)
    status = get_json(server, "deployment", "scale")["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (10, 10, 10)

    server.kubectl("scale", "deployment/scale", "--replicas=2")
    wait_serving(server, "scale", 2)  # the eight deleted pods are gone, not just terminating
    until_sync(lambda: get_json(server, "deployment", "scale")["status"].get("replicas") == 2, 20)
    [rs] = replica_sets(server, "scale")
    assert (rs["spec"]["replicas"], rs["status"]["replicas"]) == (2, 2)
    rs_name = rs["metadata"]["name"]
    until_sync(lambda: ("ScalingReplicaSet", f"Scaled down replica set {rs_name} from 10 to 2")
               in events(server, "Deployment", "scale"), 10)
    assert ("ScalingReplicaSet", f"Scaled up replica set {rs_name} from 3 to 10") in events(
        server, "Deployment", "scale")


# -- 3. rolling update: never fewer than replicas - maxUnavailable serving ---------------------------------


def test_set_image_rolls_out_keeping_replicas_minus_max_unavailable_ready(server: ServerProcess) -> None:
    replicas, max_unavailable = 4, 1
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable, "maxSurge": 1}}
    create(server, deployment("roll", replicas, strategy=strategy))
    wait_rolled_out(server, "deployment/roll")
    old = names(wait_serving(server, "roll", replicas))

    server.kubectl("set", "image", "deployment/roll", f"c={NEW_TAG}")
    samples: list[tuple[int, int]] = []  # (serving pods, serving pods on the new image)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        items = pods(server, "roll")
        up = serving(items)
        samples.append((len(up), sum(image_of(p) == NEW_TAG for p in up)))
        deploy = get_json(server, "deployment", "roll")
        status = deploy.get("status", {})
        if (status.get("observedGeneration") == deploy["metadata"]["generation"]
                and status.get("updatedReplicas") == replicas and status.get("availableReplicas") == replicas
                and status.get("replicas") == replicas and samples[-1] == (replicas, replicas)
                and len(items) == replicas):
            break
    else:
        pytest.fail(f"rollout did not finish; samples {samples}")

    assert min(count for count, _new in samples) >= replicas - max_unavailable, samples
    assert any(0 < new < replicas for _count, new in samples), samples  # we did sample mid-rollout
    final = pods(server, "roll")
    assert {image_of(p) for p in final} == {NEW_TAG} and not set(names(final)) & set(old)
    wait_rolled_out(server, "deployment/roll", 10)


# -- 4. rollout history and undo --------------------------------------------------------------------------


def revision(obj: Obj) -> str:
    return str(obj["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", ""))


def test_rollout_undo_goes_back_to_the_previous_template(server: ServerProcess) -> None:
    create(server, deployment("undo", 2))
    wait_rolled_out(server, "deployment/undo")
    [first_rs] = replica_sets(server, "undo")
    server.kubectl("set", "image", "deployment/undo", f"c={NEW_TAG}")
    wait_rolled_out(server, "deployment/undo")

    history = server.kubectl("rollout", "history", "deployment/undo").stdout
    revisions = [line.split()[0] for line in history.splitlines()[2:] if line.strip()]
    assert revisions == ["1", "2"], history
    assert NEW_TAG in server.kubectl("rollout", "history", "deployment/undo", "--revision=2").stdout

    server.kubectl("rollout", "undo", "deployment/undo")
    wait_rolled_out(server, "deployment/undo")
    deploy = get_json(server, "deployment", "undo")
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    assert revision(deploy) == "3"
    by_name = {rs["metadata"]["name"]: rs for rs in replica_sets(server, "undo")}
    assert len(by_name) == 2
    back = by_name[first_rs["metadata"]["name"]]  # the old ReplicaSet itself is scaled back up
    assert (back["spec"]["replicas"], revision(back)) == (2, "3")
    [newer] = [rs for name, rs in by_name.items() if name != first_rs["metadata"]["name"]]
    assert newer["spec"]["replicas"] == 0
    assert {image_of(p) for p in wait_serving(server, "undo", 2)} == {IMAGE}
    history = server.kubectl("rollout", "history", "deployment/undo").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"], history


# -- 5. a broken image stalls the rollout; the deadline marks it failed; old pods keep serving ---------------


def test_a_broken_image_stalls_until_the_progress_deadline_and_old_pods_keep_serving(server: ServerProcess) -> None:
    create(server, deployment("stall", 2, progressDeadlineSeconds=10))
    wait_rolled_out(server, "deployment/stall")
    old = names(wait_serving(server, "stall", 2))

    server.kubectl("set", "image", "deployment/stall", "c=busybox:does-not-exist")
    started = time.monotonic()
    result = rollout_status(server, "deployment/stall", 60)
    assert result.returncode != 0
    assert 'deployment "stall" exceeded its progress deadline' in result.stdout + result.stderr
    assert time.monotonic() - started >= 8  # it is the deadline that ended it
    progressing = next(c for c in get_json(server, "deployment", "stall")["status"]["conditions"]
                       if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")

    items = pods(server, "stall")
    assert names(serving(items)) == old
    broken = [p for p in items if image_of(p) == "busybox:does-not-exist"]
    assert broken and not any(is_ready(p) for p in broken)


# -- 6. StatefulSet: ordered, stable names and storage ------------------------------------------------------


WRITE_ONCE = "[ -f /data/id ] || echo $(hostname)-$(date +%s) > /data/id; cat /data/id; exec sleep 3600"


def statefulset(name: str, replicas: int) -> Obj:
    tmpl = template(name, "sh", "-c", WRITE_ONCE)
    tmpl["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    claim = {"metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Mi"}}}}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"serviceName": name, "replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": tmpl, "volumeClaimTemplates": [claim]}}


def headless_service(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"clusterIP": "None", "selector": {"app": name}, "ports": [{"port": 80, "name": "web"}]}}


def logs(server: ServerProcess, name: str) -> str:
    return server.kubectl("logs", name, check=False).stdout


def test_statefulset_ordered_start_stable_identity_and_storage_reverse_scale_down(server: ServerProcess) -> None:
    create(server, headless_service("web"))
    create(server, statefulset("web", 3))

    # Up: in every sample, a pod exists only if its predecessor is already Ready.
    appeared: list[str] = []
    samples = 0

    def all_up() -> bool:
        nonlocal samples
        by_name = {p["metadata"]["name"]: p for p in pods(server, "web")}
        samples += 1
        for ordinal in range(1, 3):
            if f"web-{ordinal}" in by_name:
                assert is_ready(by_name[f"web-{ordinal - 1}"]), f"web-{ordinal} exists before web-{ordinal - 1} Ready"
        appeared.extend(n for n in sorted(by_name) if n not in appeared)
        return len(serving(list(by_name.values()))) == 3

    until_sync(all_up, 90, interval=0.1)
    assert appeared == ["web-0", "web-1", "web-2"]
    assert samples > 3
    up = {p["metadata"]["name"]: p for p in pods(server, "web")}
    for ordinal in range(1, 3):  # the same story in the pods' own timestamps (second precision)
        ready_at = next(c["lastTransitionTime"] for c in up[f"web-{ordinal - 1}"]["status"]["conditions"]
                        if c["type"] == "Ready")
        assert up[f"web-{ordinal}"]["metadata"]["creationTimestamp"] >= ready_at
    wait_rolled_out(server, "statefulset/web", 10)
    assert columns(server, "statefulset", "web")[1] == "3/3"

    claims = {c["metadata"]["name"]: c for c in get_json(server, "pvc", "-l", "app=web")["items"]}
    assert sorted(claims) == ["data-web-0", "data-web-1", "data-web-2"]
    assert {c["status"]["phase"] for c in claims.values()} == {"Bound"}
    assert {c["spec"]["storageClassName"] for c in claims.values()} == {"local-path"}

    web1 = pod_json(server, "web-1")
    assert (web1["spec"]["hostname"], web1["spec"]["subdomain"]) == ("web-1", "web")
    until_sync(lambda: logs(server, "web-1").strip() != "", 10)
    written = logs(server, "web-1").strip()
    assert written.startswith("web-1-")

    server.kubectl("delete", "pod", "web-1", "--wait=false")
    until_sync(lambda: pod_json(server, "web-1").get("metadata", {}).get("uid") not in
               (None, web1["metadata"]["uid"]), 30)
    until_sync(lambda: is_ready(pod_json(server, "web-1")), 30)
    again = pod_json(server, "web-1")
    assert (again["spec"]["hostname"], again["spec"]["subdomain"]) == ("web-1", "web")
    assert again["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "data-web-1"
    until_sync(lambda: logs(server, "web-1").strip() != "", 10)
    assert logs(server, "web-1").strip() == written  # the old content, from the same claim
    assert get_json(server, "pvc", "data-web-1")["metadata"]["uid"] == claims["data-web-1"]["metadata"]["uid"]

    # Down to 1: web-2 is gone before web-1 starts terminating.
    server.kubectl("scale", "statefulset/web", "--replicas=1")
    order: list[str] = []

    def scaled_down() -> bool:
        by_name = {p["metadata"]["name"]: p for p in pods(server, "web")}
        web1_terminating = bool(by_name.get("web-1", {}).get("metadata", {}).get("deletionTimestamp"))
        assert not (web1_terminating and "web-2" in by_name), "web-1 terminating while web-2 still exists"
        order.extend(n for n in ("web-2", "web-1") if n not in by_name and n not in order)
        return sorted(by_name) == ["web-0"]

    until_sync(scaled_down, 60, interval=0.1)
    assert order == ["web-2", "web-1"]
    until_sync(lambda: ("SuccessfulDelete", "delete Pod web-1 in StatefulSet web successful")
               in events(server, "StatefulSet", "web"), 10)
    created = [m for r, m in events(server, "StatefulSet", "web") if r == "SuccessfulCreate" and "Claim" not in m]
    assert created[:3] == [f"create Pod web-{i} in StatefulSet web successful" for i in range(3)]
    # The claims stay behind (the default persistentVolumeClaimRetentionPolicy is Retain).
    assert len(get_json(server, "pvc", "-l", "app=web")["items"]) == 3


# -- 7. Jobs -------------------------------------------------------------------------------------------------


def job(name: str, *command: str, **spec: Any) -> Obj:
    tmpl = template(name, *command, restartPolicy="Never")
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": tmpl, **spec}}


def test_a_job_completes_five_and_a_failing_job_stops_at_its_backoff_limit(server: ServerProcess) -> None:
    create(server, job("five", "sh", "-c", "sleep 1", completions=5, parallelism=2))
    create(server, job("doomed", "sh", "-c", "exit 1", backoffLimit=2))

    most_active = 0

    def five_done() -> bool:
        nonlocal most_active
        items = pods(server, "five")
        most_active = max(most_active, sum(p.get("status", {}).get("phase") in ("Pending", "Running")
                                           and not p["metadata"].get("deletionTimestamp") for p in items))
        return bool(get_json(server, "job", "five").get("status", {}).get("completionTime"))

    until_sync(five_done, 60, interval=0.2)
    server.kubectl("wait", "--for=condition=complete", "job/five", "--timeout=10s")
    assert most_active <= 2
    status = get_json(server, "job", "five")["status"]
    assert (status["succeeded"], status.get("failed", 0), status.get("active", 0)) == (5, 0, 0)
    assert [p["status"]["phase"] for p in pods(server, "five")] == ["Succeeded"] * 5
    assert columns(server, "job", "five")[1:3] == ["Complete", "5/5"]

    # Pod failures back off 10 s, then 20 s: the third failure comes about 30 s in.
    server.kubectl("wait", "--for=condition=failed", "job/doomed", "--timeout=90s", timeout=100)
    status = get_json(server, "job", "doomed")["status"]
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert (failed["status"], failed["reason"]) == ("True", "BackoffLimitExceeded")
    assert status["failed"] == 3 and not status.get("succeeded")
    assert not any(c["type"] == "Complete" for c in status["conditions"])
    assert [p["status"]["phase"] for p in pods(server, "doomed")] == ["Failed"] * 3


# -- 8. cascading deletion, orphaning, namespaces ------------------------------------------------------------


def test_deleting_a_deployment_cascades_or_orphans_and_a_namespace_empties(server: ServerProcess) -> None:
    create(server, deployment("cascade", 2))
    create(server, deployment("orphan", 2))
    server.kubectl("create", "namespace", "doomed-ns")
    create(server, deployment("inside", 2, namespace="doomed-ns"))
    for name in ("cascade", "orphan"):
        wait_serving(server, name, 2)
    wait_serving(server, "inside", 2, namespace="doomed-ns")

    # Default (background): the ReplicaSet and its pods go too.
    server.kubectl("delete", "deployment", "cascade")
    until_sync(lambda: not replica_sets(server, "cascade") and not pods(server, "cascade"), 30)

    # Orphan: the ReplicaSet and its pods stay, the ReplicaSet no longer owned.
    [rs] = replica_sets(server, "orphan")
    kept = names(pods(server, "orphan"))
    server.kubectl("delete", "deployment", "orphan", "--cascade=orphan")
    until_sync(lambda: not get_json(server, "replicaset", rs["metadata"]["name"])["metadata"].get(
        "ownerReferences"), 15)
    assert names(serving(pods(server, "orphan"))) == kept
    # Orphaning the ReplicaSet too leaves bare pods, their ownerReferences removed.
    server.kubectl("delete", "replicaset", rs["metadata"]["name"], "--cascade=orphan")
    until_sync(lambda: all(not p["metadata"].get("ownerReferences") for p in pods(server, "orphan")), 15)
    assert names(serving(pods(server, "orphan"))) == kept
    server.kubectl("delete", "pods", "-l", "app=orphan", "--wait=false")

    # A namespace: everything in it is deleted, then the namespace itself.
    server.kubectl("delete", "namespace", "doomed-ns", "--wait=false")
    server.kubectl("wait", "--for=delete", "namespace/doomed-ns", "--timeout=60s", timeout=70)
    assert server.kubectl("get", "namespace", "doomed-ns", check=False).returncode != 0
    assert not pods(server, "inside", "doomed-ns")
    until_sync(lambda: not pods(server, "orphan"), 30)
