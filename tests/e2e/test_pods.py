"""The Pod story end to end: real kubectl against `pocketkube server` running real containers.

One server (API server, scheduler and node agent in one process) serves the whole module, on a
bridge and pod range of its own; each test is one part of the story, with pods of its own names.
Waits are on conditions (kubectl wait, polling), never on time alone. The fixture's teardown
deletes every pod and then proves nothing of the tests is left on the host: no runc container,
conmon process, mount or veth.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.pods import (
    agent_instance,
    apply,
    busybox,
    host_leftovers,
    node_server,
    pod,
    pod_json,
    status_column,
)
from tests.support.server import ServerProcess
from tests.support.wait import until_sync

pytestmark = pytest.mark.e2e

RUNC_ROOT = "/run/pocketkube/runc"
HTTPD = "mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p {port} -h /www"


# -- the server and what it must leave behind ---------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    harness = node_server(tmp_path_factory.mktemp("pods"))
    srv = next(harness)
    instance = agent_instance(srv)
    try:
        yield srv
        srv.kubectl("delete", "pods", "--all", "--grace-period=1", "--wait=false")
        until_sync(lambda: not srv.kubectl("get", "pods", "-o", "name").stdout.strip(), 60)
        # The pods are gone from the API only once the agent has torn them down.
        assert srv.agent is not None
        assert host_leftovers(srv.data_dir, instance, srv.agent.bridge) == []
    finally:
        next(harness, None)  # the harness's own cleanup: stop the server, remove the bridge
    assert host_leftovers(srv.data_dir, instance) == []


# -- helpers --------------------------------------------------------------------------------------------


def wait_ready(server: ServerProcess, *names: str, timeout: int = 30) -> None:
    server.kubectl("wait", "--for=condition=Ready", f"--timeout={timeout}s", *[f"pod/{n}" for n in names],
                   timeout=timeout + 10)


def wait_phase(server: ServerProcess, name: str, phase: str, timeout: float = 30) -> dict[str, Any]:
    until_sync(lambda: pod_json(server, name).get("status", {}).get("phase") == phase, timeout)
    return pod_json(server, name)


def wait_gone(server: ServerProcess, name: str, timeout: float) -> float:
    """Seconds until the pod is gone from the API."""
    start = time.monotonic()
    until_sync(lambda: server.kubectl("get", "pod", name, check=False).returncode != 0, timeout, interval=0.1)
    return time.monotonic() - start


def container_status(obj: dict[str, Any], name: str, key: str = "containerStatuses") -> dict[str, Any]:
    return next(s for s in obj["status"].get(key) or [] if s["name"] == name)


def events(server: ServerProcess, name: str) -> list[tuple[str, str, str]]:
    out = server.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json")
    return [(e.get("type", ""), e.get("reason", ""), e.get("message", "")) for e in json.loads(out.stdout)["items"]]


def logs(server: ServerProcess, name: str, *args: str) -> str:
    return server.kubectl("logs", name, *args, check=False).stdout


def httpd(name: str, text: str, port: int, **extra: Any) -> dict[str, Any]:
    return busybox(name, "sh", "-c", HTTPD.format(text=text, port=port), **extra)


# -- 1. pods on the pod network ----------------------------------------------------------------------


def test_pods_run_with_their_own_ips_and_reach_each_other(server: ServerProcess) -> None:
    apply(server, pod("web-a", httpd("web", "hello-from-web-a", 8080)))
    apply(server, pod("web-b", busybox("idle", "sleep", "3600")))
    wait_ready(server, "web-a", "web-b")
    a, b = pod_json(server, "web-a"), pod_json(server, "web-b")
    assert a["status"]["phase"] == "Running" and status_column(server, "web-a") == "Running"
    ip_a, ip_b = a["status"]["podIP"], b["status"]["podIP"]
    assert ip_a != ip_b and ip_a.startswith("10.253.") and ip_b.startswith("10.253.")
    assert a["status"]["podIPs"] == [{"ip": ip_a}]
    assert container_status(a, "web")["state"]["running"]["startedAt"]

    apply(server, pod("web-client", busybox("get", "wget", "-qO-", f"http://{ip_a}:8080/"), restartPolicy="Never"))
    wait_phase(server, "web-client", "Succeeded")
    assert status_column(server, "web-client") == "Completed"
    assert logs(server, "web-client") == "hello-from-web-a\n"

    reasons = [r for _t, r, _m in events(server, "web-a")]
    for reason in ("Scheduled", "Pulled", "Created", "Started"):
        assert reason in reasons
    assert ("Normal", "Created", "Created container: web") in events(server, "web-a")


# -- 2. containers of one pod share network, storage and hostname ---------------------------------------


def test_two_containers_share_localhost_an_empty_dir_and_the_hostname(server: ServerProcess) -> None:
    shared = [{"name": "shared", "mountPath": "/shared"}]
    serve = busybox("server", "sh", "-c", "echo served-on-localhost > /shared/index.html; hostname > /shared/host; "
                    "exec httpd -f -p 8081 -h /shared", volumeMounts=shared)
    fetch = busybox("client", "sh", "-c",
                    "echo written-by-client > /shared/client.txt; "
                    "until wget -qO- http://localhost:8081/ 2>/dev/null; do sleep 0.2; done; "
                    "wget -qO- http://127.0.0.1:8081/client.txt; "
                    "echo client-host=$(hostname) server-host=$(cat /shared/host); sleep 3600",
                    volumeMounts=shared)
    apply(server, pod("duo", serve, fetch, volumes=[{"name": "shared", "emptyDir": {}}]))
    wait_ready(server, "duo")
    assert status_column(server, "duo") == "Running"
    assert server.kubectl("get", "pod", "duo", "--no-headers").stdout.split()[1] == "2/2"
    until_sync(lambda: "client-host" in logs(server, "duo", "-c", "client"), 15)
    assert logs(server, "duo", "-c", "client").splitlines() == [
        "served-on-localhost", "written-by-client", "client-host=duo server-host=duo"]


# -- 3. exit codes, restart policies, CrashLoopBackOff ------------------------------------------------------


def test_exit_codes_and_restart_policies(server: ServerProcess) -> None:
    apply(server, pod("crash", busybox("crash", "sh", "-c", "echo crashing; exit 1")))
    started = time.monotonic()
    apply(server, pod("exit-0", busybox("done", "sh", "-c", "exit 0"), restartPolicy="Never"))
    apply(server, pod("exit-1", busybox("fail", "sh", "-c", "exit 1"), restartPolicy="Never"))
    done = wait_phase(server, "exit-0", "Succeeded")
    term = container_status(done, "done")["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed") and status_column(server, "exit-0") == "Completed"
    failed = wait_phase(server, "exit-1", "Failed")
    term = container_status(failed, "fail")["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (1, "Error") and status_column(server, "exit-1") == "Error"
    assert container_status(failed, "fail")["restartCount"] == 0

    seen: set[str] = set()

    def crash_looped() -> bool:
        seen.add(status_column(server, "crash"))
        obj = pod_json(server, "crash")
        return "CrashLoopBackOff" in seen and container_status(obj, "crash")["restartCount"] >= 2

    until_sync(crash_looped, 40, interval=0.3)
    # The first restart is immediate, the second waits the 10 s backoff.
    assert time.monotonic() - started >= 9
    obj = pod_json(server, "crash")
    assert obj["status"]["phase"] == "Running"
    assert container_status(obj, "crash")["lastState"]["terminated"]["exitCode"] == 1
    assert any(r == "BackOff" and "Back-off restarting failed container crash" in m
               for _t, r, m in events(server, "crash"))
    # Container GC keeps the newest exited container (and its log) next to the current one, no more.
    log_dir = next((server.data_dir / "logs").glob(f"default_crash_{obj['metadata']['uid']}")) / "crash"
    until_sync(lambda: len(list(log_dir.iterdir())) <= 2, 10)


# -- 4. init containers -----------------------------------------------------------------------------------


def test_init_containers_run_in_order_and_a_failing_one_blocks_the_pod(server: ServerProcess) -> None:
    work = [{"name": "work", "mountPath": "/work"}]
    inits = [busybox(f"init-{i}", "sh", "-c", f"echo init-{i} >> /work/order", volumeMounts=work) for i in (1, 2)]
    app = busybox("app", "sh", "-c", "echo app >> /work/order; cat /work/order", volumeMounts=work)
    apply(server, pod("inits", app, initContainers=inits, restartPolicy="Never",
                      volumes=[{"name": "work", "emptyDir": {}}]))
    apply(server, pod("init-never", busybox("app", "true"), initContainers=[busybox("bad", "sh", "-c", "exit 3")],
                      restartPolicy="Never"))
    apply(server, pod("init-always", busybox("app", "true"), initContainers=[busybox("bad", "sh", "-c", "exit 1")]))

    obj = wait_phase(server, "inits", "Succeeded")
    assert logs(server, "inits") == "init-1\ninit-2\napp\n"
    for name in ("init-1", "init-2"):
        assert container_status(obj, name, "initContainerStatuses")["state"]["terminated"]["reason"] == "Completed"

    failed = wait_phase(server, "init-never", "Failed")
    assert status_column(server, "init-never") == "Init:Error"
    assert container_status(failed, "bad", "initContainerStatuses")["state"]["terminated"]["exitCode"] == 3
    assert "running" not in container_status(failed, "app")["state"]

    until_sync(lambda: status_column(server, "init-always") == "Init:CrashLoopBackOff", 20)
    obj = pod_json(server, "init-always")
    assert obj["status"]["phase"] == "Pending"
    assert container_status(obj, "app")["state"]["waiting"]["reason"] == "PodInitializing"


# -- 5. graceful deletion ---------------------------------------------------------------------------------


def test_delete_sends_sigterm_then_kills_at_the_end_of_the_grace_period(server: ServerProcess,
                                                                        tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    trap = busybox("trap", "sh", "-c", "trap 'echo got-TERM > /out/term; sleep 1; exit 0' TERM; "
                   "while true; do sleep 0.2; done",
                   volumeMounts=[{"name": "out", "mountPath": "/out"}])
    apply(server, pod("graceful", trap, volumes=[{"name": "out", "hostPath": {"path": str(out),
                                                                             "type": "Directory"}}]))
    stubborn = busybox("stubborn", "sh", "-c", "trap '' TERM; while true; do sleep 1; done")
    apply(server, pod("stubborn", stubborn, terminationGracePeriodSeconds=3))
    wait_ready(server, "graceful", "stubborn")

    server.kubectl("delete", "pod", "graceful", "--wait=false")
    assert status_column(server, "graceful") == "Terminating"
    assert wait_gone(server, "graceful", 30) < 10  # well within its 30 s: it exits on SIGTERM
    assert (out / "term").read_text() == "got-TERM\n"
    assert ("Normal", "Killing", "Stopping container trap") in events(server, "graceful")

    start = time.monotonic()
    server.kubectl("delete", "pod", "stubborn", "--wait=false")
    wait_gone(server, "stubborn", 15)
    assert 2.5 <= time.monotonic() - start <= 7  # SIGKILL at the end of the 3 s grace period


# -- 6. memory limits -------------------------------------------------------------------------------------


def test_a_container_over_its_memory_limit_is_oom_killed(server: ServerProcess) -> None:
    hog = busybox("hog", "tail", "/dev/zero", resources={"limits": {"memory": "16Mi"}})
    apply(server, pod("hog", hog, restartPolicy="Never"))
    obj = wait_phase(server, "hog", "Failed", 30)
    term = container_status(obj, "hog")["state"]["terminated"]
    assert (term["reason"], term["exitCode"]) == ("OOMKilled", 137)
    assert status_column(server, "hog") == "OOMKilled"


# -- 7. the agent restarts -------------------------------------------------------------------------------


def runc_state(cid: str) -> str:
    out = subprocess.run(["runc", "--root", RUNC_ROOT, "state", cid], capture_output=True, text=True)
    return str(json.loads(out.stdout)["status"]) if out.returncode == 0 else "gone"


def test_kill_9_of_the_agent_leaves_containers_running_and_status_intact(server: ServerProcess) -> None:
    apply(server, pod("steady", busybox("steady", "sleep", "3600"), terminationGracePeriodSeconds=2))
    apply(server, pod("slow-stop", busybox("slow", "sh", "-c", "trap '' TERM; while true; do sleep 1; done"),
                      terminationGracePeriodSeconds=8))
    wait_ready(server, "steady", "slow-stop")
    before = container_status(pod_json(server, "steady"), "steady")
    cid = before["containerID"].split("://")[1]

    deleted = time.monotonic()
    server.kubectl("delete", "pod", "slow-stop", "--wait=false")
    until_sync(lambda: status_column(server, "slow-stop") == "Terminating", 5)
    time.sleep(3)  # the agent is in the middle of the slow stop when it dies: that is the point
    server.kill()
    assert runc_state(cid) == "running"
    server.start()

    # A new pod reaching Ready proves the agent is back and syncing.
    apply(server, pod("after-restart", busybox("c", "sleep", "3600")))
    wait_ready(server, "after-restart")
    after = container_status(pod_json(server, "steady"), "steady")
    for key in ("containerID", "restartCount", "state", "ready"):
        assert after[key] == before[key]
    assert runc_state(cid) == "running"
    # The re-adopted deletion gets what is left of its 8 s, not a fresh grace period.
    wait_gone(server, "slow-stop", 20)
    assert time.monotonic() - deleted < 8 + 2  # a fresh period would end 3 s + the restart later

    server.kubectl("delete", "pod", "steady", "--wait=false")
    wait_gone(server, "steady", 15)
    assert runc_state(cid) == "gone"


# -- 8. bad input -----------------------------------------------------------------------------------------


def test_bad_input_gets_the_kubelets_reasons_and_other_pods_still_run(server: ServerProcess) -> None:
    apply(server, pod("no-image", {"name": "c", "image": "registry.invalid/nothing:1", "command": ["true"]}))
    apply(server, pod("no-command", busybox("c", "/bin/not-in-this-image"), restartPolicy="Never"))
    env = [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "missing-env", "key": "x"}}}]
    apply(server, pod("no-env-source", busybox("c", "sleep", "3600", env=env)))
    apply(server, pod("no-volume-source", busybox("c", "sleep", "3600",
                                                  volumeMounts=[{"name": "cfg", "mountPath": "/cfg"}]),
                      volumes=[{"name": "cfg", "configMap": {"name": "missing-volume"}}]))
    apply(server, pod("healthy", busybox("c", "sleep", "3600")))
    wait_ready(server, "healthy")

    def waiting_reason(name: str) -> str:
        state = container_status(pod_json(server, name), "c")["state"] if pod_json(server, name).get(
            "status", {}).get("containerStatuses") else {}
        return str((state.get("waiting") or {}).get("reason", ""))

    # The first failure shows ErrImagePull; while the next try waits, ImagePullBackOff (kubelet's way).
    until_sync(lambda: waiting_reason("no-image") in ("ErrImagePull", "ImagePullBackOff"), 15)
    until_sync(lambda: waiting_reason("no-image") == "ImagePullBackOff", 15)
    assert status_column(server, "no-image") == "ImagePullBackOff"
    assert any(r == "BackOff" and "Back-off pulling image" in m for _t, r, m in events(server, "no-image"))
    assert any(t == "Warning" and r == "Failed" and "registry.invalid/nothing:1" in m
               for t, r, m in events(server, "no-image"))

    obj = wait_phase(server, "no-command", "Failed")
    term = container_status(obj, "c")["state"]["terminated"]
    assert term["reason"] == "StartError" and "not-in-this-image" in term.get("message", "")
    assert status_column(server, "no-command") == "StartError"
    assert any(t == "Warning" and r == "Failed" and m.startswith("Error: ") for t, r, m in events(server, "no-command"))

    until_sync(lambda: waiting_reason("no-env-source") == "CreateContainerConfigError", 15)
    message = container_status(pod_json(server, "no-env-source"), "c")["state"]["waiting"]["message"]
    assert message == 'configmap "missing-env" not found'
    assert status_column(server, "no-env-source") == "CreateContainerConfigError"

    until_sync(lambda: any(r == "FailedMount" for _t, r, _m in events(server, "no-volume-source")), 15)
    assert status_column(server, "no-volume-source") == "ContainerCreating"
    assert pod_json(server, "no-volume-source")["status"]["phase"] == "Pending"

    apply(server, pod("healthy-after", busybox("c", "sleep", "3600")))
    wait_ready(server, "healthy-after")


# -- 9. logs ----------------------------------------------------------------------------------------------


def test_kubectl_logs_options(server: ServerProcess) -> None:
    talker = busybox("a", "sh", "-c", "for i in 1 2 3 4 5; do echo a-$i; done; sleep 3600")
    apply(server, pod("talker", talker, busybox("b", "sh", "-c", "echo b-only; sleep 3600")))
    counter = busybox("count", "sh", "-c", "for i in 1 2 3; do echo n-$i; sleep 0.5; done")
    apply(server, pod("counter", counter, restartPolicy="Never"))
    state = [{"name": "state", "mountPath": "/state"}]
    again = busybox("again", "sh", "-c", "n=$(( $(cat /state/n 2>/dev/null || echo 0) + 1 )); echo $n > /state/n; "
                    "echo attempt-$n; [ $n -ge 2 ] && exec sleep 3600; exit 1", volumeMounts=state)
    apply(server, pod("again", again, volumes=[{"name": "state", "emptyDir": {}}]))

    until_sync(lambda: status_column(server, "counter") == "Running", 20, interval=0.1)
    follow = server.kubectl("logs", "-f", "counter", timeout=20)  # returns once the container exits
    assert follow.stdout.splitlines() == ["n-1", "n-2", "n-3"]

    wait_ready(server, "talker")
    until_sync(lambda: logs(server, "talker", "-c", "a").count("\n") == 5, 10)
    assert logs(server, "talker", "-c", "b") == "b-only\n"
    assert logs(server, "talker", "-c", "a", "--tail", "2") == "a-4\na-5\n"
    stamped = logs(server, "talker", "-c", "b", "--timestamps")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) b-only\n", stamped), stamped

    wait_ready(server, "again")
    assert container_status(pod_json(server, "again"), "again")["restartCount"] == 1
    assert logs(server, "again") == "attempt-2\n"
    assert logs(server, "again", "--previous") == "attempt-1\n"
    assert server.kubectl("logs", "talker", "-c", "b", "--previous", check=False).returncode != 0
