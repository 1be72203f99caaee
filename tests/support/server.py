"""Start a real `pocketkube server` process for tests and benchmarks, and talk to it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

KUBECTL_DIR = Path("/usr/lib/google-cloud-sdk/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kubectl_binary(version: str = "") -> str:
    """kubectl 1.NN from the SDK directory, or the default kubectl on PATH."""
    if version:
        path = KUBECTL_DIR / f"kubectl.{version}"
        if path.exists():
            return str(path)
        raise FileNotFoundError(f"kubectl {version} not found at {path}")
    found = shutil.which("kubectl")
    if not found:
        raise FileNotFoundError("kubectl not found on PATH")
    return found


@dataclass
class AgentOptions:
    """A node agent inside the server, on its own bridge and pod range (tests run side by side)."""

    bridge: str
    pod_cidr: str
    kubelet_port: int = field(default_factory=free_port)
    node_name: str = ""

    def args(self) -> list[str]:
        cluster = self.pod_cidr.rsplit(".", 2)[0] + ".0.0/16"
        args = ["--bridge", self.bridge, "--pod-cidr", self.pod_cidr, "--cluster-cidr", cluster,
                "--kubelet-port", str(self.kubelet_port)]
        return args + (["--node-name", self.node_name] if self.node_name else [])


@dataclass
class ServerProcess:
    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    agent: AgentOptions | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> float:
        """Start and wait until /readyz answers; returns seconds to ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "server.log"
        log = open(self.log_path, "ab")
        started = time.monotonic()
        agent_args = self.agent.args() if self.agent else ["--no-agent"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pocketkube.cli.main", "server", "--data-dir", str(self.data_dir),
             "--listen", f"127.0.0.1:{self.port}", *agent_args],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.logs()}")
            if self.ready():
                return time.monotonic() - started
            time.sleep(0.02)
        raise TimeoutError(f"server not ready after {timeout}s:\n{self.logs()}")

    def ready(self) -> bool:
        ca = self.data_dir / "pki" / "ca.crt"
        if not ca.exists() or not self.kubeconfig.exists():
            return False
        ctx = ssl.create_default_context(cafile=str(ca))
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", context=ctx, timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def wait_for_node(self, timeout: float = 20.0) -> None:
        """Until an agent has registered a Node (the in-process one, or one started beside it)."""
        deadline = time.monotonic() + timeout
        while not self.kubectl("get", "nodes", "-o", "name", check=False).stdout.strip():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no node registered after {timeout}s:\n{self.logs()}")
            time.sleep(0.1)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def kill(self) -> None:
        """kill -9, as a crash."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def kubectl(self, *args: str, version: str = "", input: str | None = None, check: bool = True,
                env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [kubectl_binary(version), "--kubeconfig", str(self.kubeconfig), *args]
        full_env = {**os.environ, "HOME": str(self.data_dir), **(env or {})}
        result = subprocess.run(cmd, input=input, capture_output=True, text=True, env=full_env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result


def client_ssl_context(data_dir: Path) -> ssl.SSLContext:
    pki = data_dir / "pki"
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return ctx


def raw_request(server: ServerProcess, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json", authenticated: bool = True,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One HTTPS request with the admin client certificate (or none); returns (status, body)."""
    import http.client

    ctx = client_ssl_context(server.data_dir) if authenticated else ssl.create_default_context(
        cafile=str(server.data_dir / "pki" / "ca.crt"))
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": content_type, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def import_busybox(data_dir: Path) -> str:
    """Build the busybox image into a data dir's image store; returns its reference."""
    data_dir.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([sys.executable, "-m", "pocketkube.cli.main", "image", "busybox", "--data-dir",
                          str(data_dir)], capture_output=True, text=True, check=True).stdout
    return out.split()[0]
