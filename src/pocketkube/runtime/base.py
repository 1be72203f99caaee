"""The RuntimeService seam: pod sandboxes and their containers, shaped like the CRI.

Everything here is plain data plus one `typing.Protocol`. The kubelet resolves a pod spec into a
`SandboxConfig` and one `ContainerConfig` per container (final argv, env, mounts, user, limits);
the runtime only realises them. Two implementations exist: `oci.service.OCIRuntime` (namespaces,
cgroups, conmon, runc) and `fake.FakeRuntime`; both pass `testing.check_*`.

Times are UNIX seconds (float); 0.0 means "not yet". A container's life:
CREATED (bundle written) → RUNNING (conmon + runc start done) → EXITED (exit code known).
A start that fails leaves the container EXITED with reason "StartError" and exit code 128, as
containerd reports it, and `start_container` raises `ContainerStartError`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class RuntimeServiceError(Exception):
    """Base of every error a RuntimeService raises."""


class SandboxNotFoundError(RuntimeServiceError):
    pass


class ContainerNotFoundError(RuntimeServiceError):
    pass


class InvalidStateError(RuntimeServiceError):
    """The operation does not fit the object's state (start a running container, create in a
    stopped sandbox)."""


class ContainerStartError(RuntimeServiceError):
    """The container could not be started; its status says StartError with this message."""


class SandboxState(enum.StrEnum):
    READY = "ready"
    NOTREADY = "notready"


class ContainerState(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"


# Termination reasons, in the kubelet's words (ContainerStateTerminated.reason).
REASON_COMPLETED = "Completed"
REASON_ERROR = "Error"
REASON_OOM_KILLED = "OOMKilled"
REASON_START_ERROR = "StartError"

# Exit code the runtime reports for a container that never started (as containerd does).
START_ERROR_EXIT_CODE = 128


@dataclass(frozen=True)
class SandboxConfig:
    """A pod's shared environment. `cgroup_parent` is a name relative to the runtime's own cgroup
    (default `pod<uid>`); `hosts`/`resolv_conf` are file contents (None: no such file)."""

    name: str
    namespace: str
    uid: str
    hostname: str = ""  # "" → the pod name
    cgroup_parent: str = ""  # "" → f"pod{uid}"
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    hosts: str | None = None
    resolv_conf: str | None = None
    sysctls: dict[str, str] = field(default_factory=dict)
    shm_size: int = 64 * 1024 * 1024

    @property
    def effective_hostname(self) -> str:
        return self.hostname or self.name

    @property
    def effective_cgroup_parent(self) -> str:
        return self.cgroup_parent or f"pod{self.uid.replace('-', '_')}"


@dataclass(frozen=True)
class Sandbox:
    """A running (READY) or stopped (NOTREADY) sandbox and where its pieces live on the host.

    The files behind `hosts_path`/`resolv_conf_path` are bind-mounted into every container:
    rewrite them in place (never rename over them) to change what containers see."""

    id: str
    config: SandboxConfig
    state: SandboxState
    created_at: float
    netns_path: str
    ipcns_path: str
    utsns_path: str
    cgroup_parent: str  # absolute cgroup path, e.g. /pocketkube/default/pod1234
    dir: str
    hostname_path: str
    hosts_path: str | None
    resolv_conf_path: str | None
    shm_path: str


@dataclass(frozen=True)
class Mount:
    host_path: str
    container_path: str
    readonly: bool = False
    propagation: str = "private"  # private | rslave | rshared (Kubernetes None/HostToContainer/Bidirectional)


@dataclass(frozen=True)
class User:
    uid: int = 0
    gid: int = 0
    supplemental_gids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Resources:
    """Resolved limits. cpu in millicores; 0/None means unset."""

    cpu_request_millis: int = 0
    cpu_limit_millis: int = 0
    memory_limit_bytes: int = 0
    pids_limit: int | None = None
    oom_score_adj: int | None = None


@dataclass(frozen=True)
class ContainerConfig:
    """A container exactly as the kubelet resolved it; the runtime adds nothing but defaults."""

    name: str
    rootfs: str
    args: tuple[str, ...]
    env: tuple[str, ...] = ()  # "KEY=VALUE"
    working_dir: str = "/"
    mounts: tuple[Mount, ...] = ()
    user: User = User()
    privileged: bool = False
    allow_privilege_escalation: bool = True  # Kubernetes default; False → noNewPrivileges
    capabilities_add: tuple[str, ...] = ()
    capabilities_drop: tuple[str, ...] = ()
    read_only_rootfs: bool = False
    resources: Resources = Resources()
    log_path: str = ""
    terminal: bool = False
    stdin: bool = False
    stdin_once: bool = False
    attempt: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerStatus:
    id: str
    sandbox_id: str
    name: str
    state: ContainerState
    created_at: float
    started_at: float = 0.0
    finished_at: float = 0.0
    pid: int = 0
    exit_code: int | None = None
    reason: str = ""
    message: str = ""
    log_path: str = ""
    attempt: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def exit_reason(exit_code: int, oom_killed: bool) -> str:
    """The kubelet's termination reason for an exit code (OOM wins over the code)."""
    if oom_killed:
        return REASON_OOM_KILLED
    return REASON_COMPLETED if exit_code == 0 else REASON_ERROR


@runtime_checkable
class RuntimeService(Protocol):
    """CRI-like sandbox and container lifecycle. Removes are idempotent (unknown id: no error);
    other calls on an unknown id raise SandboxNotFoundError / ContainerNotFoundError."""

    async def run_pod_sandbox(self, config: SandboxConfig) -> Sandbox: ...

    async def stop_pod_sandbox(self, sandbox_id: str) -> None: ...

    async def remove_pod_sandbox(self, sandbox_id: str) -> None: ...

    async def pod_sandbox_status(self, sandbox_id: str) -> Sandbox: ...

    async def list_pod_sandboxes(self) -> list[Sandbox]: ...

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...

    async def start_container(self, container_id: str) -> None: ...

    async def stop_container(self, container_id: str, timeout: float) -> None: ...

    async def remove_container(self, container_id: str) -> None: ...

    async def container_status(self, container_id: str) -> ContainerStatus: ...

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]: ...
