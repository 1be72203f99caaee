"""The pod printer: READY, STATUS and RESTARTS exactly as kube's `printPod` computes them.

STATUS starts from the phase (or `status.reason`), is overridden by a SchedulingGated condition, then
by the first init container that has not succeeded (`Init:N/M`, `Init:<reason>`, `Init:ExitCode:N`…),
and — once initialization is over — by the last app container that is waiting or terminated. A pod
whose containers "Completed" while one still runs reads Running (or NotReady without the Ready
condition). Deletion turns a non-terminal pod into Terminating, or Unknown when its node was lost.
Restartable init containers (sidecars) count towards READY and RESTARTS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pocketkube.api import podutil
from pocketkube.api.tables.format import (
    Column,
    Printer,
    age,
    age_column,
    doc,
    name_column,
    name_of,
    parse_time,
    since,
    to_int,
    wide,
)

_POD_STATUS = "io.k8s.api.core.v1.PodStatus"
_POD_SPEC = "io.k8s.api.core.v1.PodSpec"


def _columns() -> tuple[Column, ...]:
    return (
        name_column(),
        Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
        Column("Status", "string", "The aggregate status of the containers in this pod."),
        Column("Restarts", "string", "The number of times the containers in this pod have been restarted "
               "and when the last container in this pod has restarted."),
        age_column(),
        wide("IP", doc(_POD_STATUS, "podIP")),
        wide("Node", doc(_POD_SPEC, "nodeName")),
        wide("Nominated Node", doc(_POD_STATUS, "nominatedNodeName")),
        wide("Readiness Gates", doc(_POD_SPEC, "readinessGates")),
    )


def _condition_true(status: dict[str, Any], ctype: str, first_only: bool) -> bool:
    for c in status.get("conditions") or []:
        if c.get("type") == ctype:
            if c.get("status") == "True":
                return True
            if first_only:
                return False
    return False


def _terminated_text(term: dict[str, Any], prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + str(term["reason"])
    if to_int(term.get("signal")):
        return f"{prefix}Signal:{to_int(term.get('signal'))}"
    return f"{prefix}ExitCode:{to_int(term.get('exitCode'))}"


def _later(current: datetime | None, cs: dict[str, Any]) -> datetime | None:
    finished = parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
    if finished is not None and (current is None or finished > current):
        return finished
    return current


def pod_summary(pod: dict[str, Any]) -> tuple[int, int, str, int, datetime | None]:
    """(ready, total, STATUS, restarts, last restart time) — the heart of printPod."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    phase = str(status.get("phase") or "")
    reason = str(status.get("reason") or "") or phase
    for c in status.get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    sidecars = {n for n, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(sidecars)
    ready = restarts = sidecar_restarts = 0
    last: datetime | None = None
    sidecar_last: datetime | None = None

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        restarts += to_int(cs.get("restartCount"))
        last = _later(last, cs)
        is_sidecar = cs.get("name") in sidecars
        if is_sidecar:
            sidecar_restarts += to_int(cs.get("restartCount"))
            sidecar_last = _later(sidecar_last, cs)
        if term is not None and to_int(term.get("exitCode")) == 0:
            continue
        if is_sidecar and cs.get("started") is True:
            ready += 1 if cs.get("ready") else 0
            continue
        if term is not None:
            reason = _terminated_text(term, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + str(waiting["reason"])
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized", first_only=True):
        restarts, last = sidecar_restarts, sidecar_last
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            term, waiting = state.get("terminated"), state.get("waiting")
            restarts += to_int(cs.get("restartCount"))
            last = _later(last, cs)
            if waiting is not None and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif term is not None:
                reason = _terminated_text(term)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready", first_only=False) else "NotReady"

    deleting = (pod.get("metadata") or {}).get("deletionTimestamp") is not None
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and not podutil.is_phase_terminal(phase):
        reason = "Terminating"
    return ready, total, reason, restarts, last


def _pod_ip(status: dict[str, Any]) -> str:
    # The internal type keeps podIPs; converting from v1 fills it from podIP when only that is set.
    ips = status.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else status.get("podIP")) or ""
    return str(ip) or "<none>"


def _readiness_gates(spec: dict[str, Any], status: dict[str, Any]) -> str:
    gates = spec.get("readinessGates") or []
    if not gates:
        return "<none>"
    true = 0
    for gate in gates:
        for c in status.get("conditions") or []:
            if c.get("type") == gate.get("conditionType"):
                true += c.get("status") == "True"
                break
    return f"{true}/{len(gates)}"


def pod_cells(pod: dict[str, Any], now: datetime) -> list[Any]:
    ready, total, reason, restarts, last = pod_summary(pod)
    text = str(restarts)
    if restarts and last is not None:
        text = f"{restarts} ({since(last.isoformat(), now)} ago)"
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    return [
        name_of(pod), f"{ready}/{total}", reason, text, age(pod, now),
        _pod_ip(status), spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>",
        _readiness_gates(spec, status),
    ]


def pod_conditions(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Row conditions kube attaches to finished pods (clients may hide Completed rows)."""
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return []


def printers() -> dict[tuple[str, str], Printer]:
    return {("", "pods"): Printer(_columns(), pod_cells, pod_conditions)}
