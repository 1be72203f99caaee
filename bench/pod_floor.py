"""The floor of issue 3, by hand: the 2-container pod built with `ip netns`, the CNI plugins run
directly, overlayfs mounts and conmon/runc — no pocketkube code on the timed path.

Per pod, timed until both containers run: `ip netns add`; CNI loopback ADD and bridge ADD
(host-local IPAM, no masquerade) with the JSON config on stdin; per container an overlay mount of
the image's unpacked layers, a bundle whose config.json is `runc spec`'s template joined to the
pod's netns, and conmon (which runs `runc create`) followed by `runc start`. Teardown is untimed.
Plain blocking subprocess calls, one after another: the least orchestration a pod can have.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CNI_DIRS = ("/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni")
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def which(name: str, extra: tuple[str, ...] = ()) -> str:
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN, *extra])
    found = shutil.which(name, path=path)
    if found is None:
        raise FileNotFoundError(name)
    return found


class HandBuiltPods:
    def __init__(self, work: Path, lowerdirs: list[str], bridge: str, subnet: str) -> None:
        self.work = work
        self.lowerdirs = lowerdirs  # top layer first
        self.bridge = bridge
        self.subnet = subnet
        self.runc = which("runc")
        self.conmon = which("conmon")
        self.cni_path = [d for d in CNI_DIRS if Path(d, "bridge").exists()]
        self.runc_root = str(work / "runc")
        for sub in ("exits", "socks", "ipam"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        self.template = self._template()

    def _template(self) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([self.runc, "spec"], cwd=tmp, check=True)
            spec: dict[str, Any] = json.loads(Path(tmp, "config.json").read_text())
        spec["process"]["terminal"] = False
        spec["root"] = {"path": "rootfs", "readonly": False}
        return spec

    def _cni(self, command: str, plugin: str, config: dict[str, Any], netns: str, pod: str) -> None:
        env = {**os.environ, "CNI_COMMAND": command, "CNI_CONTAINERID": pod, "CNI_NETNS": netns,
               "CNI_IFNAME": "eth0" if plugin == "bridge" else "lo", "CNI_PATH": os.pathsep.join(self.cni_path)}
        binary = next(str(Path(d, plugin)) for d in self.cni_path)
        done = subprocess.run([binary], input=json.dumps(config).encode(), env=env, capture_output=True)
        if done.returncode != 0 and command == "ADD":
            raise RuntimeError(f"CNI {plugin} {command}: {done.stdout!r} {done.stderr!r}")

    def _bridge_config(self) -> dict[str, Any]:
        return {"cniVersion": "1.0.0", "name": "floor", "type": "bridge", "bridge": self.bridge, "isGateway": True,
                "ipMasq": False, "ipam": {"type": "host-local", "ranges": [[{"subnet": self.subnet}]],
                                          "dataDir": str(self.work / "ipam")}}

    def start(self, pod: str, containers: list[tuple[str, list[str]]], shared: Path, ids: list[str]) -> None:
        """Build the pod; `ids` gets each container's id as soon as there is something to remove."""
        subprocess.run(["ip", "netns", "add", pod], check=True)
        netns = f"/var/run/netns/{pod}"
        self._cni("ADD", "loopback", {"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}, netns, pod)
        self._cni("ADD", "bridge", self._bridge_config(), netns, pod)
        for name, argv in containers:
            cid = f"{pod}-{name}"
            ids.append(cid)
            bundle = self.work / "bundles" / cid
            for sub in ("upper", "work", "rootfs"):
                (bundle / sub).mkdir(parents=True)
            subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir={':'.join(self.lowerdirs)},upperdir={bundle}/upper,workdir={bundle}/work",
                            str(bundle / "rootfs")], check=True)
            spec = copy.deepcopy(self.template)
            spec["process"]["args"] = argv
            spec["hostname"] = pod
            spec["mounts"].append({"destination": "/d", "type": "bind", "source": str(shared),
                                   "options": ["rbind", "rw"]})
            for ns in spec["linux"]["namespaces"]:
                if ns["type"] == "network":
                    ns["path"] = netns
            if not any(ns["type"] == "network" for ns in spec["linux"]["namespaces"]):
                spec["linux"]["namespaces"].append({"type": "network", "path": netns})
            (bundle / "config.json").write_text(json.dumps(spec))
            read_fd, write_fd = os.pipe()
            subprocess.run(
                [self.conmon, "--api-version", "1", "-c", cid, "-u", cid, "-r", self.runc, "-b", str(bundle),
                 "-p", f"{bundle}/pidfile", "-n", cid, "--exit-dir", str(self.work / "exits"),
                 "--socket-dir-path", str(self.work / "socks"), "-l", f"k8s-file:{bundle}/ctr.log",
                 "--log-level", "warning", "--runtime-arg", "--root", "--runtime-arg", self.runc_root,
                 "--conmon-pidfile", f"{bundle}/conmon.pid"],
                cwd=bundle, pass_fds=(write_fd,), env={**os.environ, "_OCI_SYNCPIPE": str(write_fd)},
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, check=True)
            os.close(write_fd)
            data = b""
            with os.fdopen(read_fd, "rb", buffering=0) as sync:
                while b"}" not in data and (chunk := sync.read(4096)):  # conmon keeps the pipe open
                    data += chunk
            message = json.loads(data[: data.find(b"}") + 1] or b"{}")
            if message.get("data", -1) <= 0:
                raise RuntimeError(f"runc create {cid}: {message}")
            subprocess.run([self.runc, "--root", self.runc_root, "start", cid], check=True)

    def stop(self, pod: str, ids: list[str]) -> None:
        """Remove what `start` built, also when it stopped half-way."""
        for cid in ids:
            subprocess.run([self.runc, "--root", self.runc_root, "delete", "--force", cid], capture_output=True)
            bundle = self.work / "bundles" / cid
            with contextlib.suppress(OSError, ValueError):
                _wait_gone(int((bundle / "conmon.pid").read_text() or 0))
            subprocess.run(["umount", str(bundle / "rootfs")], capture_output=True)
            shutil.rmtree(bundle, ignore_errors=True)
        netns = f"/var/run/netns/{pod}"
        if Path(netns).exists():
            self._cni("DEL", "bridge", self._bridge_config(), netns, pod)
            self._cni("DEL", "loopback", {"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}, netns, pod)
            subprocess.run(["ip", "netns", "del", pod], check=True)

    def close(self) -> None:
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def _wait_gone(pid: int) -> None:
    """conmon (a child of PID 1 or of a subreaper, not ours) exits once its container is gone."""
    for _ in range(500):
        try:
            os.kill(pid, 0)
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat[stat.rfind(")") + 2] == "Z":
                return
        except (ProcessLookupError, FileNotFoundError):
            return
        time.sleep(0.01)


def measure(work: Path, lowerdirs: list[str], containers: list[tuple[str, list[str]]], runs: int = 15) -> list[float]:
    """Milliseconds from nothing to every container running, `runs` pods one after another."""
    pods = HandBuiltPods(work, lowerdirs, bridge="pkfloor0", subnet="10.254.199.0/24")
    samples = []
    try:
        for i in range(runs):
            name = f"pkfloor-{os.getpid()}-{i}"
            shared = work / "shared" / name
            shared.mkdir(parents=True)
            ids: list[str] = []
            try:
                started = time.perf_counter()
                pods.start(name, containers, shared, ids)
                samples.append((time.perf_counter() - started) * 1000)
            finally:
                pods.stop(name, ids)
    finally:
        pods.close()
    return samples
