"""A pocketkube server with its node agent, for the pod end-to-end tests, and helpers to drive it."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import AgentOptions, ServerProcess, import_busybox

_COUNTER = iter(range(1, 200))


def require_container_stack() -> None:
    from tests.integration.conftest import require_binary, require_cni_plugin, require_root

    require_root()
    require_binary("runc")
    require_binary("conmon")
    require_binary("busybox")
    require_cni_plugin("bridge")


def node_server(tmp: Path) -> Iterator[ServerProcess]:
    """Start a server with an agent on a bridge and /24 of its own; tear every pod down after."""
    require_container_stack()
    n = next(_COUNTER)
    data = tmp / "server"
    import_busybox(data)
    server = ServerProcess(data, agent=AgentOptions(bridge=f"pke{n}x{int(time.time()) % 1000}",
                                                    pod_cidr=f"10.253.{n}.0/24"))
    server.start()
    wait_until(lambda: bool(server.kubectl("get", "nodes", "-o", "name", check=False).stdout.strip()), 20)
    try:
        yield server
    finally:
        cleanup(server)


def cleanup(server: ServerProcess) -> None:
    """Delete every pod through the API and wait for the agent to finish them, then stop."""
    try:
        if server.proc is not None and server.proc.poll() is None:
            server.kubectl("delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--wait=false",
                           check=False)
            wait_until(lambda: not server.kubectl("get", "pods", "-A", "-o", "name", check=False).stdout.strip(),
                       60, fail=False)
    finally:
        server.stop()
        if server.agent is not None:
            subprocess.run(["ip", "link", "del", server.agent.bridge], capture_output=True, check=False)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2, fail: bool = True) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    if fail:
        pytest.fail(f"condition not met within {timeout}s")
    return False


def apply(server: ServerProcess, obj: dict[str, Any]) -> None:
    server.kubectl("apply", "-f", "-", input=json.dumps(obj))


def pod_json(server: ServerProcess, name: str, namespace: str = "default") -> dict[str, Any]:
    out = server.kubectl("get", "pod", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(out.stdout) if out.returncode == 0 else {}


def status_column(server: ServerProcess, name: str) -> str:
    out = server.kubectl("get", "pod", name, "--no-headers", check=False).stdout.split()
    return out[2] if len(out) > 2 else ""


def pod(name: str, *containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": list(containers), **spec}}


def busybox(name: str, *command: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.35", "command": list(command), **extra}
