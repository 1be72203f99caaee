"""Scheduler throughput: binds per second for pods pre-created with no node agent running.

Starts an in-process API server (memory store), creates N Ready nodes and M pending pods of one
ReplicaSet-like owner, then starts the Scheduler and times until every pod has a nodeName (seen
through a pod watch). Everything shares one event loop — the API server's work counts against the
scheduler's figure, so this is a floor for the scheduler against a separate `pocketkube server`.

    .venv/bin/python bench/scheduler.py [--nodes 10] [--pods 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.inprocess import inprocess_api  # noqa: E402

from pocketkube.api import resources  # noqa: E402
from pocketkube.api.obj import Obj
from pocketkube.client.informer import Handlers, Informer  # noqa: E402
from pocketkube.scheduler.scheduler import Scheduler  # noqa: E402

PODS = resources.require("", "v1", "pods")
NODES = resources.require("", "v1", "nodes")


def node(name: str) -> Obj:
    capacity = {"cpu": "16", "memory": "64Gi", "pods": "250"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {"capacity": capacity, "allocatable": capacity,
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(i: int) -> Obj:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "bench", "controller": True,
             "uid": "00000000-0000-0000-0000-00000000beef"}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"bench-{i}", "namespace": "default", "labels": {"app": "bench"},
                         "ownerReferences": [owner]},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}


async def main(nodes: int, pods: int) -> None:
    async with inprocess_api() as api:
        client = api.client
        for i in range(nodes):
            await client.create(NODES, node(f"node-{i}"))
        sem = asyncio.Semaphore(32)

        async def create(i: int) -> None:
            async with sem:
                await client.create(PODS, pod(i), "default")

        t0 = time.perf_counter()
        await asyncio.gather(*(create(i) for i in range(pods)))
        print(f"created {pods} pods in {time.perf_counter() - t0:.2f}s")

        bound: dict[str, str] = {}
        done = asyncio.Event()

        def seen(obj: Obj) -> None:
            name = (obj.get("spec") or {}).get("nodeName")
            if name:
                bound[obj["metadata"]["name"]] = name
                if len(bound) >= pods:
                    done.set()

        watcher = Informer(client, PODS, namespace="default")
        watcher.add_handlers(Handlers(on_add=seen, on_update=lambda _o, n: seen(n)))
        watch_task = asyncio.create_task(watcher.run())
        await watcher.synced.wait()

        scheduler = Scheduler(client)
        start = time.perf_counter()
        task = asyncio.create_task(scheduler.run())
        try:
            await asyncio.wait_for(done.wait(), timeout=300)
        finally:
            elapsed = time.perf_counter() - start
            task.cancel()
            watch_task.cancel()
            await asyncio.gather(task, watch_task, return_exceptions=True)
        spread = Counter(bound.values())
        print(f"bound {len(bound)} pods on {nodes} nodes in {elapsed:.2f}s: {len(bound) / elapsed:.0f} binds/s")
        print(f"per node: min {min(spread.values())}, max {max(spread.values())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--pods", type=int, default=1000)
    args = parser.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(args.nodes, args.pods))
