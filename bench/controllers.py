"""Controller and scheduler figures on this machine (issue 4).

(a) a Deployment of 100 replicas (busybox `sleep 3600`, terminationGracePeriodSeconds 0) on
    `pocketkube server` with its node agent: seconds from the create until the Deployment reports
    100 updated, available replicas; with the moments the last pod was created, bound and Ready;
(b) a rolling update of it to a new image tag (busybox:1.35-b, default 25%/25%): seconds from the
    patch until the rollout is complete as `kubectl rollout status` judges it, and the fewest
    available replicas seen meanwhile;
(c) scheduler throughput on `pocketkube server --no-agent`: 10 Node objects made by hand (Ready,
    250 pods each) carrying a NoSchedule taint; a ReplicaSet of 1,000 creates its pods, which the
    running scheduler finds no node for (all marked Unschedulable: the scheduler is idle); then the
    taint is removed from every node at once: binds per second from the first untaint request until
    a pod watch has seen every pod bound.
Bars: (a) ≤ 30 s; (c) ≥ 200 binds/s. Needs root, runc, conmon, CNI plugins and busybox-static.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pod_startup import drain, mounted  # noqa: E402
from tests.support.server import AgentOptions, ServerProcess, import_busybox  # noqa: E402

from pocketkube.api import resources  # noqa: E402
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient, ClientConfig  # noqa: E402
from pocketkube.client.informer import Handlers, Informer  # noqa: E402

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")
DEPLOYMENTS = resources.require("apps", "v1", "deployments")
REPLICASETS = resources.require("apps", "v1", "replicasets")

REPLICAS = 100
NEW_IMAGE = "busybox:1.35-b"
HOLD = {"key": "pocketkube.bench/hold", "value": "true", "effect": "NoSchedule"}


def deployment(name: str, replicas: int) -> Obj:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"terminationGracePeriodSeconds": 0,
                                           "containers": [{"name": "c", "image": "busybox:1.35",
                                                           "command": ["sleep", "3600"]}]}}}}


def rollout_complete(d: Obj) -> bool:
    """kubectl rollout status's test: observed, all updated, no old replicas left, all available."""
    spec, status = d.get("spec") or {}, d.get("status") or {}
    want = spec.get("replicas", 1)
    return (status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0)
            and status.get("updatedReplicas", 0) == want and status.get("replicas", 0) == want
            and status.get("availableReplicas", 0) == want)


def ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


class PodMilestones:
    """When the last of N pods was created, bound and Ready (first sighting of each, by name)."""

    def __init__(self, client: ApiClient, start: float):
        self.start = start
        self.created: dict[str, float] = {}
        self.bound: dict[str, float] = {}
        self.ready: dict[str, float] = {}
        self.informer = Informer(client, PODS, namespace="default")
        self.informer.add_handlers(Handlers(on_add=self._seen, on_update=lambda _o, n: self._seen(n)))

    def _seen(self, pod: Obj) -> None:
        name, now = pod["metadata"]["name"], time.perf_counter()
        self.created.setdefault(name, now)
        if (pod.get("spec") or {}).get("nodeName"):
            self.bound.setdefault(name, now)
        if ready(pod):
            self.ready.setdefault(name, now)

    def summary(self, names: set[str] | None = None) -> str:
        def last(seen: dict[str, float]) -> str:
            values = [t for n, t in seen.items() if names is None or n in names]
            return f"{max(values) - self.start:.1f} s" if values else "-"

        def lag(earlier: dict[str, float], later: dict[str, float]) -> str:
            gaps = sorted(later[n] - earlier[n] for n in later if n in earlier and (names is None or n in names))
            return f"p50 {gaps[len(gaps) // 2]:.1f} s max {gaps[-1]:.1f} s" if gaps else "-"

        return (f"last pod created {last(self.created)}, bound {last(self.bound)}, Ready {last(self.ready)}; "
                f"created→bound {lag(self.created, self.bound)}, bound→Ready {lag(self.bound, self.ready)}")


async def wait_deployment(client: ApiClient, name: str, done: Any, on_update: Any = None,
                          timeout: float = 300) -> Obj:
    informer = Informer(client, DEPLOYMENTS, namespace="default")
    finished: asyncio.Future[Obj] = asyncio.get_running_loop().create_future()

    def seen(d: Obj) -> None:
        if d["metadata"]["name"] != name:
            return
        if on_update is not None:
            on_update(d)
        if done(d) and not finished.done():
            finished.set_result(d)

    informer.add_handlers(Handlers(on_add=seen, on_update=lambda _o, n: seen(n)))
    task = asyncio.create_task(informer.run())
    try:
        return await asyncio.wait_for(finished, timeout)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def deployment_figures(server: ServerProcess) -> tuple[float, str, float, int, str]:
    client = ApiClient(ClientConfig.from_kubeconfig(server.kubeconfig))
    try:
        start = time.perf_counter()
        milestones = PodMilestones(client, start)
        watch = asyncio.create_task(milestones.informer.run())
        await milestones.informer.synced.wait()
        start = milestones.start = time.perf_counter()
        await client.create(DEPLOYMENTS, deployment("bench", REPLICAS), "default")
        await wait_deployment(client, "bench", lambda d: rollout_complete(d)
                              and (d.get("status") or {}).get("availableReplicas") == REPLICAS)
        available = time.perf_counter() - start
        first_pods = set(milestones.created)
        created_summary = milestones.summary(first_pods)

        lowest = [REPLICAS]

        def sample(d: Obj) -> None:
            lowest[0] = min(lowest[0], (d.get("status") or {}).get("availableReplicas", 0))

        start = milestones.start = time.perf_counter()
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": NEW_IMAGE}]}}}}
        updated = await client.patch(DEPLOYMENTS, "bench", patch, "default",
                                     patch_type="application/strategic-merge-patch+json")
        generation = updated["metadata"]["generation"]
        await wait_deployment(client, "bench", lambda d: d["metadata"]["generation"] >= generation
                              and rollout_complete(d), on_update=sample)
        rolled = time.perf_counter() - start
        new_pods = set(milestones.created) - first_pods
        rollout_summary = milestones.summary(new_pods)
        watch.cancel()
        await asyncio.gather(watch, return_exceptions=True)

        await client.delete(DEPLOYMENTS, "bench", "default")
        await drain(client, server.data_dir)
        return available, created_summary, rolled, lowest[0], rollout_summary
    finally:
        await client.close()


# -- (c) the scheduler alone -------------------------------------------------------------------------------


def node(name: str) -> Obj:
    capacity = {"cpu": "16", "memory": "64Gi", "pods": "250"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {"taints": [HOLD]},
            "status": {"capacity": capacity, "allocatable": capacity,
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}


def replicaset(replicas: int) -> Obj:
    labels = {"app": "bench"}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "bench", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "busybox:1.35", "resources": {
                                      "requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}}


def marked_unschedulable(pod: Obj) -> bool:
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False"
               for c in (pod.get("status") or {}).get("conditions") or [])


async def scheduler_figures(server: ServerProcess, nodes: int = 10, pods: int = 1000) -> tuple[float, float, str]:
    client = ApiClient(ClientConfig.from_kubeconfig(server.kubeconfig))
    try:
        for i in range(nodes):
            await client.create(NODES, node(f"bench-node-{i}"))
        bound: dict[str, str] = {}
        held: set[str] = set()
        all_held, all_bound = asyncio.Event(), asyncio.Event()

        def seen(pod: Obj) -> None:
            name = pod["metadata"]["name"]
            if marked_unschedulable(pod):
                held.add(name)
                if len(held) >= pods:
                    all_held.set()
            if target := (pod.get("spec") or {}).get("nodeName"):
                bound[name] = target
                if len(bound) >= pods:
                    all_bound.set()

        watcher = Informer(client, PODS, namespace="default")
        watcher.add_handlers(Handlers(on_add=seen, on_update=lambda _o, n: seen(n)))
        watch_task = asyncio.create_task(watcher.run())
        try:
            await watcher.synced.wait()
            t0 = time.perf_counter()
            await client.create(REPLICASETS, replicaset(pods), "default")
            await asyncio.wait_for(all_held.wait(), 300)
            created = time.perf_counter() - t0
            assert not bound, "a pod was bound onto a held node"
            start = time.perf_counter()
            await asyncio.gather(*(client.patch(NODES, f"bench-node-{i}", {"spec": {"taints": None}},
                                                patch_type="application/merge-patch+json")
                                   for i in range(nodes)))
            await asyncio.wait_for(all_bound.wait(), 300)
            elapsed = time.perf_counter() - start
        finally:
            watch_task.cancel()
            await asyncio.gather(watch_task, return_exceptions=True)
        spread = Counter(bound.values())
        return created, elapsed, f"per node min {min(spread.values())}, max {max(spread.values())}"
    finally:
        await client.close()


def main(parts: str) -> None:
    # Not a temporary directory: the server logs stay for a look when something fails.
    workdir = Path(os.environ.get("CONTROLLERS_BENCH_DIR", "/tmp/pocketkube-controllers-bench"))
    if mounted(workdir):  # a run still going (or one that crashed): removing its files would strand its pods
        raise SystemExit(f"{workdir} still has mounts; is another run going?")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    if "a" in parts:
        deployment_bench(workdir / "data")
    if "c" in parts:
        scheduler_bench(workdir / "scheduler")


def deployment_bench(data: Path) -> None:
    import_busybox(data)
    subprocess.run([sys.executable, "-m", "pocketkube.cli.main", "image", "busybox", NEW_IMAGE, "--data-dir",
                    str(data)], capture_output=True, check=True)
    bridge = "pkbench1"
    server = ServerProcess(data, agent=AgentOptions(bridge=bridge, pod_cidr="10.254.202.0/24"))
    server.start()
    try:
        server.wait_for_node()
        available, created_summary, rolled, lowest, rollout_summary = asyncio.run(deployment_figures(server))
    finally:
        server.stop()
        subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)
    print(f"(a) Deployment of {REPLICAS} replicas fully available: {available:.1f} s (bar ≤ 30 s); "
          f"{created_summary}")
    print(f"(b) rolling update to {NEW_IMAGE} (25%/25%) complete: {rolled:.1f} s, fewest available "
          f"{lowest} (floor {REPLICAS - REPLICAS // 4}); new pods: {rollout_summary}")



def scheduler_bench(data: Path) -> None:
    scheduler_server = ServerProcess(data)
    scheduler_server.start()
    try:
        created, elapsed, spread = asyncio.run(scheduler_figures(scheduler_server))
    finally:
        scheduler_server.stop()
    print(f"(c) scheduler, no agent: ReplicaSet's 1000 pods created and held in {created:.1f} s; untainting 10 nodes → all bound "
          f"in {elapsed:.2f} s: {1000 / elapsed:.0f} binds/s (bar ≥ 200); {spread}")


if __name__ == "__main__":
    # `bench/controllers.py [abc]`: the parts to run, all by default ((a) and (b) run together).
    main(sys.argv[1] if len(sys.argv) > 1 else "abc")
