"""What the agent must do to a pod next: the kubelet's computePodActions, as a pure plan.

Inputs are the pod as the API has it, the pod's newest sandbox, every runtime container the pod
has (all attempts, all sandboxes, newest found by `created_at`), the backoff book and the time.
The output is a `PodActions` the pod worker executes in this order:

1. `kill_pod`: stop every running container — `kill_stages` one stage after the other, each stage's
   containers together (app containers first, then sidecars one by one in reverse spec order, as
   KEP-753 orders termination), all within `grace_period` seconds — then stop sandbox `sandbox_id`.
   Without `create_sandbox` the pod is done: start nothing (it is deleted or terminal).
2. `create_sandbox` (attempt `sandbox_attempt`), removing `init_to_purge` (init containers of
   older sandboxes, so initialization runs again in the new one).
3. `containers_to_kill` not covered by kill_pod (spec changed, not in the spec): stop them.
4. `ephemeral_to_start`, then `init_to_start` in order (a failed start of a regular init container
   aborts the rest; sidecars don't block), then `containers_to_start`; each created with the
   restart count `attempts[name]`. For every name in `restarts`, call
   `backoff.next(restarts[name], now)` when starting it (`record_restarts` does just that).
5. Re-sync no later than `next_wakeup`, when a CrashLoopBackOff ends.

`waiting` holds the waiting reasons the status must show (CrashLoopBackOff with the kubelet's
message; PodInitializing / ContainerCreating for containers that have no runtime container yet).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pocketkube.agent import labels
from pocketkube.agent.backoff import Backoff, BackoffKey, go_duration
from pocketkube.api import podutil
from pocketkube.api.meta import parse_time
from pocketkube.runtime.base import ContainerState, ContainerStatus, Sandbox, SandboxState

DEFAULT_GRACE_PERIOD = 30


@dataclass
class PodActions:
    kill_pod: bool = False
    create_sandbox: bool = False
    sandbox_id: str = ""  # the existing sandbox ("" when none)
    sandbox_attempt: int = 0
    grace_period: int = DEFAULT_GRACE_PERIOD
    kill_stages: list[list[str]] = field(default_factory=list)  # container ids, with kill_pod
    containers_to_kill: dict[str, str] = field(default_factory=dict)  # container id → why
    init_to_purge: list[str] = field(default_factory=list)  # container ids to remove
    ephemeral_to_start: list[str] = field(default_factory=list)
    init_to_start: list[str] = field(default_factory=list)
    containers_to_start: list[str] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)  # name → restart count to create with
    restarts: dict[str, BackoffKey] = field(default_factory=dict)
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (reason, message)
    next_wakeup: float | None = None


def record_restarts(backoff: Backoff, actions: PodActions, started: list[str], now: float) -> None:
    """Advance the backoff of each container in `started` that the plan marked as a restart."""
    for name in started:
        key = actions.restarts.get(name)
        if key is not None:
            backoff.next(key, now)


def restore_backoff(backoff: Backoff, containers: list[ContainerStatus]) -> None:
    """After an agent restart: rebuild each container's backoff from its newest runtime container."""
    for name, found in history(containers).items():
        cs = found[0]
        uid = labels.pod_uid(cs.labels)
        if uid:
            backoff.restore((uid, name, labels.hash_of(cs.labels)), cs.attempt, cs.created_at)


def name_of(cs: ContainerStatus) -> str:
    return labels.container_name(cs.labels) or cs.name


def history(containers: list[ContainerStatus]) -> dict[str, list[ContainerStatus]]:
    """Runtime containers by spec name, newest first."""
    out: dict[str, list[ContainerStatus]] = {}
    for cs in sorted(containers, key=lambda c: (c.created_at, c.attempt), reverse=True):
        out.setdefault(name_of(cs), []).append(cs)
    return out


def pod_ref(pod: Mapping[str, Any]) -> str:
    """The kubelet's format.Pod: NAME_NAMESPACE(UID)."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name', '')}_{meta.get('namespace', 'default')}({meta.get('uid', '')})"


def is_sidecar(container: Mapping[str, Any]) -> bool:
    return container.get("restartPolicy") == "Always"


def termination_grace_period(pod: Mapping[str, Any]) -> int:
    """The kubelet's effective grace period: the API server's deletionGracePeriodSeconds when set,
    else spec.terminationGracePeriodSeconds (default 30); never below 1."""
    deletion = (pod.get("metadata") or {}).get("deletionGracePeriodSeconds")
    grace = deletion if isinstance(deletion, int) and deletion > 0 else None
    if grace is None:
        spec_grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        grace = spec_grace if isinstance(spec_grace, int) else DEFAULT_GRACE_PERIOD
    return max(grace, 1)


def remaining_grace_period(pod: Mapping[str, Any], now: float) -> int:
    """The grace period a kill started at `now` may still use: a pod that is being deleted has until
    its deletionTimestamp (= deletion time + grace), so an agent that re-adopts it late (restarted
    meanwhile) gives it only what is left, never a fresh full period; never below 1 s."""
    grace = termination_grace_period(pod)
    stamp = (pod.get("metadata") or {}).get("deletionTimestamp")
    if not stamp:
        return grace
    try:
        deadline = parse_time(str(stamp)).timestamp()
    except ValueError:
        return grace
    # RFC 3339 stamps have whole seconds: round up, so a kill that starts at once keeps the full period.
    return max(1, min(grace, math.ceil(deadline - now)))


def _restart_policy(pod: Mapping[str, Any]) -> str:
    return str((pod.get("spec") or {}).get("restartPolicy") or "Always")


def _should_restart(pod: Mapping[str, Any], latest: ContainerStatus | None) -> bool:
    """ShouldContainerBeRestarted for a container that is not running."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    if latest is None or latest.state == ContainerState.CREATED:
        return True
    if latest.state == ContainerState.RUNNING:
        return False
    policy = _restart_policy(pod)
    if policy == "Never":
        return False
    return not (policy == "OnFailure" and latest.exit_code == 0)


def _kill_stages(pod: Mapping[str, Any], running: list[ContainerStatus]) -> list[list[str]]:
    sidecar_order = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []
                     if is_sidecar(c)]
    first = [cs.id for cs in running if name_of(cs) not in sidecar_order]
    stages = [first] if first else []
    for name in reversed(sidecar_order):
        ids = [cs.id for cs in running if name_of(cs) == name]
        if ids:
            stages.append(ids)
    return stages


class _Planner:
    def __init__(self, pod: Mapping[str, Any], sandbox: Sandbox | None, containers: list[ContainerStatus],
                 backoff: Backoff, now: float) -> None:
        self.pod, self.sandbox, self.backoff, self.now = pod, sandbox, backoff, now
        self.spec = pod.get("spec") or {}
        self.uid = str((pod.get("metadata") or {}).get("uid") or "")
        self.containers = containers
        self.by_name = history(containers)
        self.inits: list[dict[str, Any]] = list(self.spec.get("initContainers") or [])
        self.apps: list[dict[str, Any]] = list(self.spec.get("containers") or [])
        self.actions = PodActions(sandbox_id=sandbox.id if sandbox else "")

    def latest(self, name: str) -> ContainerStatus | None:
        found = self.by_name.get(name)
        return found[0] if found else None

    def latest_init(self, name: str) -> ContainerStatus | None:
        """Init progress counts only in the current sandbox (the kubelet purges older ones)."""
        for cs in self.by_name.get(name, []):
            if self.sandbox is None or cs.sandbox_id == self.sandbox.id:
                return cs
        return None

    def running(self) -> list[ContainerStatus]:
        return [cs for cs in self.containers if cs.state == ContainerState.RUNNING]

    def kill_pod(self, why: str) -> None:
        a = self.actions
        a.kill_pod = True
        a.init_to_start, a.containers_to_start, a.ephemeral_to_start = [], [], []
        running = self.running()
        a.kill_stages = _kill_stages(self.pod, running)
        for cs in running:
            a.containers_to_kill.setdefault(cs.id, f"{why}: stopping container {name_of(cs)}")

    # ---- the plan ----

    def plan(self) -> PodActions:
        a = self.actions
        meta = self.pod.get("metadata") or {}
        if meta.get("deletionTimestamp") or podutil.is_phase_terminal((self.pod.get("status") or {}).get("phase")):
            a.grace_period = remaining_grace_period(self.pod, self.now)
            self.kill_pod("pod is being deleted" if meta.get("deletionTimestamp") else "pod is terminal")
            return a
        a.grace_period = termination_grace_period(self.pod)
        if self.sandbox_changed():
            self.plan_new_sandbox()
        else:
            self.plan_ephemeral()
            initialized = self.plan_init()
            if not a.kill_pod and initialized:
                self.plan_apps()
            self.kill_unknown()
        self.apply_backoff()
        self.default_waiting()
        return a

    def sandbox_changed(self) -> bool:
        sb = self.sandbox
        if sb is None:
            self.actions.sandbox_attempt = 0
            return True
        attempt = labels.sandbox_attempt(sb.config.labels)
        if sb.state != SandboxState.READY:
            self.actions.sandbox_attempt = attempt + 1
            return True
        self.actions.sandbox_attempt = attempt
        return False

    def plan_new_sandbox(self) -> None:
        a = self.actions
        if _restart_policy(self.pod) == "Never" and a.sandbox_attempt != 0 and self.containers:
            # The pod ran once and must not run again: clean up, don't recreate.
            self.kill_pod("sandbox is gone")
            return
        to_start = [c["name"] for c in self.apps
                    if not (_restart_policy(self.pod) == "OnFailure" and self._succeeded(c["name"]))]
        if not to_start and any(c["name"] in self.by_name for c in self.apps):
            self.kill_pod("all containers completed")
            return
        if self.sandbox is not None or self.running():
            self.kill_pod("sandbox changed")
        a.create_sandbox = True
        a.init_to_purge = [cs.id for c in self.inits for cs in self.by_name.get(c["name"], [])
                           if cs.state != ContainerState.RUNNING]
        if self.inits:
            a.init_to_start = [self.inits[0]["name"]]
        else:
            a.containers_to_start = to_start

    def _succeeded(self, name: str) -> bool:
        latest = self.latest(name)
        return latest is not None and latest.state == ContainerState.EXITED and latest.exit_code == 0

    def plan_ephemeral(self) -> None:
        for c in self.spec.get("ephemeralContainers") or []:
            if c.get("name") not in self.by_name:
                self.actions.ephemeral_to_start.append(c["name"])

    def plan_init(self) -> bool:
        """computeInitContainerActions: True once initialization is done."""
        if not self.inits:
            return True
        a = self.actions
        initialized = any(
            (cs := self.latest(c["name"])) is not None
            and cs.state in (ContainerState.CREATED, ContainerState.RUNNING)
            and (self.sandbox is None or cs.sandbox_id == self.sandbox.id)
            for c in self.apps)
        previously = initialized
        restart_on_failure = _restart_policy(self.pod) != "Never"
        starts: list[int] = []  # collected last → first, reversed at the end
        last = len(self.inits) - 1
        for i in range(last, -1, -1):
            c = self.inits[i]
            sidecar = is_sidecar(c)
            cs = self.latest_init(c["name"])
            if cs is None:
                if previously and sidecar:
                    starts.append(i)
                continue
            if previously and not sidecar:
                continue
            if cs.state == ContainerState.CREATED:
                starts.append(i)
            elif cs.state == ContainerState.RUNNING:
                if sidecar:
                    if i == last:
                        initialized = True
                    elif not previously:
                        starts.append(i + 1)
                    if labels.hash_of(cs.labels) not in ("", labels.spec_hash(c)):
                        a.containers_to_kill[cs.id] = f"Init container {c['name']} definition changed"
                        starts.append(i)
            else:  # EXITED
                if sidecar:
                    starts.append(i)
                elif cs.exit_code != 0:
                    if not restart_on_failure:
                        self.kill_pod("init container failed")
                        return False
                    starts.append(i)
                elif i == last:
                    initialized = True
                else:
                    starts.append(i + 1)
            previously = True
        if not previously:
            starts.append(0)
        a.init_to_start = [self.inits[i]["name"] for i in reversed(starts)]
        return initialized

    def plan_apps(self) -> None:
        a = self.actions
        keep = 0
        for c in self.apps:
            name = c["name"]
            cs = self.latest(name)
            if cs is None or cs.state != ContainerState.RUNNING:
                if _should_restart(self.pod, cs):
                    a.containers_to_start.append(name)
                continue
            if labels.hash_of(cs.labels) not in ("", labels.spec_hash(c)):
                # A changed spec restarts the container whatever the restart policy.
                a.containers_to_kill[cs.id] = f"Container {name} definition changed, will be restarted"
                a.containers_to_start.append(name)
                continue
            keep += 1
        if keep == 0 and not a.containers_to_start:
            # Everything finished and nothing restarts: the pod is terminal; sidecars go too.
            self.kill_pod("all containers completed")

    def kill_unknown(self) -> None:
        known = {c.get("name") for c in self.inits + self.apps}
        known |= {c.get("name") for c in self.spec.get("ephemeralContainers") or []}
        for cs in self.running():
            if name_of(cs) not in known:
                self.actions.containers_to_kill.setdefault(
                    cs.id, f"Container {name_of(cs)} is not in the pod spec")

    def apply_backoff(self) -> None:
        """doBackOff for every container about to start again after an exit."""
        a = self.actions
        specs = {c["name"]: c for c in self.inits + self.apps}
        kept_init: list[str] = []
        for name in a.init_to_start:
            if not self._may_start(name, specs[name]):
                if is_sidecar(specs[name]):
                    continue
                break  # a regular init container blocks everything after it
            kept_init.append(name)
        a.init_to_start = kept_init
        a.containers_to_start = [n for n in a.containers_to_start if self._may_start(n, specs[n])]
        for name in a.init_to_start + a.containers_to_start + a.ephemeral_to_start:
            latest = self.latest(name)
            a.attempts[name] = latest.attempt + 1 if latest is not None else 0

    def _may_start(self, name: str, spec: Mapping[str, Any]) -> bool:
        exited = next((cs for cs in self.by_name.get(name, []) if cs.state == ContainerState.EXITED), None)
        if exited is None:
            return True
        key: BackoffKey = (self.uid, name, labels.spec_hash(spec))
        if self.backoff.in_backoff(key, exited.finished_at, self.now):
            delay = self.backoff.get(key)
            self.actions.waiting[name] = (
                "CrashLoopBackOff",
                f"back-off {go_duration(delay)} restarting failed container={name} pod={pod_ref(self.pod)}")
            end = exited.finished_at + delay
            wake = self.actions.next_wakeup
            self.actions.next_wakeup = end if wake is None else min(wake, end)
            return False
        self.actions.restarts[name] = key
        return True

    def default_waiting(self) -> None:
        reason = "PodInitializing" if self.inits else "ContainerCreating"
        for c in self.inits + self.apps:
            if c["name"] not in self.by_name:
                self.actions.waiting.setdefault(c["name"], (reason, ""))


def compute_pod_actions(pod: dict[str, Any], sandbox: Sandbox | None, containers: list[ContainerStatus],
                        backoff: Backoff, now: float) -> PodActions:
    """The plan for one sync of `pod`; reads `backoff` but never changes it."""
    return _Planner(pod, sandbox, containers, backoff, now).plan()
