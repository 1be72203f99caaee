"""CronJob controller with an injected clock: Jobs at the right times, concurrency, history."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from pocketkube.api import meta, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.clock import FakeClock
from pocketkube.controllers.cronjob import CronJobController
from tests.support.inprocess import inprocess_api

CRONJOBS = resources.require("batch", "v1", "cronjobs")
JOBS = resources.require("batch", "v1", "jobs")


def cronjob(name: str, **spec: Any) -> Obj:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "* * * * *", **spec, "jobTemplate": {
                "metadata": {"labels": {"from": name}},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                                               "containers": [{"name": "c", "image": "busybox"}]}}}}}}


@contextlib.asynccontextmanager
async def cron() -> AsyncIterator[tuple[ApiClient, CronJobController, FakeClock]]:
    async with inprocess_api() as api:
        clock = FakeClock(time.time())  # creationTimestamps come from the API server's real clock
        controller = CronJobController(api.client, clock=clock)
        task = asyncio.create_task(controller.run())
        try:
            yield api.client, controller, clock
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def tick(client: ApiClient, controller: CronJobController, clock: FakeClock, name: str, minute: int) -> None:
    """Move the clock to `minute` minutes (and 5 s) past the CronJob's creation minute, and reconcile."""
    cj = await client.get(CRONJOBS, name, "default")
    created = meta.parse_time(cj["metadata"]["creationTimestamp"]).replace(second=0)
    await clock.set((created + timedelta(minutes=minute, seconds=5)).timestamp())
    controller.queue.add(f"default/{name}")
    await asyncio.sleep(0.15)


async def job_names(client: ApiClient) -> list[str]:
    return sorted(j["metadata"]["name"] for j in (await client.list(JOBS, "default"))["items"])


def expected_name(cj: Obj, minute: int) -> str:
    created = meta.parse_time(cj["metadata"]["creationTimestamp"]).replace(second=0)
    return f"{cj['metadata']['name']}-{int((created + timedelta(minutes=minute)).timestamp()) // 60}"


async def finish(client: ApiClient, name: str, kind: str = "Complete") -> None:
    job = await client.get(JOBS, name, "default")
    now = meta.rfc3339(meta.now())
    status: Obj = {"startTime": now, "conditions": [{"type": kind, "status": "True", "lastTransitionTime": now}]}
    if kind == "Complete":
        status["completionTime"] = now
        status["succeeded"] = 1
        status["conditions"].insert(0, {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now})
    else:
        status["failed"] = 1
        status["conditions"].insert(0, {"type": "FailureTarget", "status": "True", "lastTransitionTime": now})
    job["status"] = status
    await client.update(JOBS, job, subresource="status")


async def test_jobs_are_created_at_schedule_times() -> None:
    async with cron() as (client, controller, clock):
        cj = await client.create(CRONJOBS, cronjob("tick"), "default")
        await tick(client, controller, clock, "tick", 0)
        assert await job_names(client) == []
        await tick(client, controller, clock, "tick", 1)
        assert await job_names(client) == [expected_name(cj, 1)]
        await tick(client, controller, clock, "tick", 1)  # same minute again: nothing new
        await tick(client, controller, clock, "tick", 2)
        assert await job_names(client) == sorted([expected_name(cj, 1), expected_name(cj, 2)])
        job = await client.get(JOBS, expected_name(cj, 2), "default")
        assert job["metadata"]["labels"]["from"] == "tick"
        assert job["metadata"]["ownerReferences"][0]["uid"] == cj["metadata"]["uid"]
        created = meta.parse_time(cj["metadata"]["creationTimestamp"]).replace(second=0)
        assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
            meta.rfc3339(created + timedelta(minutes=2))
        status = (await client.get(CRONJOBS, "tick", "default"))["status"]
        assert [r["name"] for r in status["active"]] == sorted([expected_name(cj, 1), expected_name(cj, 2)])
        assert status["lastScheduleTime"] == meta.rfc3339(created + timedelta(minutes=2))


async def test_missed_runs_start_only_the_latest() -> None:
    async with cron() as (client, controller, clock):
        cj = await client.create(CRONJOBS, cronjob("late"), "default")
        await tick(client, controller, clock, "late", 5)
        assert await job_names(client) == [expected_name(cj, 5)]


async def test_starting_deadline_skips_a_run_too_late() -> None:
    async with cron() as (client, controller, clock):
        await client.create(CRONJOBS, cronjob("strict", startingDeadlineSeconds=2), "default")
        await tick(client, controller, clock, "strict", 1)  # 5 s past the minute: too late
        assert await job_names(client) == []


async def test_forbid_waits_for_the_running_job() -> None:
    async with cron() as (client, controller, clock):
        cj = await client.create(CRONJOBS, cronjob("one", concurrencyPolicy="Forbid"), "default")
        await tick(client, controller, clock, "one", 1)
        await tick(client, controller, clock, "one", 2)
        assert await job_names(client) == [expected_name(cj, 1)]
        # as in kube, a run skipped by Forbid is not recorded: once the first Job finishes, the
        # skipped minute-2 run starts (still in the same minute)
        await finish(client, expected_name(cj, 1))
        await tick(client, controller, clock, "one", 2)
        assert await job_names(client) == sorted([expected_name(cj, 1), expected_name(cj, 2)])
        status = (await client.get(CRONJOBS, "one", "default"))["status"]
        assert [r["name"] for r in status["active"]] == [expected_name(cj, 2)]
        assert status["lastSuccessfulTime"]


async def test_replace_deletes_the_running_job() -> None:
    async with cron() as (client, controller, clock):
        cj = await client.create(CRONJOBS, cronjob("swap", concurrencyPolicy="Replace"), "default")
        await tick(client, controller, clock, "swap", 1)
        await tick(client, controller, clock, "swap", 2)
        assert await job_names(client) == [expected_name(cj, 2)]


async def test_history_limits_prune_finished_jobs() -> None:
    async with cron() as (client, controller, clock):
        cj = await client.create(CRONJOBS, cronjob("hist", successfulJobsHistoryLimit=1,
                                                   failedJobsHistoryLimit=1), "default")
        for minute, outcome in ((1, "Complete"), (2, "Complete"), (3, "Failed"), (4, "Failed")):
            await tick(client, controller, clock, "hist", minute)
            await finish(client, expected_name(cj, minute), outcome)
        await tick(client, controller, clock, "hist", 4)
        assert await job_names(client) == sorted([expected_name(cj, 2), expected_name(cj, 4)])


async def test_suspended_cronjob_creates_nothing() -> None:
    async with cron() as (client, controller, clock):
        await client.create(CRONJOBS, cronjob("off", suspend=True), "default")
        await tick(client, controller, clock, "off", 3)
        assert await job_names(client) == []
