"""Pod lifecycles as users see them: plans executed by the simulator, statuses generated, and the
STATUS column kubectl prints (through pocketkube.api.tables) checked at every step."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pocketkube.agent.actions import compute_pod_actions, restore_backoff
from pocketkube.agent.backoff import Backoff
from pocketkube.runtime.base import SandboxState

from .sim import T0, Sim, container, make_pod


def test_exit_zero_with_never_ends_succeeded_completed() -> None:
    sim = Sim(make_pod([container("web")], restart_policy="Never"))
    sim.refresh()
    assert sim.status_text() == "ContainerCreating" and sim.pod["status"]["phase"] == "Pending"
    sim.sync()
    assert sim.pod["status"]["phase"] == "Running" and sim.status_text() == "Running"
    sim.advance(3)
    sim.exit("web", 0)
    a = sim.sync()
    assert a.kill_pod and not a.create_sandbox
    st = sim.pod["status"]
    assert st["phase"] == "Succeeded" and sim.status_text() == "Completed"
    term = st["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 0 and term["reason"] == "Completed"
    assert sim.condition("Ready")["reason"] == "PodCompleted" and sim.condition("Ready")["status"] == "False"
    assert sim.condition("PodReadyToStartContainers")["status"] == "False"  # the sandbox was stopped


def test_exit_one_with_never_ends_failed_error() -> None:
    sim = Sim(make_pod([container("web")], restart_policy="Never"))
    sim.sync()
    sim.exit("web", 1)
    sim.sync()
    assert sim.pod["status"]["phase"] == "Failed" and sim.status_text() == "Error"
    assert sim.condition("Ready")["reason"] == "PodFailed"
    # a terminal phase is final, whatever a later sync sees
    assert sim.sync().kill_pod and sim.pod["status"]["phase"] == "Failed"


def test_crashloop_backoff_grows_with_always() -> None:
    sim = Sim(make_pod([container("web", command=["false"])]))
    sim.sync()
    delays = []
    for restart in range(1, 9):
        sim.advance(1)
        sim.exit("web", 1)
        a = sim.sync()
        if a.containers_to_start != ["web"]:
            reason, message = a.waiting["web"]
            assert reason == "CrashLoopBackOff" and message.endswith("restarting failed container=web pod=p_ns(uid-1)")
            delays.append(message.split()[1])
            cs = sim.cstatus("web")
            assert sim.status_text() == "CrashLoopBackOff" and sim.pod["status"]["phase"] == "Running"
            assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
            assert cs["lastState"]["terminated"]["exitCode"] == 1 and cs["restartCount"] == restart - 1
            assert a.next_wakeup is not None
            sim.now = a.next_wakeup
            assert sim.sync().containers_to_start == ["web"]
        cs = sim.cstatus("web")
        assert cs["restartCount"] == restart and "running" in cs["state"]
        assert cs["lastState"]["terminated"]["reason"] == "Error"
    # the first restart is immediate, then 10 s doubling to 5 min
    assert delays == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s"]
    cells_restarts = sim.cstatus("web")["restartCount"]
    assert cells_restarts == 8


def test_ten_minutes_of_running_resets_the_backoff() -> None:
    sim = Sim(make_pod([container("web")]))
    sim.sync()
    for _ in range(4):
        sim.advance(1)
        sim.exit("web", 1)
        a = sim.sync()
        if a.next_wakeup:
            sim.now = a.next_wakeup
            sim.sync()
    sim.advance(601)
    sim.exit("web", 1)
    assert sim.sync().containers_to_start == ["web"]  # no wait after good running


def test_on_failure_restarts_only_non_zero_exits() -> None:
    sim = Sim(make_pod([container("ok"), container("bad")], restart_policy="OnFailure"))
    sim.sync()
    sim.exit("ok", 0)
    sim.exit("bad", 2)
    a = sim.sync()
    assert a.containers_to_start == ["bad"] and sim.cstatus("bad")["restartCount"] == 1
    assert sim.cstatus("ok")["state"]["terminated"]["reason"] == "Completed"
    assert sim.pod["status"]["phase"] == "Running"
    sim.exit("bad", 0)
    sim.sync()
    assert sim.pod["status"]["phase"] == "Succeeded" and sim.status_text() == "Completed"


def test_init_containers_run_in_order_before_the_app() -> None:
    sim = Sim(make_pod([container("web")], init=[container("i1"), container("i2")]))
    sim.sync()
    assert sim.status_text() == "Init:0/2" and sim.pod["status"]["phase"] == "Pending"
    assert sim.condition("Initialized") == {
        "type": "Initialized", "status": "False", "reason": "ContainersNotInitialized",
        "message": "containers with incomplete status: [i1 i2]", "lastProbeTime": None,
        "lastTransitionTime": sim.condition("Initialized")["lastTransitionTime"]}
    assert sim.cstatus("web")["state"] == {"waiting": {"reason": "PodInitializing"}}
    sim.exit("i1", 0)
    sim.sync()
    assert sim.status_text() == "Init:1/2"
    sim.exit("i2", 0)
    sim.refresh()  # what the status says between the exit and the next sync
    assert sim.status_text() == "PodInitializing" and sim.condition("Initialized")["status"] == "True"
    sim.sync()
    assert sim.status_text() == "Running" and sim.pod["status"]["phase"] == "Running"
    assert sim.condition("Ready")["status"] == "True" and sim.condition("ContainersReady")["status"] == "True"


def test_failing_init_container_with_never_is_init_error() -> None:
    sim = Sim(make_pod([container("web")], init=[container("i1"), container("i2")], restart_policy="Never"))
    sim.sync()
    sim.exit("i1", 1)
    assert sim.sync().kill_pod
    assert sim.status_text() == "Init:Error" and sim.pod["status"]["phase"] == "Failed"


def test_failing_init_container_with_always_is_init_crashloopbackoff() -> None:
    sim = Sim(make_pod([container("web")], init=[container("i1")]))
    sim.sync()
    sim.exit("i1", 1)
    sim.sync()  # first restart: immediate
    assert sim.status_text() == "Init:0/1" and sim.cstatus("i1")["restartCount"] == 1
    sim.advance(1)
    sim.exit("i1", 1)
    sim.sync()
    assert sim.status_text() == "Init:CrashLoopBackOff" and sim.pod["status"]["phase"] == "Pending"
    assert sim.cstatus("web")["state"]["waiting"]["reason"] == "PodInitializing"


def test_sidecar_runs_beside_the_app_and_stops_after_it() -> None:
    pod = make_pod([container("web")], init=[container("proxy", restartPolicy="Always")], restart_policy="Never")
    sim = Sim(pod)
    sim.sync()
    # the sidecar runs and counts as started: initialization is over, the app is not there yet
    assert sim.status_text() == "PodInitializing" and sim.pod["status"]["phase"] == "Pending"
    assert sim.condition("Initialized")["status"] == "True"
    sim.sync()  # proxy is started: the app may start
    cells_ready = sim.cstatus("proxy")["started"]
    assert cells_ready is True and sim.status_text() == "Running" and sim.pod["status"]["phase"] == "Running"
    sim.exit("proxy", 1)
    a = sim.sync()
    assert a.init_to_start == ["proxy"] and sim.cstatus("proxy")["restartCount"] == 1  # even under Never
    sim.exit("web", 0)
    a = sim.sync()
    assert a.kill_pod and a.kill_stages == [[sim.cstatus("proxy")["containerID"].split("://")[1]]]
    assert sim.pod["status"]["phase"] == "Succeeded" and sim.status_text() == "Completed"


def test_oom_killed() -> None:
    sim = Sim(make_pod([container("hog")], restart_policy="Never"))
    sim.sync()
    sim.exit("hog", 137, oom=True)
    sim.sync()
    term = sim.cstatus("hog")["state"]["terminated"]
    assert term["reason"] == "OOMKilled" and term["exitCode"] == 137
    assert sim.pod["status"]["phase"] == "Failed" and sim.status_text() == "OOMKilled"


def test_start_error_shows_in_state_and_in_kubectl() -> None:
    sim = Sim(make_pod([container("web")], restart_policy="Never"))
    sim.start_errors.add("web")
    sim.sync()
    term = sim.cstatus("web")["state"]["terminated"]
    assert term["reason"] == "StartError" and term["exitCode"] == 128
    assert term["startedAt"] == "1970-01-01T00:00:00Z"
    assert term["message"] == 'exec: "nope": executable file not found in $PATH'
    sim.sync()
    assert sim.pod["status"]["phase"] == "Failed" and sim.status_text() == "StartError"


def test_delete_shows_terminating_then_stops_everything() -> None:
    sim = Sim(make_pod([container("web")]))
    sim.sync()
    sim.pod["metadata"].update(deletionTimestamp="2023-11-14T22:13:50Z", deletionGracePeriodSeconds=30)
    assert sim.status_text() == "Terminating"
    a = sim.sync()
    assert a.kill_pod and a.grace_period == 30 and not a.create_sandbox
    assert sim.pod["status"]["phase"] == "Failed"  # killed by SIGTERM: 143


def test_image_update_restarts_the_container() -> None:
    sim = Sim(make_pod([container("web", image="nginx:1")]))
    sim.sync()
    old_id = sim.cstatus("web")["containerID"]
    sim.pod["spec"]["containers"][0]["image"] = "nginx:2"
    a = sim.sync()
    assert list(a.containers_to_kill) == [old_id.split("://")[1]] and a.containers_to_start == ["web"]
    cs = sim.cstatus("web")
    assert cs["image"] == "nginx:2" and cs["restartCount"] == 1 and cs["containerID"] != old_id
    assert cs["lastState"]["terminated"]["exitCode"] == 143


def test_dead_sandbox_is_recreated_and_counts_go_on() -> None:
    sim = Sim(make_pod([container("web")]))
    sim.sync()
    assert sim.sandbox is not None
    sim.sandbox = replace(sim.sandbox, state=SandboxState.NOTREADY)
    a = sim.sync()
    assert a.kill_pod and a.create_sandbox and a.sandbox_attempt == 1
    assert sim.sandbox.state == SandboxState.READY and sim.cstatus("web")["restartCount"] == 1
    assert sim.condition("PodReadyToStartContainers")["status"] == "True"
    assert sim.status_text() == "Running"


def test_status_fields_and_condition_times() -> None:
    sim = Sim(make_pod([container("web"), container("side")]))
    sim.sync()
    st = sim.pod["status"]
    assert st["podIP"] == "10.244.0.5" and st["podIPs"] == [{"ip": "10.244.0.5"}]
    assert st["hostIP"] == "192.168.1.10" and st["hostIPs"] == [{"ip": "192.168.1.10"}]
    assert st["qosClass"] == "BestEffort" and st["startTime"] == "2023-11-14T22:13:20Z"
    assert [c["type"] for c in st["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert sim.condition("PodScheduled")["lastTransitionTime"] == "2023-11-14T22:00:00Z"
    cs = sim.cstatus("web")
    assert cs["containerID"].startswith("pocketkube://") and cs["imageID"] == "sha256:abc"
    assert cs["ready"] is True and cs["started"] is True and cs["state"]["running"]["startedAt"]
    ready_since = sim.condition("Ready")["lastTransitionTime"]
    sim.advance(60)
    sim.refresh(ready={"side": False})
    ready = sim.condition("Ready")
    assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [side]"
    assert ready["lastTransitionTime"] != ready_since
    assert sim.condition("Initialized")["lastTransitionTime"] == "2023-11-14T22:13:20Z"  # unchanged status
    assert sim.status_text() == "Running" and sim.pod["status"]["startTime"] == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize("policy,file,logs,code,expect", [
    ("File", "bye", "log line", 1, "bye"),
    ("File", "", "log line", 1, None),
    ("FallbackToLogsOnError", "", "log line", 1, "log line"),
    ("FallbackToLogsOnError", "", "log line", 0, None),
    ("FallbackToLogsOnError", "from file", "log line", 1, "from file"),
])
def test_termination_message(policy: str, file: str, logs: str, code: int, expect: str | None) -> None:
    sim = Sim(make_pod([container("web", terminationMessagePolicy=policy)], restart_policy="Never"))
    sim.sync()
    sim.exit("web", code, message=file)
    status = sim.refresh(log_tail=lambda cs: logs)
    term = status["containerStatuses"][0]["state"]["terminated"]
    assert term.get("message") == expect


def test_readiness_gates() -> None:
    sim = Sim(make_pod([container("web")], readinessGates=[{"conditionType": "example.com/lb"}]))
    sim.sync()
    ready = sim.condition("Ready")
    assert ready["reason"] == "ReadinessGatesNotReady"
    assert ready["message"] == 'corresponding condition of pod readiness gate "example.com/lb" does not exist.'
    sim.pod["status"]["conditions"].insert(0, {"type": "example.com/lb", "status": "True"})
    sim.refresh()
    assert sim.condition("Ready")["status"] == "True"
    assert sim.condition("example.com/lb") == {"type": "example.com/lb", "status": "True"}


def test_plan_between_syncs_is_stable() -> None:
    sim = Sim(make_pod([container("web")]))
    sim.sync()
    a = compute_pod_actions(sim.pod, sim.sandbox, list(sim.containers.values()), sim.backoff, T0 + 5)
    assert not (a.kill_pod or a.create_sandbox or a.containers_to_start or a.containers_to_kill)


def test_agent_restart_rebuilds_the_backoff_from_the_runtime() -> None:
    sim = Sim(make_pod([container("web")]))
    sim.sync()
    for _ in range(3):  # attempts 1 and 2 (10 s), 3 (20 s)
        sim.advance(1)
        sim.exit("web", 1)
        a = sim.sync()
        if a.next_wakeup:
            sim.now = a.next_wakeup
            sim.sync()
    assert sim.cstatus("web")["restartCount"] == 3
    sim.backoff = Backoff()  # the agent was killed: its memory is gone
    restore_backoff(sim.backoff, list(sim.containers.values()))
    sim.advance(1)
    sim.exit("web", 1)
    a = sim.sync()
    assert a.waiting["web"][1].startswith("back-off 40s ")


def test_start_error_with_always_goes_to_crashloopbackoff() -> None:
    sim = Sim(make_pod([container("web")]))
    sim.start_errors.add("web")
    sim.sync()
    assert sim.cstatus("web")["state"]["terminated"]["reason"] == "StartError"
    sim.sync()  # first restart is immediate, and fails again
    assert sim.cstatus("web")["restartCount"] == 1
    sim.sync()
    assert sim.status_text() == "CrashLoopBackOff"
    assert sim.cstatus("web")["lastState"]["terminated"]["reason"] == "StartError"
