"""Fixtures for the real runtime: a busybox rootfs, and OCIRuntime instances over a tmp run dir
whose teardown proves nothing is left (runc container, conmon, mount, cgroup, namespace)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pocketkube.runtime import testing as conformance
from pocketkube.runtime.cgroups import detect
from pocketkube.runtime.oci.service import OCIRuntime
from tests.support import requires


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A minimal image: static busybox and a symlink per applet."""
    requires.root()
    busybox = requires.binary("busybox")
    root = tmp_path_factory.mktemp("rootfs")
    os.chmod(root, 0o755)  # mktemp makes 0700; an image root is 0755, or non-root users cannot traverse "/"
    (root / "bin").mkdir()
    shutil.copy(busybox, root / "bin" / "busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    for name in ("etc", "proc", "sys", "dev", "tmp", "root"):
        (root / name).mkdir(exist_ok=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
    os.chmod(root / "tmp", 0o1777)
    return str(root)


@pytest.fixture()
def workloads(rootfs: str, tmp_path: Path) -> conformance.Workloads:
    (tmp_path / "logs").mkdir()
    return conformance.Workloads(
        rootfs=rootfs,
        sleep=("sleep", "1000"),
        exit_with=lambda code: ("sh", "-c", f"exit {code}"),
        trap_term=lambda code: ("sh", "-c", f"trap 'exit {code}' TERM; while true; do sleep 0.05; done"),
        ignore_term=("sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"),
        # tail keeps the whole "line" of /dev/zero in memory: it grows until the limit kills it.
        oom=("tail", "/dev/zero"),
        missing=("/bin/not-in-this-image",),
        log_dir=str(tmp_path / "logs"),
    )


def _leftovers(run_dir: str, runc_root: str, runc: str, cgroup_base: str) -> list[str]:
    found = []
    listing = subprocess.run([runc, "--root", runc_root, "list", "-q"], capture_output=True, text=True).stdout
    found += [f"runc container {c}" for c in listing.split()]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if "conmon" in cmdline and run_dir in cmdline:
            found.append(f"conmon {pid}")
        fields = stat[stat.rfind(")") + 2:].split()
        if "(conmon)" in stat and fields[:2] == ["Z", str(os.getpid())]:
            found.append(f"unreaped conmon {pid}")
    mounts = Path("/proc/self/mountinfo").read_text()
    found += [f"mount {line.split()[4]}" for line in mounts.splitlines() if run_dir in line.split()[4]]
    cgroups = detect()
    found += [f"cgroup {d}" for d in cgroups.directories(cgroup_base) if os.path.isdir(d) and any(
        os.path.isdir(os.path.join(d, e)) for e in os.listdir(d))]
    return found


@pytest.fixture()
def make_runtime(tmp_path: Path) -> Iterator[Callable[[], OCIRuntime]]:
    """OCIRuntime factory; every instance shares one tmp run dir and runc root (re-adoption)."""
    requires.root()
    runc = requires.binary("runc")
    requires.binary("conmon")
    instance = f"test-{uuid.uuid4().hex[:8]}"
    run_dir, runc_root = str(tmp_path / "run"), str(tmp_path / "runc")
    made: list[OCIRuntime] = []

    def make() -> OCIRuntime:
        runtime = OCIRuntime(instance=instance, run_dir=run_dir, runc_root=runc_root)
        made.append(runtime)
        return runtime

    try:
        yield make
    finally:
        base = f"/pocketkube/{instance}"
        leftovers = _leftovers(run_dir, runc_root, runc, base)
        if made:  # force-clean whatever a failed test left, then report it
            import asyncio

            fresh = make()
            for sandbox in asyncio.run(fresh.list_pod_sandboxes()):
                asyncio.run(fresh.remove_pod_sandbox(sandbox.id))
        detect().remove(base)
        assert not leftovers, f"left behind: {leftovers}"
