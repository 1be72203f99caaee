"""Builders for the plan and status tests: pods, sandboxes and runtime containers as plain data.
(Lifecycles are tested through the real agent in tests/component/agent.)"""

from __future__ import annotations

from typing import Any

from pocketkube.agent import labels
from pocketkube.api.resources import ResourceInfo, require
from pocketkube.runtime.base import (
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


def pods_resource() -> ResourceInfo:
    return require("", "v1", "pods")
