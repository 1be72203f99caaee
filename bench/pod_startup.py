"""Pod start-up figures on this machine (issue 3).

(a) the floor: the same 2-container pod (busybox httpd + a client looping on localhost, shared
    emptyDir) built by hand with `ip netns`, the CNI plugins, overlayfs and conmon/runc
    (bench/pod_floor.py) — no pocketkube code; and (a') the same through pocketkube's own runtime,
    CNI and snapshot layers, still without the API;
(b) pocketkube: create through the API until Ready, p50/p99 over 30 pods one by one;
(c) a burst of 100 single-container pods created at once, until all are Ready;
(d) per-pod memory outside the workload (PSS of conmon) and the server's RSS with 100 pods;
(e) `podman kube play` of the same YAML, when podman is installed.
Bars: (b) p50 ≤ 1.5× floor (a) and ≤ 220 ms, p99 ≤ 500 ms; (c) ≤ 15 s; (d) ≤ 1.0 MiB PSS per pod.
Needs root, runc, conmon, CNI plugins and busybox-static.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import AgentOptions, ServerProcess, import_busybox  # noqa: E402
from tests.support.wait import until  # noqa: E402

from pocketkube.api import resources  # noqa: E402
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient, ClientConfig  # noqa: E402

PODS = resources.require("", "v1", "pods")


def two_container_pod(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"terminationGracePeriodSeconds": 0, "volumes": [{"name": "shared", "emptyDir": {}}],
                     "containers": [
                         {"name": "web", "image": "busybox:1.35", "command": ["httpd", "-f", "-p", "8080", "-h", "/d"],
                          "volumeMounts": [{"name": "shared", "mountPath": "/d"}]},
                         {"name": "client", "image": "busybox:1.35",
                          "command": ["sh", "-c", "echo hi > /d/index.html; while true; do "
                                      "wget -qO- localhost:8080 >/dev/null 2>&1; sleep 1; done"],
                          "volumeMounts": [{"name": "shared", "mountPath": "/d"}]}]}}


def one_container_pod(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": "busybox:1.35", "command": ["sleep", "3600"]}]}}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def conmon_pids(marker: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"conmon.*{marker}"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


# -- (a) the floor by hand, (a') through pocketkube's layers ---------------------------------------

FLOOR_CONTAINERS = [("web", ["httpd", "-f", "-p", "8080", "-h", "/d"]),
                    ("client", ["sh", "-c", "while true; do wget -qO- localhost:8080; sleep 1; done"])]


def hand_built_floor(data_dir: Path) -> list[float]:
    from pod_floor import measure

    from pocketkube.images import LocalImageService, default_root

    images = LocalImageService(default_root(data_dir))
    image = asyncio.run(images.get("busybox:1.35"))
    assert image is not None
    lowerdirs = [str(images.store.layer_path(d)) for d in reversed(image.diff_ids)]
    return measure(data_dir / "hand-floor", lowerdirs, FLOOR_CONTAINERS)


async def layers_floor(data_dir: Path, runs: int = 15) -> list[float]:
    from pocketkube.images import LocalImageService, OverlaySnapshotter, default_root
    from pocketkube.network.base import PodNetworkRef
    from pocketkube.network.cni import CNIPlugin
    from pocketkube.network.config import NetworkOptions
    from pocketkube.runtime.base import ContainerConfig, Mount, SandboxConfig
    from pocketkube.runtime.oci.service import OCIRuntime

    images = LocalImageService(default_root(data_dir))
    snapshots = OverlaySnapshotter(default_root(data_dir))
    image = await images.get("busybox:1.35")
    assert image is not None
    runtime = OCIRuntime(instance=f"bench-floor-{os.getpid()}")
    network = CNIPlugin(NetworkOptions(bridge="pkbf0", pod_cidr="10.254.200.0/24",
                                       cluster_cidr="10.254.0.0/16", state_dir=data_dir / "floor-net"))
    samples = []
    try:
        for i in range(runs):
            uid = str(uuid.uuid4())
            shared = data_dir / "floor" / uid
            shared.mkdir(parents=True)
            started = time.perf_counter()
            sandbox = await runtime.run_pod_sandbox(SandboxConfig(f"floor-{i}", "default", uid))
            ref = PodNetworkRef("default", f"floor-{i}", uid, sandbox.id)
            await network.setup(ref, sandbox.netns_path, [])
            ids = []
            for name, argv in FLOOR_CONTAINERS:
                rootfs = await snapshots.prepare(f"floor-{i}-{name}", image)
                cid = await runtime.create_container(sandbox.id, ContainerConfig(
                    name=name, rootfs=rootfs, args=tuple(argv), env=("PATH=/bin",),
                    mounts=(Mount(str(shared), "/d"),), log_path=str(shared / f"{name}.log")))
                await runtime.start_container(cid)
                ids.append(cid)
            samples.append((time.perf_counter() - started) * 1000)
            for cid in ids:
                await runtime.stop_container(cid, 0)
                await runtime.remove_container(cid)
            for name in ("web", "client"):
                await snapshots.remove(f"floor-{i}-{name}")
            await network.teardown(ref, sandbox.netns_path, [])
            await runtime.remove_pod_sandbox(sandbox.id)
    finally:
        await network.close()
        await runtime.release_if_idle()
        proc = await asyncio.create_subprocess_exec("ip", "link", "del", "pkbf0", stderr=asyncio.subprocess.DEVNULL)
        await proc.wait()
    return samples


# -- (b), (c), (d) through the API --------------------------------------------------------------------

async def wait_ready(client: ApiClient, names: set[str], rv: str) -> dict[str, float]:
    ready: dict[str, float] = {}
    async for event in client.watch(PODS, "default", resource_version=rv, timeout_seconds=120):
        obj = event["object"]
        name = obj.get("metadata", {}).get("name")
        if name in names and name not in ready:
            for c in (obj.get("status") or {}).get("conditions") or []:
                if c["type"] == "Ready" and c["status"] == "True":
                    ready[name] = time.perf_counter()
        if len(ready) == len(names):
            return ready
    raise TimeoutError(f"only {len(ready)}/{len(names)} pods became Ready")


async def through_api(server: ServerProcess) -> tuple[list[float], float, float, float]:
    client = ApiClient(ClientConfig.from_kubeconfig(server.kubeconfig))
    try:
        sequential = []
        for i in range(30):
            rv = (await client.list(PODS, "default"))["metadata"]["resourceVersion"]
            name = f"seq-{i}"
            waiter = asyncio.create_task(wait_ready(client, {name}, rv))
            started = time.perf_counter()
            await client.create(PODS, two_container_pod(name))
            done = await waiter
            sequential.append((done[name] - started) * 1000)
            await client.delete(PODS, name, "default", grace_period=0)
        await drain(client, server.data_dir)
        rv = (await client.list(PODS, "default"))["metadata"]["resourceVersion"]
        names = {f"burst-{i}" for i in range(100)}
        waiter = asyncio.create_task(wait_ready(client, names, rv))
        started = time.perf_counter()
        await asyncio.gather(*(client.create(PODS, one_container_pod(n)) for n in names))
        done = await waiter
        burst = max(done.values()) - started
        await asyncio.sleep(2)
        assert server.proc is not None
        pids = conmon_pids(str(server.data_dir.name)) or conmon_pids("conmon")
        per_pod = sum(pss_kib(p) for p in pids) / max(1, len(pids)) / 1024
        server_rss = rss_mib(server.proc.pid)
        for n in names:
            await client.delete(PODS, n, "default", grace_period=0)
        await drain(client, server.data_dir)
        return sequential, burst, per_pod, server_rss
    finally:
        await client.close()


async def drain(client: ApiClient, data_dir: Path | None = None) -> None:
    """Until the API has no pods and (given the data dir) the agent has unmounted every rootfs."""
    async def drained() -> bool:
        return not (await client.list(PODS, "default"))["items"] and (data_dir is None or not mounted(data_dir))

    await until(drained, within=120, interval=0.1)


def mounted(data_dir: Path) -> list[str]:
    """Mounts of the server using `data_dir`: rootfs snapshots there, and its agent's sandboxes
    (namespaces, shm) under /run/pocketkube/<instance>, which go last when a pod is torn down."""
    import socket

    from pocketkube.agent.main import AgentConfig

    node = socket.gethostname().lower().split(".")[0]
    run_dir = f"/run/pocketkube/{AgentConfig(node_name=node, data_dir=data_dir.absolute()).instance}/"
    return [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
            if str(data_dir) in line.split()[1] or line.split()[1].startswith(run_dir)]


def podman_figures(tmp: Path) -> str:
    if shutil.which("podman") is None:
        return "podman not installed: (e) skipped"
    import json

    yaml_path = tmp / "pod.json"
    yaml_path.write_text(json.dumps(two_container_pod("podman-bench")))
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        result = subprocess.run(["podman", "kube", "play", str(yaml_path)], capture_output=True, text=True)
        if result.returncode != 0:
            return f"podman kube play failed: {result.stderr.strip()[:200]}"
        samples.append((time.perf_counter() - started) * 1000)
        subprocess.run(["podman", "kube", "down", str(yaml_path)], capture_output=True)
    return f"(e) podman kube play: median {statistics.median(samples):.0f} ms over {len(samples)}"


def main() -> None:
    # Not a temporary directory: the server log stays for a look when something fails.
    workdir = Path(os.environ.get("POD_BENCH_DIR", "/tmp/pocketkube-pod-bench"))
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    with contextlib.nullcontext(str(workdir)) as tmp:
        data = Path(tmp) / "data"
        import_busybox(data)
        hand_samples = hand_built_floor(data)
        floor_samples = asyncio.run(layers_floor(data))
        server = ServerProcess(data, agent=AgentOptions(bridge="pkbench0", pod_cidr="10.254.201.0/24"))
        server.start()
        try:
            server.wait_for_node()
            sequential, burst, per_pod, server_rss = asyncio.run(through_api(server))
        finally:
            server.stop()
            subprocess.run(["ip", "link", "del", "pkbench0"], capture_output=True, check=False)
        podman = podman_figures(Path(tmp))
        report(hand_samples, floor_samples, sequential, burst, per_pod, server_rss, podman)


def report(hand_samples: list[float], floor_samples: list[float], sequential: list[float], burst: float, per_pod: float, server_rss: float,
           podman: str) -> None:
    floor_p50, layers_p50 = statistics.median(hand_samples), statistics.median(floor_samples)
    p50, p99 = statistics.median(sequential), pct(sequential, 99)
    print(f"(a) floor by hand (ip netns + CNI plugins + overlayfs + conmon/runc), both containers running: "
          f"p50 {floor_p50:.0f} ms  p99 {pct(hand_samples, 99):.0f} ms over {len(hand_samples)}")
    print(f"(a') pocketkube's runtime + CNI + snapshot layers, no API: p50 {layers_p50:.0f} ms  "
          f"p99 {pct(floor_samples, 99):.0f} ms over {len(floor_samples)}")
    print(f"(b) pocketkube create → Ready, 2-container pod: p50 {p50:.0f} ms  p99 {p99:.0f} ms over "
          f"{len(sequential)} (bars: p50 ≤ {1.5 * floor_p50:.0f} ms (1.5× floor) and ≤ 220 ms, p99 ≤ 500 ms); "
          f"{p50 / floor_p50:.2f}× (a), {p50 / layers_p50:.2f}× (a')")
    print(f"(c) burst of 100 pods until all Ready: {burst:.1f} s (bar ≤ 15 s)")
    print(f"(d) conmon PSS per container: {per_pod:.2f} MiB (bar ≤ 1.0 MiB per pod); "
          f"server (API + scheduler + agent) RSS with 100 pods: {server_rss:.0f} MiB")
    print(podman)


if __name__ == "__main__":
    main()
