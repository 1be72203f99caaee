"""A pocketkube server with its node agent, for the pod end-to-end tests, and helpers to drive it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pocketkube.agent.main import AgentConfig
from tests.support import requires
from tests.support.server import AgentOptions, ServerProcess, free_port, import_busybox
from tests.support.wait import until_sync

RUNC_ROOT = "/run/pocketkube/runc"

_COUNTER = iter(range(1, 200))


def require_container_stack() -> None:
    requires.root()
    requires.binary("runc")
    requires.binary("conmon")
    requires.binary("busybox")
    requires.cni_plugin("bridge")


def node_server(tmp: Path) -> Iterator[ServerProcess]:
    """Start a server with an agent on a bridge and /24 of its own; tear every pod down after."""
    require_container_stack()
    n = next(_COUNTER)
    data = tmp / "server"
    import_busybox(data)
    server = ServerProcess(data, agent=AgentOptions(bridge=f"pke{n}x{int(time.time()) % 1000}",
                                                    pod_cidr=f"10.253.{n}.0/24"))
    server.start()
    server.wait_for_node()
    try:
        yield server
    finally:
        cleanup(server)


def agent_instance(server: ServerProcess) -> str:
    """The runtime instance name of a server's in-process agent (as `pocketkube server` derives it)."""
    import socket

    assert server.agent is not None
    node = server.agent.node_name or socket.gethostname().lower().split(".")[0]
    return AgentConfig(node_name=node, data_dir=server.data_dir.absolute()).instance


def cleanup(server: ServerProcess) -> None:
    """Delete every pod through the API and wait until the agent has torn all of them down on the
    host (a pod deleted at once — finished, or grace 0 — leaves the API before its sandbox goes),
    then stop. Anything still left fails the test, after being removed so the next run is clean."""
    instance = agent_instance(server) if server.agent is not None else ""
    left: list[str] = []
    try:
        if server.proc is not None and server.proc.poll() is None:
            server.kubectl("delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--wait=false",
                           check=False)
            with contextlib.suppress(AssertionError):  # what is left is judged below
                until_sync(lambda: not server.kubectl("get", "pods", "-A", "-o", "name", check=False).stdout.strip(),
                           60)
            if instance:
                with contextlib.suppress(AssertionError):
                    until_sync(lambda: not host_leftovers(server.data_dir, instance), 60)
                left = host_leftovers(server.data_dir, instance)
    finally:
        server.stop()
        if server.agent is not None:
            if left:
                force_clean(instance, server.data_dir)
            subprocess.run(["ip", "link", "del", server.agent.bridge], capture_output=True, check=False)
    if left:
        pytest.fail(f"the agent left {len(left)} things on the host: {left[:8]}")


def force_clean(instance: str, data_dir: Path) -> None:
    """Remove what an agent left behind: its runc containers and every mount under its dirs."""
    run_dir = f"/run/pocketkube/{instance}/"
    listing = subprocess.run(["runc", "--root", RUNC_ROOT, "list", "--format", "json"], capture_output=True,
                             text=True).stdout
    for c in json.loads(listing or "null") or []:
        if run_dir in c.get("bundle", ""):
            subprocess.run(["runc", "--root", RUNC_ROOT, "delete", "--force", c["id"]], capture_output=True)
    data = str(data_dir.resolve())
    targets = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
               if line.split()[1].startswith((data, run_dir))]
    for target in sorted(targets, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True)


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


# -- a second node: `pocketkube agent` in its own process ----------------------------------------------


@dataclass
class AgentProcess:
    """A `pocketkube agent` next to a server: its own data dir, node name, bridge, /24 and kubelet port."""

    data_dir: Path
    kubeconfig: Path
    node_name: str
    bridge: str
    pod_cidr: str
    cluster_cidr: str
    kubelet_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "agent.log"

    @property
    def instance(self) -> str:
        return AgentConfig(node_name=self.node_name, data_dir=self.data_dir.absolute()).instance

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pocketkube.cli.main", "agent", "--kubeconfig", str(self.kubeconfig),
                 "--data-dir", str(self.data_dir), "--node-name", self.node_name, "--bridge", self.bridge,
                 "--pod-cidr", self.pod_cidr, "--cluster-cidr", self.cluster_cidr,
                 "--kubelet-port", str(self.kubelet_port)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def agent_process(server: ServerProcess, data_dir: Path, node_name: str) -> Iterator[AgentProcess]:
    """A second node agent against `server` (from `node_server`), Ready before it is yielded.

    It takes the next /24 after the server's inside the server's cluster CIDR and a bridge of its own,
    and has busybox imported. After the yield: every pod is deleted and both agents have finished
    them (the pods are gone from the API), then the agent stops and its bridge is removed; the
    server itself is left to its own harness.
    """
    assert server.agent is not None, "the server must run its own agent (node_server)"
    import_busybox(data_dir)
    octets = server.agent.pod_cidr.split("/")[0].split(".")
    pod_cidr = f"{octets[0]}.{octets[1]}.{(int(octets[2]) + 100) % 256}.0/24"
    agent = AgentProcess(data_dir, server.kubeconfig, node_name, bridge=f"{server.agent.bridge[:12]}b2",
                         pod_cidr=pod_cidr, cluster_cidr=f"{octets[0]}.{octets[1]}.0.0/16")
    agent.start()

    def node_ready() -> bool:
        if agent.proc is not None and agent.proc.poll() is not None:
            pytest.fail(f"pocketkube agent exited with {agent.proc.returncode}:\n{agent.logs()}")
        out = server.kubectl("get", "node", node_name, "-o",
                             "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False)
        return out.stdout.strip() == "True"

    try:
        until_sync(node_ready, 30)
        yield agent
    finally:
        try:
            if server.proc is not None and server.proc.poll() is None:
                server.kubectl("delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--wait=false",
                               check=False)
                with contextlib.suppress(AssertionError):  # best effort: the agent stops next
                    until_sync(lambda: not server.kubectl("get", "pods", "-A", "-o", "name",
                                                          check=False).stdout.strip(), 60)
        finally:
            agent.stop()
            subprocess.run(["ip", "link", "del", agent.bridge], capture_output=True, check=False)


def host_leftovers(data_dir: Path, instance: str, bridge: str | None = None) -> list[str]:
    """Everything of one agent's pods still on the host: runc containers, conmon, mounts, veths."""
    found = []
    run_dir = f"/run/pocketkube/{instance}/"
    listing = subprocess.run(["runc", "--root", RUNC_ROOT, "list", "--format", "json"], capture_output=True,
                             text=True).stdout
    for c in json.loads(listing or "null") or []:
        if run_dir in c.get("bundle", ""):
            found.append(f"runc container {c['id']} ({c.get('status')})")
    data = str(data_dir.resolve())
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "conmon" in cmdline.split(" ")[0] and (data in cmdline or run_dir in cmdline):
            found.append(f"conmon {pid}")
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1]
        if target.startswith(data) or target.startswith(run_dir):
            found.append(f"mount {target}")
    if bridge is not None:
        veths = subprocess.run(["ip", "-o", "link", "show", "master", bridge], capture_output=True,
                               text=True).stdout.strip()
        found += [f"link {line.split(':')[1].strip()}" for line in veths.splitlines() if line]
    return found
