"""A synchronous pod simulator for the plan tests: it executes `PodActions` the way the pod worker
must (kill stages, sandbox, kills, starts, backoff bookkeeping) against an in-memory runtime, and
regenerates the API status after each sync. Containers exit only when a test says so."""

from __future__ import annotations

import copy
import itertools
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pocketkube.agent import labels
from pocketkube.agent.actions import PodActions, compute_pod_actions, name_of, record_restarts
from pocketkube.agent.backoff import Backoff
from pocketkube.agent.podstatus import generate_pod_status
from pocketkube.api.resources import ResourceInfo, require
from pocketkube.api.tables import row_cells
from pocketkube.runtime.base import (
    REASON_START_ERROR,
    START_ERROR_EXIT_CODE,
    ContainerState,
    ContainerStatus,
    Sandbox,
    SandboxConfig,
    SandboxState,
    exit_reason,
)

T0 = 1_700_000_000.0
UID = "uid-1"


def container(name: str, image: str = "busybox:1.36", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "command": ["sh"], **extra}


def make_pod(containers: list[dict[str, Any]], init: list[dict[str, Any]] | None = None,
             restart_policy: str = "Always", **spec: Any) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {"containers": containers, "restartPolicy": restart_policy,
                                "terminationGracePeriodSeconds": 30, **spec}
    if init:
        pod_spec["initContainers"] = init
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns", "uid": UID, "creationTimestamp": "2023-11-14T22:00:00Z"},
        "spec": pod_spec,
        "status": {"phase": "Pending", "qosClass": "BestEffort", "conditions": [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": "2023-11-14T22:00:00Z"}]},
    }


def make_sandbox(sid: str, attempt: int = 0, state: SandboxState = SandboxState.READY) -> Sandbox:
    pod = make_pod([])
    config = SandboxConfig(name="p", namespace="ns", uid=UID, labels=labels.sandbox_labels(pod, attempt))
    return Sandbox(id=sid, config=config, state=state, created_at=T0, netns_path="", ipcns_path="",
                   utsns_path="", cgroup_parent="", dir="", hostname_path="", hosts_path=None,
                   resolv_conf_path=None, shm_path="")


def spec_of(pod: dict[str, Any], name: str) -> dict[str, Any]:
    spec = pod["spec"]
    for c in (spec.get("initContainers") or []) + spec["containers"] + (spec.get("ephemeralContainers") or []):
        if c["name"] == name:
            return dict(c)
    raise KeyError(name)


def runtime_container(pod: dict[str, Any], name: str, cid: str, sandbox_id: str, attempt: int = 0,
                      state: ContainerState = ContainerState.RUNNING, created: float = T0,
                      exit_code: int | None = None, finished: float = 0.0, reason: str = "",
                      started: float | None = None, spec: dict[str, Any] | None = None) -> ContainerStatus:
    spec = spec or spec_of(pod, name)
    ctype = labels.container_type(pod, name) or "regular"
    return ContainerStatus(
        id=cid, sandbox_id=sandbox_id, name=name, state=state, created_at=created,
        started_at=created if started is None else started, finished_at=finished, exit_code=exit_code,
        reason=reason or ("" if exit_code is None else exit_reason(exit_code, False)), attempt=attempt,
        labels=labels.container_labels(pod, spec, ctype, attempt, image_id="sha256:abc"))


class Sim:
    def __init__(self, pod: dict[str, Any], now: float = T0) -> None:
        self.pod = pod
        self.now = now
        self.backoff = Backoff()
        self.sandbox: Sandbox | None = None
        self.containers: dict[str, ContainerStatus] = {}
        self.ids = itertools.count(1)
        self.start_errors: set[str] = set()
        self.messages: dict[str, str] = {}
        self.actions = PodActions()

    # ---- what the pod worker does ----

    def sync(self) -> PodActions:
        a = compute_pod_actions(self.pod, self.sandbox, list(self.containers.values()), self.backoff, self.now)
        self.actions = a
        if a.kill_pod:
            for stage in a.kill_stages:
                for cid in stage:
                    self._exit(cid, 143)
            if self.sandbox is not None:
                self.sandbox = replace(self.sandbox, state=SandboxState.NOTREADY)
        for cid in a.init_to_purge:
            self.containers.pop(cid, None)
        if a.create_sandbox:
            self.sandbox = make_sandbox(f"sb{next(self.ids)}", a.sandbox_attempt)
        for cid in a.containers_to_kill:
            if self.containers[cid].state == ContainerState.RUNNING:
                self._exit(cid, 143)
        waiting = dict(a.waiting)
        started = []
        for name in a.ephemeral_to_start + a.init_to_start + a.containers_to_start:
            self._start(name, a.attempts[name])
            waiting.pop(name, None)  # the worker replaces the plan's reason with its own outcome
            started.append(name)
        record_restarts(self.backoff, a, started, self.now)
        self.refresh(waiting)
        return a

    def refresh(self, waiting: dict[str, tuple[str, str]] | None = None, **kw: Any) -> dict[str, Any]:
        waiting = self.actions.waiting if waiting is None else waiting
        self.pod["status"] = generate_pod_status(
            self.pod, self.sandbox, list(self.containers.values()), waiting,
            ["10.244.0.5"] if self.sandbox and self.sandbox.state == SandboxState.READY else [],
            "192.168.1.10", self.now, termination_messages=self.messages, **kw)
        return self.pod["status"]

    def _start(self, name: str, attempt: int) -> None:
        assert self.sandbox is not None and self.sandbox.state == SandboxState.READY
        cid = f"c{next(self.ids)}"
        cs = runtime_container(self.pod, name, cid, self.sandbox.id, attempt, created=self.now)
        if name in self.start_errors:
            cs = replace(cs, state=ContainerState.EXITED, started_at=0.0, finished_at=self.now,
                         exit_code=START_ERROR_EXIT_CODE, reason=REASON_START_ERROR,
                         message='exec: "nope": executable file not found in $PATH')
        self.containers[cid] = cs

    def _exit(self, cid: str, code: int, oom: bool = False) -> None:
        cs = self.containers[cid]
        self.containers[cid] = replace(cs, state=ContainerState.EXITED, exit_code=code,
                                       finished_at=self.now, reason=exit_reason(code, oom))

    # ---- what the test does ----

    def running(self, name: str) -> ContainerStatus:
        found = [c for c in self.containers.values() if name_of(c) == name and c.state == ContainerState.RUNNING]
        assert len(found) == 1, (name, found)
        return found[0]

    def exit(self, name: str, code: int, oom: bool = False, message: str = "") -> None:
        cid = self.running(name).id
        self._exit(cid, code, oom)
        if message:
            self.messages[cid] = message

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def status_text(self) -> str:
        """kubectl's STATUS column for the pod as it is now."""
        cells = row_cells(pods_resource(), copy.deepcopy(self.pod), datetime.fromtimestamp(self.now, UTC))
        return str(cells[2])

    def cstatus(self, name: str) -> dict[str, Any]:
        st = self.pod["status"]
        for s in (st.get("initContainerStatuses") or []) + st["containerStatuses"]:
            if s["name"] == name:
                return dict(s)
        raise KeyError(name)

    def condition(self, ctype: str) -> dict[str, Any]:
        return next(c for c in self.pod["status"]["conditions"] if c["type"] == ctype)


def pods_resource() -> ResourceInfo:
    return require("", "v1", "pods")
