from __future__ import annotations

import asyncio

from pocketkube.agent.pod_workers import FINISHED, PodWorkers
from tests.support.wait import until


async def test_syncs_of_one_pod_never_overlap_and_pods_run_in_parallel() -> None:
    running: dict[str, int] = {}
    overlap = False
    calls: list[str] = []

    async def sync(uid: str) -> float | None:
        nonlocal overlap
        running[uid] = running.get(uid, 0) + 1
        overlap = overlap or running[uid] > 1
        calls.append(uid)
        await asyncio.sleep(0.02)
        running[uid] -= 1
        return None

    workers = PodWorkers(sync)
    for _ in range(5):
        workers.poke("a")
        workers.poke("b")
        await asyncio.sleep(0.005)
    await until(lambda: calls.count("a") >= 2 and calls.count("b") >= 2)
    assert not overlap
    started = asyncio.get_running_loop().time()
    workers.poke("slow-neighbour-does-not-block")
    await until(lambda: "slow-neighbour-does-not-block" in calls)
    assert asyncio.get_running_loop().time() - started < 0.05
    await workers.stop()


async def test_wakeup_retry_and_finish() -> None:
    results: list[float | None | Exception] = [0.01, RuntimeError("boom"), FINISHED]
    calls = 0

    async def sync(uid: str) -> float | None:
        nonlocal calls
        calls += 1
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    workers = PodWorkers(sync, max_retry_delay=0.05)
    workers.poke("p")
    await until(lambda: "p" not in workers)
    assert calls == 3  # woke itself after 10 ms, retried after the failure, then finished
