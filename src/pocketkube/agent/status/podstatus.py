"""The pod's API `status`, generated from what the runtime reports: the kubelet's generateAPIPodStatus.

Container statuses come from the runtime's containers of each spec name, newest first: the newest
gives `state`, `restartCount` (its attempt) and `containerID`; the one before it `lastState`.
`waiting` (the plan's and the worker's reasons: CrashLoopBackOff, ErrImagePull, …) overrides the
state as the kubelet's reason cache does, moving a terminated state into `lastState`. Containers
the runtime has no record of wait with PodInitializing (pods with init containers) or
ContainerCreating, unless the previous API status already saw them terminate.

The phase is kubelet's getPhase over those statuses (sidecars — init containers with
restartPolicy Always — count with the app containers), never going back from Succeeded/Failed.
Conditions and their messages are the kubelet's; lastTransitionTime is kept while a condition's
status does not change.

Termination messages: the worker reads the file behind each exited container's
terminationMessagePath and passes its contents in `termination_messages` (container id → text);
with policy FallbackToLogsOnError and a non-zero exit, an empty message falls back to `log_tail`
(the worker's reader of the last log lines). The runtime's own message (e.g. why a start failed)
comes first, joined with ": " as the kubelet does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pocketkube.agent import labels
from pocketkube.agent.actions import history, is_sidecar, name_of
from pocketkube.api import podutil
from pocketkube.api.meta import rfc3339
from pocketkube.api.obj import Obj
from pocketkube.runtime.base import ContainerState, ContainerStatus, Sandbox, SandboxState, exit_reason

RUNTIME_PREFIX = "pocketkube"
MAX_TERMINATION_MESSAGE = 4096  # bytes, the kubelet's per-container limit
# Defaults for containers the runtime has no record of; as `waiting` entries they never hide one it has.
SOFT_WAITING = ("PodInitializing", "ContainerCreating")
KUBELET_CONDITIONS = ("PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready")

LogTail = Callable[[ContainerStatus], str]


def timestamp(t: float) -> str:
    return rfc3339(datetime.fromtimestamp(t, UTC))


def container_id(cs: ContainerStatus) -> str:
    return f"{RUNTIME_PREFIX}://{cs.id}"


def _truncate(text: str) -> str:
    data = text.encode()
    return data[-MAX_TERMINATION_MESSAGE:].decode(errors="ignore") if len(data) > MAX_TERMINATION_MESSAGE else text


def termination_message(cs: ContainerStatus, file_contents: str | None, log_tail: LogTail | None) -> str:
    """The terminated state's message: runtime message, then the container's own (file or logs)."""
    message = _truncate(file_contents or "")
    fallback = (labels.termination_message_policy(cs.labels) == "FallbackToLogsOnError"
                and cs.exit_code not in (0, None) and cs.started_at > 0)
    if not message and fallback and log_tail is not None:
        message = _truncate(log_tail(cs))
    if cs.message and message:
        return f"{cs.message}: {message}"
    return cs.message or message


def _state(cs: ContainerStatus, messages: Mapping[str, str], log_tail: LogTail | None) -> Obj:
    if cs.state == ContainerState.RUNNING:
        return {"running": {"startedAt": timestamp(cs.started_at)}}
    if cs.state == ContainerState.CREATED:
        return {"waiting": {"reason": "ContainerCreating"}}
    code = cs.exit_code if cs.exit_code is not None else 0
    term: Obj = {"exitCode": code, "reason": cs.reason or exit_reason(code, False)}
    message = termination_message(cs, messages.get(cs.id), log_tail)
    if message:
        term["message"] = message
    term.update(startedAt=timestamp(cs.started_at), finishedAt=timestamp(cs.finished_at),
                containerID=container_id(cs))
    return {"terminated": term}


def _waiting(reason: str, message: str) -> Obj:
    w = {"reason": reason}
    if message:
        w["message"] = message
    return {"waiting": w}


def container_statuses(specs: list[Obj], by_name: Mapping[str, list[ContainerStatus]],
                       old: list[Obj], waiting: Mapping[str, tuple[str, str]], default_reason: str,
                       ready: Mapping[str, bool], messages: Mapping[str, str],
                       log_tail: LogTail | None) -> list[Obj]:
    """convertToAPIContainerStatuses for one list of spec containers, in spec order."""
    olds = {s.get("name"): s for s in old}
    out = []
    for spec in specs:
        name = spec["name"]
        found = by_name.get(name, [])
        prev = olds.get(name) or {}
        if not found:
            if (prev.get("state") or {}).get("terminated") is not None and name not in waiting:
                out.append(prev)  # the runtime forgot it (GC, reboot): keep what was seen
                continue
            reason, message = waiting.get(name, (default_reason, ""))
            status: Obj = {"name": name, "image": spec.get("image", ""), "imageID": "",
                           "ready": False, "started": False, "restartCount": prev.get("restartCount", 0),
                           "state": _waiting(reason, message), "lastState": prev.get("lastState") or {}}
            out.append(status)
            continue
        cs = found[0]
        state = _state(cs, messages, log_tail)
        last: Obj = {}
        if len(found) > 1:
            last = _state(found[1], messages, log_tail)
        elif cs.attempt > 0 and prev.get("containerID") != container_id(cs):
            # The previous attempt is gone from the runtime: its last known end, if we saw one.
            prev_state = prev.get("state") or {}
            last = prev_state if "terminated" in prev_state else prev.get("lastState") or {}
        elif cs.attempt > 0:
            last = prev.get("lastState") or {}
        if name in waiting and "running" not in state and waiting[name][0] not in SOFT_WAITING:
            if "terminated" in state:
                last = state
            state = _waiting(*waiting[name])
        running = "running" in state
        out.append({
            "name": name, "image": labels.image_of(cs.labels) or spec.get("image", ""),
            "imageID": labels.image_id_of(cs.labels), "containerID": container_id(cs),
            "ready": running and ready.get(name, True), "started": running,
            "restartCount": cs.attempt, "state": state, "lastState": last,
        })
    return out


def _by_name(statuses: list[Obj]) -> dict[str, Obj]:
    return {s["name"]: s for s in statuses}


def get_phase(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], pod_is_terminal: bool,
              has_initialized: bool) -> str:
    """kubelet's getPhase."""
    inits, apps = _by_name(init_statuses), _by_name(statuses)
    pending_init = pending_sidecar = failed_init = 0
    unknown = running = waiting = stopped = succeeded = 0
    for c in spec.get("initContainers") or []:
        st = inits.get(c["name"])
        state = (st or {}).get("state") or {}
        last_term = ((st or {}).get("lastState") or {}).get("terminated")
        if is_sidecar(c):
            if st is None:
                unknown += 1
            elif "running" in state:
                pending_sidecar += 0 if st.get("started") else 1
                running += 1
            elif "terminated" in state:
                pass
            elif "waiting" in state and last_term is None:
                pending_sidecar += 1
                waiting += 1
            elif "waiting" not in state:
                pending_sidecar += 1
                unknown += 1
            continue
        if st is None or "running" in state:
            pending_init += 1
        elif "terminated" in state:
            failed_init += state["terminated"].get("exitCode") != 0
        elif "waiting" in state:
            if last_term is not None:
                failed_init += last_term.get("exitCode") != 0
            else:
                pending_init += 1
        else:
            pending_init += 1
    for c in spec.get("containers") or []:
        st = apps.get(c["name"])
        state = (st or {}).get("state") or {}
        if st is None:
            unknown += 1
        elif "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"].get("exitCode") == 0
        elif "waiting" in state:
            if ((st.get("lastState") or {}).get("terminated")) is not None:
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    policy = spec.get("restartPolicy") or "Always"
    if failed_init and policy == "Never":
        return "Failed"
    if pending_init or (pending_sidecar and not has_initialized):
        return "Pending"
    if waiting:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if pod_is_terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _go_list(names: list[str]) -> str:
    return "[" + " ".join(names) + "]"


def _any_app_started(spec: Obj, statuses: list[Obj]) -> bool:
    apps = _by_name(statuses)
    return any({"running", "terminated"} & set((apps.get(c["name"]) or {}).get("state") or {})
               for c in spec.get("containers") or [])


def _initialized(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], phase: str) -> Obj:
    inits = _by_name(init_statuses)
    unknown, incomplete = [], []
    for c in spec.get("initContainers") or []:
        st = inits.get(c["name"])
        if st is None:
            unknown.append(c["name"])
        elif is_sidecar(c):
            if not st.get("started"):
                incomplete.append(c["name"])
        elif ((st.get("state") or {}).get("terminated") or {}).get("exitCode", -1) != 0:
            incomplete.append(c["name"])
    if phase == "Succeeded" and not unknown:
        return {"type": "Initialized", "status": "True", "reason": "PodCompleted"}
    if _any_app_started(spec, statuses):
        return {"type": "Initialized", "status": "True"}
    parts = []
    if unknown:
        parts.append(f"containers with unknown status: {_go_list(unknown)}")
    if incomplete:
        parts.append(f"containers with incomplete status: {_go_list(incomplete)}")
    if parts:
        return {"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized",
                "message": ", ".join(parts)}
    return {"type": "Initialized", "status": "True"}


def _containers_ready(spec: Obj, init_statuses: list[Obj], statuses: list[Obj], phase: str,
                      ctype: str) -> Obj:
    inits, apps = _by_name(init_statuses), _by_name(statuses)
    unknown, unready = [], []
    pairs = [(c, inits) for c in spec.get("initContainers") or [] if is_sidecar(c)]
    pairs += [(c, apps) for c in spec.get("containers") or []]
    for c, table in pairs:
        st = table.get(c["name"])
        if st is None:
            unknown.append(c["name"])
        elif not st.get("ready"):
            unready.append(c["name"])
    if phase == "Succeeded" and not unknown:
        return {"type": ctype, "status": "False", "reason": "PodCompleted"}
    if phase == "Failed":
        return {"type": ctype, "status": "False", "reason": "PodFailed"}
    parts = []
    if unknown:
        parts.append(f"containers with unknown status: {_go_list(unknown)}")
    if unready:
        parts.append(f"containers with unready status: {_go_list(unready)}")
    if parts:
        return {"type": ctype, "status": "False", "reason": "ContainersNotReady", "message": ", ".join(parts)}
    return {"type": ctype, "status": "True"}


def _ready(spec: Obj, containers_ready: Obj, conditions: list[Obj]) -> Obj:
    if containers_ready["status"] != "True":
        return {**containers_ready, "type": "Ready"}
    by_type = {c.get("type"): c for c in conditions}
    messages = []
    for gate in spec.get("readinessGates") or []:
        ctype = gate.get("conditionType")
        cond = by_type.get(ctype)
        if cond is None:
            messages.append(f'corresponding condition of pod readiness gate "{ctype}" does not exist.')
        elif cond.get("status") != "True":
            messages.append(f'the status of pod readiness gate "{ctype}" is not "True", but {cond.get("status")}')
    if messages:
        return {"type": "Ready", "status": "False", "reason": "ReadinessGatesNotReady",
                "message": ", ".join(messages)}
    return {"type": "Ready", "status": "True"}


def _stamp(cond: Obj, old: Mapping[str, Obj], now: str) -> Obj:
    prev = old.get(cond["type"])
    same = prev is not None and prev.get("status") == cond["status"]
    return {**cond, "lastProbeTime": None,
            "lastTransitionTime": prev.get("lastTransitionTime") if same and prev else now}


def generate_pod_status(pod: dict[str, Any], sandbox: Sandbox | None, containers: list[ContainerStatus],
                        waiting: Mapping[str, tuple[str, str]], pod_ips: list[str], host_ip: str, now: float,
                        *, ready: Mapping[str, bool] | None = None,
                        termination_messages: Mapping[str, str] | None = None,
                        log_tail: LogTail | None = None, pod_is_terminal: bool | None = None) -> dict[str, Any]:
    """The whole API `status` of `pod` (fields the kubelet does not own are carried over).

    `pod_is_terminal`: the worker has finished killing the pod (deleted or terminal); None infers
    it as "being deleted and nothing runs any more"."""
    spec = pod.get("spec") or {}
    old: Obj = dict(pod.get("status") or {})
    by_name = history(containers)
    inits = list(spec.get("initContainers") or [])
    default_reason = "PodInitializing" if inits else "ContainerCreating"
    def convert(specs: list[Obj], old_key: str) -> list[Obj]:
        return container_statuses(specs, by_name, old.get(old_key) or [], waiting, default_reason,
                                  ready or {}, termination_messages or {}, log_tail)

    init_statuses = convert(inits, "initContainerStatuses")
    statuses = convert(list(spec.get("containers") or []), "containerStatuses")
    if pod_is_terminal is None:
        deleting = (pod.get("metadata") or {}).get("deletionTimestamp") is not None
        pod_is_terminal = deleting and not any(c.state == ContainerState.RUNNING for c in containers)
    # HasAnyActiveRegularContainerStarted: only this sandbox's containers prove initialization.
    has_initialized = any(
        c.state in (ContainerState.RUNNING, ContainerState.EXITED)
        and (sandbox is None or c.sandbox_id == sandbox.id)
        and labels.container_type(pod, name_of(c)) == "regular"
        for c in containers)
    phase = get_phase(spec, init_statuses, statuses, pod_is_terminal, has_initialized)
    if podutil.is_phase_terminal(old.get("phase")):
        phase = old["phase"]  # a terminal phase is final

    stamp = timestamp(now)
    old_conds = {c.get("type"): c for c in old.get("conditions") or []}
    sandbox_ready = sandbox is not None and sandbox.state == SandboxState.READY
    networked = bool(pod_ips) or bool(spec.get("hostNetwork"))
    containers_ready = _containers_ready(spec, init_statuses, statuses, phase, "ContainersReady")
    own = [
        {"type": "PodReadyToStartContainers", "status": "True" if sandbox_ready and networked else "False"},
        _initialized(spec, init_statuses, statuses, phase),
        _ready(spec, containers_ready, list(old.get("conditions") or [])),
        containers_ready,
    ]
    conditions = [c for c in old.get("conditions") or [] if c.get("type") not in KUBELET_CONDITIONS]
    conditions += [_stamp(c, old_conds, stamp) for c in own]
    conditions.append(old_conds.get("PodScheduled")
                      or _stamp({"type": "PodScheduled", "status": "True"}, old_conds, stamp))

    status: Obj = {k: v for k, v in old.items() if k not in ("initContainerStatuses", "containerStatuses")}
    status.update(phase=phase, conditions=conditions, hostIP=host_ip, hostIPs=[{"ip": host_ip}],
                  startTime=old.get("startTime") or stamp)
    ips = pod_ips or [p.get("ip") for p in old.get("podIPs") or [] if p.get("ip")]
    if ips:
        status.update(podIP=ips[0], podIPs=[{"ip": ip} for ip in ips])
    if inits:
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = statuses
    ephemeral = list(spec.get("ephemeralContainers") or [])
    if ephemeral:
        status["ephemeralContainerStatuses"] = convert(ephemeral, "ephemeralContainerStatuses")
    return status
