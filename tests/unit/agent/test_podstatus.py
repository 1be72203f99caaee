"""The pod status the agent writes, generated from runtime containers (generate_pod_status):
fields, condition times, readiness gates and termination messages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from pocketkube.agent.status import generate_pod_status
from pocketkube.runtime.base import ContainerState

from .fixtures import T0, container, make_pod, make_sandbox, runtime_container

HOST_IP = "192.168.1.10"
POD_IP = "10.244.0.5"


def generate(pod: dict[str, Any], containers: list[Any], now: float = T0, **kw: Any) -> dict[str, Any]:
    pod["status"] = generate_pod_status(pod, make_sandbox("sb1"), containers, {}, [POD_IP], HOST_IP, now, **kw)
    return dict(pod["status"])


def condition(status: dict[str, Any], ctype: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == ctype)


def test_status_fields_and_condition_times() -> None:
    pod = make_pod([container("web"), container("side")])
    running = [runtime_container(pod, "web", "c1", "sb1"), runtime_container(pod, "side", "c2", "sb1")]
    st = generate(pod, running)
    assert st["podIP"] == POD_IP and st["podIPs"] == [{"ip": POD_IP}]
    assert st["hostIP"] == HOST_IP and st["hostIPs"] == [{"ip": HOST_IP}]
    assert st["qosClass"] == "BestEffort" and st["startTime"] == "2023-11-14T22:13:20Z"
    assert st["phase"] == "Running"
    assert [c["type"] for c in st["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    assert condition(st, "PodScheduled")["lastTransitionTime"] == "2023-11-14T22:00:00Z"
    cs = st["containerStatuses"][0]
    assert cs["containerID"] == "pocketkube://c1" and cs["imageID"] == "sha256:abc"
    assert cs["ready"] is True and cs["started"] is True and cs["state"]["running"]["startedAt"]
    ready_since = condition(st, "Ready")["lastTransitionTime"]
    st = generate(pod, running, T0 + 60, ready={"side": False})
    ready = condition(st, "Ready")
    assert ready["status"] == "False" and ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [side]"
    assert ready["lastTransitionTime"] != ready_since
    assert condition(st, "Initialized")["lastTransitionTime"] == "2023-11-14T22:13:20Z"  # unchanged status
    assert st["startTime"] == "2023-11-14T22:13:20Z"


def test_a_terminal_phase_is_final() -> None:
    pod = make_pod([container("web")], restart_policy="Never")
    exited = runtime_container(pod, "web", "c1", "sb1", state=ContainerState.EXITED, exit_code=1, finished=T0 + 1)
    assert generate(pod, [exited])["phase"] == "Failed"
    restarted = replace(exited, id="c2", state=ContainerState.RUNNING, exit_code=None, reason="")
    assert generate(pod, [restarted])["phase"] == "Failed"


def test_readiness_gates() -> None:
    pod = make_pod([container("web")], readinessGates=[{"conditionType": "example.com/lb"}])
    running = [runtime_container(pod, "web", "c1", "sb1")]
    ready = condition(generate(pod, running), "Ready")
    assert ready["reason"] == "ReadinessGatesNotReady"
    assert ready["message"] == 'corresponding condition of pod readiness gate "example.com/lb" does not exist.'
    pod["status"]["conditions"].insert(0, {"type": "example.com/lb", "status": "True"})
    st = generate(pod, running)
    assert condition(st, "Ready")["status"] == "True"
    assert condition(st, "example.com/lb") == {"type": "example.com/lb", "status": "True"}


@pytest.mark.parametrize("policy,file,logs,code,expect", [
    ("File", "bye", "log line", 1, "bye"),
    ("File", "", "log line", 1, None),
    ("FallbackToLogsOnError", "", "log line", 1, "log line"),
    ("FallbackToLogsOnError", "", "log line", 0, None),
    ("FallbackToLogsOnError", "from file", "log line", 1, "from file"),
])
def test_termination_message(policy: str, file: str, logs: str, code: int, expect: str | None) -> None:
    pod = make_pod([container("web", terminationMessagePolicy=policy)], restart_policy="Never")
    exited = runtime_container(pod, "web", "c1", "sb1", state=ContainerState.EXITED, exit_code=code,
                               finished=T0 + 3)
    st = generate(pod, [exited], termination_messages={"c1": file}, log_tail=lambda cs: logs)
    assert st["containerStatuses"][0]["state"]["terminated"].get("message") == expect
