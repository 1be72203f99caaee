"""Runtime: the RuntimeService seam (pod sandboxes and containers) and its implementations.

`OCIRuntime` (oci/service.py) runs real containers through conmon and runc; `FakeRuntime`
(fake.py) is the in-memory double for component tests. Both pass `testing.check_*`.
"""

from pocketkube.runtime.base import (
    REASON_COMPLETED,
    REASON_ERROR,
    REASON_OOM_KILLED,
    REASON_START_ERROR,
    ContainerConfig,
    ContainerNotFoundError,
    ContainerStartError,
    ContainerState,
    ContainerStatus,
    InvalidStateError,
    Mount,
    Resources,
    RuntimeService,
    RuntimeServiceError,
    Sandbox,
    SandboxConfig,
    SandboxNotFoundError,
    SandboxState,
    User,
)

__all__ = [
    "REASON_COMPLETED", "REASON_ERROR", "REASON_OOM_KILLED", "REASON_START_ERROR", "ContainerConfig",
    "ContainerNotFoundError", "ContainerStartError", "ContainerState", "ContainerStatus", "InvalidStateError",
    "Mount", "Resources", "RuntimeService", "RuntimeServiceError", "Sandbox", "SandboxConfig",
    "SandboxNotFoundError", "SandboxState", "User",
]
