"""FakeRuntime: an in-memory RuntimeService for component tests (it passes testing.check_*).

Containers run no processes; their argv picks a behaviour, so the same conformance suite drives
the fake and the real runtime (see testing.Workloads):

    ("fake-exit", "N")        exits with N as soon as it starts
    ("fake-trap-term", "N")   runs; exits with N on SIGTERM
    ("fake-ignore-term",)     runs; ignores SIGTERM (as a shell without a trap, being PID 1)
    ("fake-oom",)             is OOM-killed right after it starts (137, OOMKilled)
    ("fake-missing",)         cannot start: StartError, exit code 128
    anything else             runs; exits with 143 on SIGTERM

Tests can also end a running container with `exit_container(id, code, oom=False)`. State lives in
a `FakeHost`; a second FakeRuntime over the same host models an agent restart (re-adoption).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pocketkube.runtime.base import (
    REASON_START_ERROR,
    START_ERROR_EXIT_CODE,
    ContainerConfig,
    ContainerNotFoundError,
    ContainerStartError,
    ContainerState,
    ContainerStatus,
    InvalidStateError,
    Sandbox,
    SandboxConfig,
    SandboxNotFoundError,
    SandboxState,
    exit_reason,
)

SIGTERM_EXIT = 143
SIGKILL_EXIT = 137


@dataclass
class FakeHost:
    """What survives a fake agent restart: the 'kernel' state of sandboxes and containers."""

    sandboxes: dict[str, Sandbox] = field(default_factory=dict)
    containers: dict[str, ContainerStatus] = field(default_factory=dict)
    configs: dict[str, ContainerConfig] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    pids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    # Where sandbox files (hostname, hosts, resolv.conf) are written; None: paths only, no files.
    root: Path | None = None


class FakeRuntime:
    def __init__(self, host: FakeHost | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.host = host or FakeHost()
        self.clock = clock
        self.sleep = sleep  # a grace period is waited out with this (a fake clock's sleep in tests)
        self.calls: list[tuple[str, str]] = []  # (method, id) for tests that assert on the plan executed

    # ---- sandboxes ----

    async def run_pod_sandbox(self, config: SandboxConfig) -> Sandbox:
        sandbox_id = f"sandbox-{next(self.host.ids)}"
        base = f"{self.host.root}/{sandbox_id}" if self.host.root is not None else f"/run/fake/{sandbox_id}"
        sandbox = Sandbox(
            id=sandbox_id, config=config, state=SandboxState.READY, created_at=self.clock(),
            netns_path=f"{base}/netns", ipcns_path=f"{base}/ipcns", utsns_path=f"{base}/utsns",
            cgroup_parent=f"/pocketkube/fake/{config.effective_cgroup_parent}", dir=base,
            hostname_path=f"{base}/hostname",
            hosts_path=f"{base}/hosts" if config.hosts is not None else None,
            resolv_conf_path=f"{base}/resolv.conf" if config.resolv_conf is not None else None,
            shm_path=f"{base}/shm",
        )
        if self.host.root is not None:
            os.makedirs(base)
            Path(sandbox.hostname_path).write_text(config.effective_hostname + "\n")
            for path, text in ((sandbox.hosts_path, config.hosts), (sandbox.resolv_conf_path, config.resolv_conf)):
                if path is not None and text is not None:
                    Path(path).write_text(text)
        self.host.sandboxes[sandbox_id] = sandbox
        self.calls.append(("run_pod_sandbox", sandbox_id))
        return sandbox

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandbox(sandbox_id)
        for status in list(self.host.containers.values()):
            if status.sandbox_id == sandbox_id:
                await self.stop_container(status.id, 0)
        self.host.sandboxes[sandbox_id] = replace(sandbox, state=SandboxState.NOTREADY)
        self.calls.append(("stop_pod_sandbox", sandbox_id))

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        if sandbox_id not in self.host.sandboxes:
            return
        for status in list(self.host.containers.values()):
            if status.sandbox_id == sandbox_id:
                await self.remove_container(status.id)
        if self.host.root is not None:
            shutil.rmtree(self.host.sandboxes[sandbox_id].dir, ignore_errors=True)
        del self.host.sandboxes[sandbox_id]
        self.calls.append(("remove_pod_sandbox", sandbox_id))

    async def pod_sandbox_status(self, sandbox_id: str) -> Sandbox:
        return self._sandbox(sandbox_id)

    async def list_pod_sandboxes(self) -> list[Sandbox]:
        return sorted(self.host.sandboxes.values(), key=lambda s: s.created_at)

    # ---- containers ----

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        sandbox = self._sandbox(sandbox_id)
        if sandbox.state != SandboxState.READY:
            raise InvalidStateError(f"pod sandbox {sandbox_id!r} is not ready")
        container_id = f"container-{next(self.host.ids)}"
        self.host.configs[container_id] = config
        self.host.containers[container_id] = ContainerStatus(
            id=container_id, sandbox_id=sandbox_id, name=config.name, state=ContainerState.CREATED,
            created_at=self.clock(), log_path=config.log_path, attempt=config.attempt,
            labels=dict(config.labels), annotations=dict(config.annotations))
        self.calls.append(("create_container", container_id))
        return container_id

    async def start_container(self, container_id: str) -> None:
        status = self._status(container_id)
        if status.state != ContainerState.CREATED:
            raise InvalidStateError(f"container {container_id!r} is {status.state}, not created")
        self.calls.append(("start_container", container_id))
        argv = self.host.configs[container_id].args
        now = self.clock()
        if argv[:1] == ("fake-missing",):
            message = f'exec: "{argv[0]}": executable file not found in $PATH'
            self.host.containers[container_id] = replace(
                status, state=ContainerState.EXITED, started_at=now, finished_at=now,
                exit_code=START_ERROR_EXIT_CODE, reason=REASON_START_ERROR, message=message)
            raise ContainerStartError(message)
        self.host.containers[container_id] = replace(
            status, state=ContainerState.RUNNING, started_at=now, pid=next(self.host.pids))
        if argv[:1] == ("fake-exit",):
            self.exit_container(container_id, int(argv[1]))
        elif argv[:1] == ("fake-oom",):
            self.exit_container(container_id, SIGKILL_EXIT, oom=True)

    def exit_container(self, container_id: str, exit_code: int, oom: bool = False) -> None:
        """Test control: the running container's process exits now."""
        status = self._status(container_id)
        if status.state != ContainerState.RUNNING:
            raise InvalidStateError(f"container {container_id!r} is not running")
        self.host.containers[container_id] = replace(
            status, state=ContainerState.EXITED, pid=0, exit_code=exit_code, finished_at=self.clock(),
            reason=exit_reason(exit_code, oom))

    async def stop_container(self, container_id: str, timeout: float) -> None:
        status = self._status(container_id)
        if status.state != ContainerState.RUNNING:
            return
        self.calls.append(("stop_container", container_id))
        argv = self.host.configs[container_id].args
        if timeout > 0:
            if argv[:1] == ("fake-trap-term",):
                self.exit_container(container_id, int(argv[1]))
                return
            if argv[:1] != ("fake-ignore-term",):
                self.exit_container(container_id, SIGTERM_EXIT)
                return
            await self.sleep(timeout)
        if self._status(container_id).state == ContainerState.RUNNING:
            self.exit_container(container_id, SIGKILL_EXIT)

    async def remove_container(self, container_id: str) -> None:
        if container_id not in self.host.containers:
            return
        await self.stop_container(container_id, 0)
        del self.host.containers[container_id]
        del self.host.configs[container_id]
        self.calls.append(("remove_container", container_id))

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._status(container_id)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        return sorted((s for s in self.host.containers.values() if sandbox_id is None or s.sandbox_id == sandbox_id),
                      key=lambda s: s.created_at)

    def _sandbox(self, sandbox_id: str) -> Sandbox:
        try:
            return self.host.sandboxes[sandbox_id]
        except KeyError:
            raise SandboxNotFoundError(f"pod sandbox {sandbox_id!r} not found") from None

    def _status(self, container_id: str) -> ContainerStatus:
        try:
            return self.host.containers[container_id]
        except KeyError:
            raise ContainerNotFoundError(f"container {container_id!r} not found") from None
