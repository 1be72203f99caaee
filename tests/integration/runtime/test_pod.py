"""A real pod: shared network/UTS/IPC namespaces and /dev/shm, CRI logs, cgroup limits, security
settings in the spec, and start latency."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pocketkube.runtime import ContainerState, Mount, Resources, User
from pocketkube.runtime import testing as conformance
from pocketkube.runtime.oci.service import OCIRuntime
from tests.support import requires

CRI_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) (stdout|stderr) (F|P) (.*)$")


def log_messages(path: str) -> list[str]:
    lines = Path(path).read_text().splitlines()
    for line in lines:
        assert CRI_LINE.match(line), f"not a CRI log line: {line!r}"
    return [m.group(4) for m in map(CRI_LINE.match, lines) if m]


async def test_two_containers_share_network_hostname_and_shm(
        make_runtime: Callable[[], OCIRuntime], workloads: conformance.Workloads) -> None:
    rt = make_runtime()
    nsenter, ip = requires.binary("nsenter"), requires.binary("ip")
    sandbox = await rt.run_pod_sandbox(conformance.sandbox_config("web-pod"))
    try:
        # CNI's loopback plugin does this in production; CNI is not this layer's job.
        lo_up = await asyncio.create_subprocess_exec(nsenter, f"--net={sandbox.netns_path}", ip, "link", "set", "lo", "up")
        assert await lo_up.wait() == 0
        server = await rt.create_container(sandbox.id, conformance.container_config(workloads, "server", (
            "sh", "-c", "mkdir -p /tmp/www && echo hello-from-httpd > /tmp/www/index.html && "
                        "echo shared > /dev/shm/token && hostname && exec httpd -f -p 127.0.0.1:8080 -h /tmp/www")))
        client = await rt.create_container(sandbox.id, conformance.container_config(workloads, "client", (
            "sh", "-c", "for i in $(seq 100); do wget -qO- http://127.0.0.1:8080/ && hostname && "
                        "cat /dev/shm/token && exit 0; sleep 0.05; done; exit 1")))
        await rt.start_container(server)
        await rt.start_container(client)
        status = await conformance.wait_exited(rt, client, 10)
        assert (status.exit_code, status.reason) == (0, "Completed"), status
        assert log_messages(status.log_path) == ["hello-from-httpd", "web-pod", "shared"]
        assert (await rt.container_status(server)).state == ContainerState.RUNNING
        assert log_messages((await rt.container_status(server)).log_path) == ["web-pod"]
        await rt.stop_container(server, 2)
        assert (await rt.container_status(server)).state == ContainerState.EXITED
    finally:
        await rt.remove_pod_sandbox(sandbox.id)
    for path in (sandbox.netns_path, sandbox.ipcns_path, sandbox.utsns_path, sandbox.dir):
        assert not os.path.exists(path)
    assert not rt.cgroups.exists(sandbox.cgroup_parent)


async def test_spec_settings_reach_the_process(make_runtime: Callable[[], OCIRuntime],
                                               workloads: conformance.Workloads, tmp_path: Path) -> None:
    rt = make_runtime()
    shared = tmp_path / "data"
    shared.mkdir()
    (shared / "in.txt").write_text("from-host")
    sandbox = await rt.run_pod_sandbox(conformance.sandbox_config("spec-pod"))
    try:
        cid = await rt.create_container(sandbox.id, conformance.container_config(
            workloads, "probe",
            ("sh", "-c", 'id -u; id -g; pwd; echo "$GREETING"; cat /data/in.txt; cat /etc/resolv.conf; '
                         "touch /rootfs-write 2>/dev/null || echo rootfs-ro; "
                         "touch /data/x 2>/dev/null || echo data-ro; grep -c . /proc/self/status >/dev/null"),
            env=(*workloads.env, "GREETING=hi"), working_dir="/tmp", user=User(uid=65534, gid=65534),
            read_only_rootfs=True, mounts=(Mount(str(shared), "/data", readonly=True),)))
        await rt.start_container(cid)
        status = await conformance.wait_exited(rt, cid, 10)
        assert status.exit_code == 0, (status, Path(status.log_path).read_text())
        assert log_messages(status.log_path) == [
            "65534", "65534", "/tmp", "hi", "from-host", "nameserver 127.0.0.1", "rootfs-ro", "data-ro"]
    finally:
        await rt.remove_pod_sandbox(sandbox.id)


async def test_resources_become_cgroup_limits(make_runtime: Callable[[], OCIRuntime],
                                              workloads: conformance.Workloads) -> None:
    rt = make_runtime()
    sandbox = await rt.run_pod_sandbox(conformance.sandbox_config())
    try:
        assert rt.cgroups.exists(sandbox.cgroup_parent)
        cid = await rt.create_container(sandbox.id, conformance.container_config(
            workloads, "limited", workloads.sleep,
            resources=Resources(cpu_request_millis=250, cpu_limit_millis=500, memory_limit_bytes=64 << 20,
                                pids_limit=100)))
        await rt.start_container(cid)
        path = f"{sandbox.cgroup_parent}/{cid}"
        assert rt.cgroups.memory_usage(path) is not None
        if rt.cgroups.version == 2:
            base = rt.cgroups.directories(path)[0]
            assert Path(base, "memory.max").read_text().strip() == str(64 << 20)
            assert Path(base, "cpu.max").read_text().split() == ["50000", "100000"]
            assert Path(base, "pids.max").read_text().strip() == "100"
        else:
            mounts = rt.cgroups.v1_mounts
            rel = path.lstrip("/")
            assert Path(mounts["memory"], rel, "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
            assert Path(mounts["cpu"], rel, "cpu.cfs_quota_us").read_text().strip() == "50000"
            assert Path(mounts["cpu"], rel, "cpu.shares").read_text().strip() == "256"
            assert Path(mounts["pids"], rel, "pids.max").read_text().strip() == "100"
    finally:
        await rt.remove_pod_sandbox(sandbox.id)
    assert not rt.cgroups.exists(sandbox.cgroup_parent)


async def test_start_latency(make_runtime: Callable[[], OCIRuntime], workloads: conformance.Workloads) -> None:
    """conmon → runc create → runc start → running, per container (FACTS: about 47 ms by hand)."""
    rt = make_runtime()
    sandbox = await rt.run_pod_sandbox(conformance.sandbox_config())
    samples = []
    try:
        for i in range(8):
            cid = await rt.create_container(sandbox.id, conformance.container_config(workloads, f"c{i}", workloads.sleep))
            began = time.perf_counter()
            await rt.start_container(cid)
            samples.append(time.perf_counter() - began)
            assert (await rt.container_status(cid)).state == ContainerState.RUNNING
    finally:
        await rt.remove_pod_sandbox(sandbox.id)
    samples.sort()
    print(f"container start: median {samples[len(samples) // 2] * 1000:.1f} ms, max {samples[-1] * 1000:.1f} ms")
    assert samples[len(samples) // 2] < 0.5


AGENT = """
import asyncio, os, signal, sys
from pocketkube.runtime import ContainerConfig, SandboxConfig
from pocketkube.runtime.oci.service import OCIRuntime

async def main():
    run_dir, runc_root, instance, rootfs = sys.argv[1:5]
    rt = OCIRuntime(instance=instance, run_dir=run_dir, runc_root=runc_root)
    sandbox = await rt.run_pod_sandbox(SandboxConfig(name="survivor", namespace="default", uid="u-survivor"))
    cid = await rt.create_container(sandbox.id, ContainerConfig(
        name="c", rootfs=rootfs, args=("sleep", "1000"), env=("PATH=/bin",)))
    await rt.start_container(cid)
    print(sandbox.id, cid, (await rt.container_status(cid)).pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_containers_survive_agent_kill_9(make_runtime: Callable[[], OCIRuntime],
                                               workloads: conformance.Workloads) -> None:
    rt = make_runtime()
    instance = rt.cgroup_base.rsplit("/", 1)[-1]
    agent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", AGENT, rt.state.run_dir, rt.runc.root, instance, workloads.rootfs,
        stdout=asyncio.subprocess.PIPE)
    out, _ = await agent.communicate()
    assert agent.returncode == -9
    sandbox_id, container_id, pid = out.decode().split()
    adopted = make_runtime()
    assert [s.id for s in await adopted.list_pod_sandboxes()] == [sandbox_id]
    status = await adopted.container_status(container_id)
    assert (status.state, status.pid) == (ContainerState.RUNNING, int(pid))
    assert os.path.exists(f"/proc/{pid}")
    await adopted.stop_container(container_id, 0)
    assert (await adopted.container_status(container_id)).exit_code == 137
    await adopted.remove_pod_sandbox(sandbox_id)
    assert await adopted.list_pod_sandboxes() == []
