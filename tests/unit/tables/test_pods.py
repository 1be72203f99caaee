"""Pod rows: STATUS as kube's printPod computes it, READY, RESTARTS and the wide columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pocketkube.api.tables.pods import pod_cells, pod_conditions, pod_summary

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
CREATED = "2024-05-01T11:00:00Z"


def running(ready: bool = True, restarts: int = 0, finished: str | None = None) -> dict[str, Any]:
    cs: dict[str, Any] = {"ready": ready, "restartCount": restarts, "state": {"running": {"startedAt": CREATED}}}
    if finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": finished}}
    return cs


def waiting(reason: str) -> dict[str, Any]:
    return {"ready": False, "restartCount": 0, "state": {"waiting": {"reason": reason}}}


def terminated(exit_code: int = 0, reason: str = "", signal: int = 0) -> dict[str, Any]:
    term: dict[str, Any] = {"exitCode": exit_code}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {"ready": False, "restartCount": 0, "state": {"terminated": term}}


def pod(phase: str = "Running", containers: list[dict] | None = None, init: list[dict] | None = None,
        init_spec: list[dict] | None = None, conditions: list[dict] | None = None, reason: str = "",
        deleting: bool = False, n_containers: int | None = None) -> dict[str, Any]:
    statuses = containers or []
    count = n_containers if n_containers is not None else max(len(statuses), 1)
    status: dict[str, Any] = {"phase": phase, "containerStatuses": statuses}
    if init is not None:
        status["initContainerStatuses"] = init
    if conditions is not None:
        status["conditions"] = conditions
    if reason:
        status["reason"] = reason
    meta: dict[str, Any] = {"name": "web", "namespace": "default", "creationTimestamp": CREATED}
    if deleting:
        meta["deletionTimestamp"] = "2024-05-01T11:59:00Z"
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": "img"} for i in range(count)]}
    if init_spec is not None:
        spec["initContainers"] = init_spec
    return {"metadata": meta, "spec": spec, "status": status}


def cond(ctype: str, status: str = "True", reason: str = "") -> dict[str, str]:
    return {"type": ctype, "status": status, **({"reason": reason} if reason else {})}


INIT2 = [{"name": "i0"}, {"name": "i1"}]
SIDECAR = [{"name": "proxy", "restartPolicy": "Always"}]


@pytest.mark.parametrize("p, status", [
    (pod("Pending", n_containers=1), "Pending"),
    (pod("Running", [running()]), "Running"),
    (pod("Failed", [terminated(1, "Error")], reason="Evicted"), "Error"),
    (pod("Failed", [], reason="Evicted", n_containers=1), "Evicted"),
    (pod("Pending", [waiting("ContainerCreating")]), "ContainerCreating"),
    (pod("Running", [waiting("CrashLoopBackOff")]), "CrashLoopBackOff"),
    (pod("Pending", [waiting("ErrImagePull")]), "ErrImagePull"),
    (pod("Pending", [waiting("ImagePullBackOff")]), "ImagePullBackOff"),
    (pod("Pending", [waiting("CreateContainerConfigError")]), "CreateContainerConfigError"),
    (pod("Succeeded", [terminated(0, "Completed")]), "Completed"),
    (pod("Failed", [terminated(137, "OOMKilled")]), "OOMKilled"),
    (pod("Failed", [terminated(3)]), "ExitCode:3"),
    (pod("Failed", [terminated(137, signal=9)]), "Signal:9"),
    # The first container (in spec order) with a waiting/terminated state wins: the loop runs backwards.
    (pod("Running", [waiting("CrashLoopBackOff"), waiting("ErrImagePull")]), "CrashLoopBackOff"),
    # A container completed while another still runs: Running with the Ready condition, NotReady without.
    (pod("Running", [terminated(0, "Completed"), running()], conditions=[cond("Ready")]), "Running"),
    (pod("Running", [terminated(0, "Completed"), running()], conditions=[cond("Ready", "False")]), "NotReady"),
    # Init containers.
    (pod("Pending", [waiting("PodInitializing")], init=[waiting("PodInitializing"), waiting("PodInitializing")],
         init_spec=INIT2), "Init:0/2"),
    (pod("Pending", [waiting("PodInitializing")], init=[terminated(0, "Completed"), running(False)],
         init_spec=INIT2), "Init:1/2"),
    (pod("Pending", [], init=[terminated(1, "Error")], init_spec=INIT2), "Init:Error"),
    (pod("Pending", [], init=[terminated(137, "OOMKilled")], init_spec=INIT2), "Init:OOMKilled"),
    (pod("Pending", [], init=[terminated(2)], init_spec=INIT2), "Init:ExitCode:2"),
    (pod("Pending", [], init=[terminated(143, signal=15)], init_spec=INIT2), "Init:Signal:15"),
    (pod("Pending", [], init=[waiting("CrashLoopBackOff")], init_spec=INIT2), "Init:CrashLoopBackOff"),
    (pod("Pending", [], init=[waiting("ImagePullBackOff")], init_spec=INIT2), "Init:ImagePullBackOff"),
    (pod("Running", [running()], init=[terminated(0, "Completed"), terminated(0, "Completed")],
         init_spec=INIT2), "Running"),
    # Scheduling gates and deletion.
    (pod("Pending", [], conditions=[cond("PodScheduled", "False", "SchedulingGated")], n_containers=1),
     "SchedulingGated"),
    (pod("Running", [running()], deleting=True), "Terminating"),
    (pod("Running", [running()], deleting=True, reason="NodeLost"), "Unknown"),
    (pod("Succeeded", [terminated(0, "Completed")], deleting=True), "Completed"),  # terminal keeps its status
    (pod("Failed", [terminated(1, "Error")], deleting=True), "Error"),
])
def test_status(p: dict, status: str) -> None:
    assert pod_summary(p)[2] == status


@pytest.mark.parametrize("p, ready", [
    (pod("Running", [running(), running(False)]), "1/2"),
    (pod("Running", [running(), running()]), "2/2"),
    (pod("Pending", [], n_containers=3), "0/3"),
    # A started sidecar counts in READY; it is one of the total.
    (pod("Running", [running()], init=[{"name": "proxy", "ready": True, "started": True, "restartCount": 0,
                                        "state": {"running": {}}}], init_spec=SIDECAR), "2/2"),
    (pod("Running", [running()], init=[{"name": "proxy", "ready": False, "started": True, "restartCount": 0,
                                        "state": {"running": {}}}], init_spec=SIDECAR), "1/2"),
])
def test_ready(p: dict, ready: str) -> None:
    assert pod_cells(p, NOW)[1] == ready


def test_restarts_with_last_restart_time() -> None:
    p = pod("Running", [running(restarts=3, finished="2024-05-01T11:59:15Z"), running(restarts=1)])
    assert pod_cells(p, NOW)[3] == "4 (45s ago)"


def test_restarts_without_termination_time_is_just_a_number() -> None:
    assert pod_cells(pod("Running", [running(restarts=2)]), NOW)[3] == "2"
    assert pod_cells(pod("Running", [running()]), NOW)[3] == "0"


def test_restarts_of_sidecars_count_after_init() -> None:
    init = [{"name": "proxy", "ready": True, "started": True, "restartCount": 2, "state": {"running": {}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:50:00Z"}}}]
    p = pod("Running", [running(restarts=1)], init=init, init_spec=SIDECAR)
    assert pod_cells(p, NOW)[3] == "3 (10m ago)"


def test_restarts_while_initializing_count_init_containers() -> None:
    init = [{"name": "i0", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:58:00Z"}}}]
    cells = pod_cells(pod("Pending", [waiting("PodInitializing")], init=init, init_spec=INIT2), NOW)
    assert cells[2:4] == ["Init:CrashLoopBackOff", "4 (2m ago)"]


def test_full_row_with_wide_columns() -> None:
    p = pod("Running", [running()])
    p["spec"]["nodeName"] = "node-1"
    p["spec"]["readinessGates"] = [{"conditionType": "a"}, {"conditionType": "b"}]
    p["status"]["podIPs"] = [{"ip": "10.0.0.7"}, {"ip": "fd00::7"}]
    p["status"]["conditions"] = [cond("a"), cond("b", "False")]
    assert pod_cells(p, NOW) == ["web", "1/1", "Running", "0", "60m", "10.0.0.7", "node-1", "<none>", "1/2"]


def test_wide_defaults_and_pod_ip_fallback() -> None:
    p = pod("Pending", [], n_containers=1)
    assert pod_cells(p, NOW)[5:] == ["<none>", "<none>", "<none>", "<none>"]
    p["status"]["podIP"] = "10.0.0.9"
    assert pod_cells(p, NOW)[5] == "10.0.0.9"


def test_row_conditions_mark_finished_pods() -> None:
    assert pod_conditions(pod("Succeeded"))[0]["reason"] == "Succeeded"
    assert pod_conditions(pod("Failed"))[0]["message"] == "The pod failed."
    assert pod_conditions(pod("Running")) == []
