"""OCIRuntime: the real RuntimeService (handlers → state → OCI wrapper → conmon → runc).

- A sandbox is namespaces (namespaces.py), a shm tmpfs, three /etc files and a pod cgroup parent
  (cgroups.py); no pause process.
- `create_container` only writes the OCI bundle (spec.py) and the record. `start_container` runs
  conmon (which runs `runc create`) and then `runc start`, as containerd defers task creation to
  start: a missing executable therefore surfaces as StartError, exit code 128.
- Exit codes come from conmon's exit files; OOM kills from the container's memory cgroup counters
  (or conmon's `oom` file), read once when the exit is first seen and kept in the record, because
  `runc delete` removes the cgroup.
- Re-adoption: a new instance loads every record from the run dir. A container recorded RUNNING
  is exited once its exit file appears; if both it and its conmon vanished without one, it is
  reported exited with code 255 and a message saying the code was lost.
"""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import replace

from pocketkube import process
from pocketkube.runtime import namespaces
from pocketkube.runtime.base import (
    REASON_ERROR,
    REASON_START_ERROR,
    START_ERROR_EXIT_CODE,
    ContainerConfig,
    ContainerNotFoundError,
    ContainerStartError,
    ContainerState,
    ContainerStatus,
    InvalidStateError,
    RuntimeServiceError,
    Sandbox,
    SandboxConfig,
    SandboxNotFoundError,
    SandboxState,
    exit_reason,
)
from pocketkube.runtime.cgroups import Cgroups, detect
from pocketkube.runtime.oci import conmon, reaper
from pocketkube.runtime.oci.devices import host_devices
from pocketkube.runtime.oci.runc import DEFAULT_RUNC_ROOT, Runc, RuncError, runc_message
from pocketkube.runtime.oci.spec import build_spec
from pocketkube.runtime.oci.state import ContainerRecord, StateStore, write_json_atomic

EXIT_POLL_S = 0.01
KILL_WAIT_S = 10.0
LOST_EXIT_CODE = 255


def find_binary(name: str) -> str:
    """`name` on PATH, then the sbin and libexec dirs (`process.which`)."""
    found = process.which(name)
    if not found:
        raise RuntimeServiceError(f"{name} not found on PATH or in the sbin/libexec dirs")
    return found


class OCIRuntime:
    def __init__(
        self,
        *,
        instance: str = "default",
        run_dir: str | None = None,
        runc_root: str = DEFAULT_RUNC_ROOT,
        runc_binary: str | None = None,
        conmon_binary: str | None = None,
        cgroups: Cgroups | None = None,
        cgroup_root: str = "/pocketkube",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = StateStore(run_dir or f"/run/pocketkube/{instance}")
        self.runc = Runc(runc_binary or find_binary("runc"), runc_root)
        self.conmon_binary = conmon_binary or find_binary("conmon")
        self.cgroups = cgroups or detect()
        self.cgroup_base = f"/{cgroup_root.strip('/')}/{instance}"
        self.clock = clock
        self.nofile_hard_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if self.nofile_hard_limit == resource.RLIM_INFINITY:
            self.nofile_hard_limit = 1 << 20
        self.last_start_seconds = 0.0
        reaper.become_subreaper()
        self._sandboxes = {s.id: s for s in self.state.load_sandboxes()}
        self._containers = {r.id: r for r in self.state.load_containers()}
        self._locks: dict[str, asyncio.Lock] = {}
        # conmon writes the exit file a moment before it exits itself: monitors of exited
        # containers are reaped on later calls (and waited for on remove), never left as zombies.
        self._unreaped: set[int] = set()

    # ---- sandboxes -------------------------------------------------------------------------

    async def run_pod_sandbox(self, config: SandboxConfig) -> Sandbox:
        sandbox_id = secrets.token_hex(16)
        directory = self.state.sandbox_dir(sandbox_id)
        os.makedirs(directory, mode=0o711)
        sandbox = Sandbox(
            id=sandbox_id, config=config, state=SandboxState.READY, created_at=self.clock(),
            netns_path=os.path.join(directory, "netns"), ipcns_path=os.path.join(directory, "ipcns"),
            utsns_path=os.path.join(directory, "utsns"),
            cgroup_parent=f"{self.cgroup_base}/{config.effective_cgroup_parent}", dir=directory,
            hostname_path=os.path.join(directory, "hostname"),
            hosts_path=os.path.join(directory, "hosts") if config.hosts is not None else None,
            resolv_conf_path=os.path.join(directory, "resolv.conf") if config.resolv_conf is not None else None,
            shm_path=os.path.join(directory, "shm"),
        )
        try:
            await namespaces.create_pod_namespaces(
                sandbox.netns_path, sandbox.ipcns_path, sandbox.utsns_path, config.effective_hostname)
            os.mkdir(sandbox.shm_path)
            namespaces.mount_tmpfs(sandbox.shm_path, config.shm_size)
            _write_sandbox_files(sandbox)
            self.cgroups.create(sandbox.cgroup_parent)
            self.state.save_sandbox(sandbox)
        except BaseException:
            self._destroy_sandbox(sandbox)
            raise
        self._sandboxes[sandbox_id] = sandbox
        return sandbox

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandbox(sandbox_id)
        await asyncio.gather(*(self.stop_container(r.id, 0) for r in self._records_of(sandbox_id)))
        if sandbox.state != SandboxState.NOTREADY:
            sandbox = replace(sandbox, state=SandboxState.NOTREADY)
            self.state.save_sandbox(sandbox)
            self._sandboxes[sandbox_id] = sandbox

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return
        for record in self._records_of(sandbox_id):
            await self.remove_container(record.id)
        self._destroy_sandbox(sandbox)
        self._sandboxes.pop(sandbox_id, None)

    async def pod_sandbox_status(self, sandbox_id: str) -> Sandbox:
        return self._sandbox(sandbox_id)

    async def release_if_idle(self) -> bool:
        """With no sandbox and no container left, remove this instance's run dir and cgroup
        parent (an agent shutting down with nothing running leaves nothing behind)."""
        if self._sandboxes or self._containers:
            return False
        self.cgroups.remove(self.cgroup_base)
        shutil.rmtree(self.state.run_dir, ignore_errors=True)
        return True

    async def list_pod_sandboxes(self) -> list[Sandbox]:
        return sorted(self._sandboxes.values(), key=lambda s: s.created_at)

    def _destroy_sandbox(self, sandbox: Sandbox) -> None:
        namespaces.remove_pod_namespaces(sandbox.netns_path, sandbox.ipcns_path, sandbox.utsns_path)
        namespaces.unmount(sandbox.shm_path)
        self.cgroups.remove(sandbox.cgroup_parent)
        self.state.delete_sandbox(sandbox.id)

    def _sandbox(self, sandbox_id: str) -> Sandbox:
        try:
            return self._sandboxes[sandbox_id]
        except KeyError:
            raise SandboxNotFoundError(f"pod sandbox {sandbox_id!r} not found") from None

    # ---- containers ------------------------------------------------------------------------

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        sandbox = self._sandbox(sandbox_id)
        if sandbox.state != SandboxState.READY:
            raise InvalidStateError(f"pod sandbox {sandbox_id!r} is not ready")
        if not os.path.isdir(config.rootfs):
            raise RuntimeServiceError(f"rootfs {config.rootfs!r} is not a directory")
        container_id = secrets.token_hex(16)
        bundle = self.state.bundle_dir(container_id)
        os.makedirs(bundle, mode=0o700)
        if not config.log_path:
            config = replace(config, log_path=os.path.join(bundle, "container.log"))
        cgroups_path = f"{sandbox.cgroup_parent}/{container_id}"
        spec = build_spec(config, sandbox, container_id=container_id, cgroups_path=cgroups_path,
                          cgroup_namespace=self.cgroups.version == 2, nofile_hard_limit=self.nofile_hard_limit,
                          host_devices=host_devices() if config.privileged else ())
        write_json_atomic(os.path.join(bundle, "config.json"), spec)
        record = ContainerRecord(id=container_id, sandbox_id=sandbox_id, config=config,
                                 state=ContainerState.CREATED, created_at=self.clock(), cgroups_path=cgroups_path)
        self.state.save_container(record)
        self._containers[container_id] = record
        return container_id

    async def start_container(self, container_id: str) -> None:
        async with self._lock(container_id):
            record = self._record(container_id)
            if record.state != ContainerState.CREATED:
                raise InvalidStateError(f"container {container_id!r} is {record.state}, not created")
            config = record.config
            os.makedirs(os.path.dirname(config.log_path) or "/", exist_ok=True)
            paths = conmon.ConmonPaths(bundle=self.state.bundle_dir(container_id), exit_dir=self.state.exit_dir,
                                       socket_dir=self.state.socket_dir, log_path=config.log_path)
            args = conmon.conmon_args(self.conmon_binary, self.runc.binary, self.runc.root, container_id, paths,
                                      terminal=config.terminal, stdin=config.stdin, stdin_once=config.stdin_once)
            began = time.perf_counter()
            try:
                record.pid = await conmon.start_conmon(args, paths.bundle)
                record.conmon_pid = conmon.read_pidfile(paths.conmon_pidfile)
                await self.runc.start(container_id)
            except (TimeoutError, conmon.ConmonError, RuncError, OSError) as err:
                message = err.message if isinstance(err, RuncError) else runc_message(str(err))
                await self._start_failed(record, message)
                raise ContainerStartError(message) from err
            self.last_start_seconds = time.perf_counter() - began
            record.state = ContainerState.RUNNING
            record.started_at = self.clock()
            self.state.save_container(record)

    async def _start_failed(self, record: ContainerRecord, message: str) -> None:
        try:
            await self.runc.delete(record.id)
        except RuncError:
            pass
        reaper.reap(record.conmon_pid)
        reaper.reap_zombie_monitors()
        record.state, record.exit_code = ContainerState.EXITED, START_ERROR_EXIT_CODE
        record.reason, record.message = REASON_START_ERROR, message
        record.started_at = record.finished_at = self.clock()
        self.state.save_container(record)

    async def stop_container(self, container_id: str, timeout: float) -> None:
        async with self._lock(container_id):
            record = self._record(container_id)
            self._refresh(record)
            if record.state != ContainerState.RUNNING:
                return
            if timeout > 0:
                await self.runc.kill(container_id, "TERM")
                if await self._wait_exit(record, timeout):
                    return
            await self.runc.kill(container_id, "KILL")
            if not await self._wait_exit(record, KILL_WAIT_S):
                raise RuntimeServiceError(f"container {container_id!r} did not exit after SIGKILL")

    async def _wait_exit(self, record: ContainerRecord, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            self._refresh(record)
            if record.state == ContainerState.EXITED:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(EXIT_POLL_S)

    async def remove_container(self, container_id: str) -> None:
        record = self._containers.get(container_id)
        if record is None:
            return
        if record.state == ContainerState.RUNNING:
            await self.stop_container(container_id, 0)
        async with self._lock(container_id):
            if record.state != ContainerState.CREATED or record.conmon_pid:
                await self.runc.delete(container_id)
            await self._reap_monitor(record.conmon_pid)
            self.cgroups.remove(record.cgroups_path)
            self.state.delete_container(container_id)
            self._containers.pop(container_id, None)
            self._locks.pop(container_id, None)

    async def container_status(self, container_id: str) -> ContainerStatus:
        self._reap_pending()
        record = self._record(container_id)
        self._refresh(record)
        return _status(record)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        self._reap_pending()
        records = [r for r in self._containers.values() if sandbox_id is None or r.sandbox_id == sandbox_id]
        for record in records:
            self._refresh(record)
        return [_status(r) for r in sorted(records, key=lambda r: r.created_at)]

    def _refresh(self, record: ContainerRecord) -> None:
        """Move a RUNNING record to EXITED once its exit is known (exit file, or both gone)."""
        if record.state != ContainerState.RUNNING:
            return
        exited = self.state.read_exit_code(record.id)
        if exited is None and not reaper.alive(record.pid) and not reaper.alive(record.conmon_pid):
            # conmon writes the exit file before it exits: look again in case it just did.
            exited = self.state.read_exit_code(record.id)
        if exited is not None:
            code, when = exited
            oom = self.cgroups.oom_kills(record.cgroups_path) > 0 or \
                os.path.exists(os.path.join(self.state.bundle_dir(record.id), "oom"))
            record.exit_code, record.finished_at, record.reason = code, when, exit_reason(code, oom)
        elif not reaper.alive(record.pid) and not reaper.alive(record.conmon_pid):
            # No exit file although conmon is gone: it died (was killed) before the container.
            record.exit_code, record.finished_at, record.reason = LOST_EXIT_CODE, self.clock(), REASON_ERROR
            record.message = "the container and its monitor exited without recording an exit code"
        else:
            return
        record.state = ContainerState.EXITED
        if not reaper.reap(record.conmon_pid):
            self._unreaped.add(record.conmon_pid)
        self.state.save_container(record)

    def _reap_pending(self) -> None:
        self._unreaped = {pid for pid in self._unreaped if not reaper.reap(pid)}

    async def _reap_monitor(self, pid: int, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        while not reaper.reap(pid):
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.005)  # a zombie cannot be awaited without a pidfd: poll briefly
        self._unreaped.discard(pid)

    def _records_of(self, sandbox_id: str) -> list[ContainerRecord]:
        return [r for r in self._containers.values() if r.sandbox_id == sandbox_id]

    def _record(self, container_id: str) -> ContainerRecord:
        try:
            return self._containers[container_id]
        except KeyError:
            raise ContainerNotFoundError(f"container {container_id!r} not found") from None

    def _lock(self, container_id: str) -> asyncio.Lock:
        return self._locks.setdefault(container_id, asyncio.Lock())


def _write_sandbox_files(sandbox: Sandbox) -> None:
    config = sandbox.config
    for path, content in ((sandbox.hostname_path, config.effective_hostname + "\n"),
                          (sandbox.hosts_path, config.hosts), (sandbox.resolv_conf_path, config.resolv_conf)):
        if path is not None and content is not None:
            with open(path, "w") as f:
                f.write(content)
            os.chmod(path, 0o644)


def _status(record: ContainerRecord) -> ContainerStatus:
    return ContainerStatus(
        id=record.id, sandbox_id=record.sandbox_id, name=record.config.name, state=record.state,
        created_at=record.created_at, started_at=record.started_at, finished_at=record.finished_at,
        pid=record.pid if record.state == ContainerState.RUNNING else 0, exit_code=record.exit_code,
        reason=record.reason, message=record.message, log_path=record.config.log_path,
        attempt=record.config.attempt, labels=dict(record.config.labels),
        annotations=dict(record.config.annotations),
    )
