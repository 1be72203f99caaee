"""One pod sync: cache → plan → execute → status, as the kubelet's SyncPod.

The pod is the newest the agent knows (the informer's, or the one its own last status write
returned); the runtime view comes from the PLEG's cache. `compute_pod_actions` plans; the
executor carries the plan out; if it changed anything, one relist (shared with other workers)
brings the view the status is generated from. So a sync lists the runtime at most once, and not
at all when there was nothing to do. A pod gone from the API is torn down and its worker ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from pocketkube.agent.actions import PodActions, compute_pod_actions, name_of, pod_ref, record_restarts
from pocketkube.agent.backoff import Backoff
from pocketkube.agent.executor import PodExecutor, PodState, VolumeError
from pocketkube.agent.pleg import Pleg, PodRuntime
from pocketkube.agent.pod_workers import FINISHED
from pocketkube.agent.status import StatusManager, generate_pod_status
from pocketkube.api import meta, podutil
from pocketkube.api.obj import Obj
from pocketkube.client.events import EventRecorder
from pocketkube.clock import REAL_CLOCK, Clock
from pocketkube.runtime.base import ContainerState, SandboxState

RETRY_FAILED_START = 2.0  # a config error (missing ConfigMap…) is retried this soon


class PodSync:
    def __init__(self, pod_of: Callable[[str], Obj | None], pleg: Pleg, executor: PodExecutor,
                 status: StatusManager, recorder: EventRecorder, node_ip: str, clock: Clock = REAL_CLOCK) -> None:
        self.pod_of = pod_of
        self.pleg = pleg
        self.executor = executor
        self.status = status
        self.recorder = recorder
        self.node_ip = node_ip
        self.clock = clock
        self.backoff = Backoff()
        self._state: dict[str, PodState] = {}

    async def sync(self, uid: str) -> float | None:
        found = self.pod_of(uid)
        view = self.pleg.get(uid)
        if found is None:
            # Gone from the API (deleted, force-deleted, or while the agent was away): clean up.
            await self._teardown(uid, view, grace=0)
            return FINISHED
        pod = self.status.latest(found)
        state = self._state.setdefault(uid, PodState())
        now = self.clock.now()
        actions = compute_pod_actions(pod, view.sandbox, list(view.containers), self.backoff, now)
        if actions.kill_pod:
            await self.executor.kill(pod, actions, view)
            if not actions.create_sandbox:
                return await self._finish(pod, uid, state, view, actions)
        for name, (reason, _message) in actions.waiting.items():
            if reason == "CrashLoopBackOff":
                self.recorder.event(pod, "Warning", "BackOff",
                                    f"Back-off restarting failed container {name} in pod {pod_ref(pod)}")
        started: list[str] = []
        state.failures = {}
        try:
            started = await self.executor.execute(pod, state, actions, view)
        except VolumeError as exc:
            self.recorder.event(pod, "Warning", "FailedMount", str(exc))
            state.failures = {c["name"]: ("ContainerCreating", "") for c in (pod["spec"].get("containers") or [])}
        finally:
            record_restarts(self.backoff, actions, started, now)
        if _acts(actions):
            view = await self.pleg.fresh(uid)
        await self._write_status(pod, view, actions, state, started)
        removed = await self.executor.collect_garbage(view)
        self.pleg.forget_containers(uid, removed)
        if not actions.kill_pod and podutil.is_pod_terminal(self.status.latest(found)):
            return 0.0  # this write ended the pod: kill what is left (sidecars) and release its IP now
        if state.failures:
            return RETRY_FAILED_START
        return max(0.0, actions.next_wakeup - self.clock.now()) if actions.next_wakeup else None

    async def _write_status(self, pod: Obj, view: PodRuntime, actions: PodActions, state: PodState,
                            started: list[str]) -> None:
        waiting = {k: v for k, v in actions.waiting.items() if k not in started}
        waiting.update(state.failures)
        messages = {}
        for cs in view.containers:
            if cs.state == ContainerState.EXITED:
                path = self.executor.starter.termination_log(pod["metadata"]["uid"], name_of(cs), cs.attempt)
                with contextlib.suppress(OSError):
                    messages[cs.id] = path.read_text(errors="replace")
        status = generate_pod_status(pod, view.sandbox, list(view.containers), waiting, state.ips, self.node_ip,
                                     self.clock.now(), termination_messages=messages)
        await self.status.set_status(pod, status)

    async def _finish(self, pod: Obj, uid: str, state: PodState, view: PodRuntime,
                      actions: PodActions) -> float | None:
        """The pod is killed: a deleted pod is torn down and removed; a finished one keeps its logs."""
        sandbox = view.sandbox
        if actions.kill_stages or (sandbox is not None and sandbox.state == SandboxState.READY):
            view = await self.pleg.fresh(uid)
        if meta.is_being_deleted(pod):
            await self._write_status(pod, view, PodActions(), state, [])
            await self._teardown(uid, view, grace=0)
            await self.status.delete_terminated(pod)
            return FINISHED
        # Succeeded or Failed: release the IP (kubelet does), keep containers for `kubectl logs`.
        for sandbox in view.sandboxes:
            await self.executor.release_network(sandbox)
        await self._write_status(pod, view, PodActions(), state, [])
        return None

    async def _teardown(self, uid: str, view: PodRuntime, grace: int) -> None:
        await self.executor.teardown(uid, view, grace)
        self.pleg.forget_pod(uid)
        self._state.pop(uid, None)
        self.backoff.forget_pod(uid)
        self.status.forget(uid)


def _acts(actions: PodActions) -> bool:
    """Whether executing `actions` changes the runtime (so the status needs a fresh view)."""
    return bool(actions.create_sandbox or actions.containers_to_kill or actions.ephemeral_to_start
                or actions.init_to_start or actions.containers_to_start)
