"""Job controller against the in-process API server, with a fake kubelet finishing pods."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.client.informer import Handlers, Informer
from pocketkube.clock import REAL_CLOCK, Clock, FakeClock
from pocketkube.controllers.gc import GarbageCollector
from pocketkube.controllers.job import JobController
from tests.support.fake_kubelet import running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

JOBS = resources.require("batch", "v1", "jobs")
PODS = resources.require("", "v1", "pods")
EVENTS = resources.require("", "v1", "events")


class PodFinisher:
    """Plays the kubelet for Job pods: moves each new pod once to the phase `decide` picks
    ("Running", "Succeeded", "Failed", or None to leave it Pending)."""

    def __init__(self, client: ApiClient, decide: Callable[[Obj], str | None]):
        self.client = client
        self.decide = decide
        self.handled: set[str] = set()
        self.pods = Informer(client, PODS)
        self.pods.add_handlers(Handlers(on_add=self._seen, on_update=lambda _o, n: self._seen(n)))
        self._tasks: set[asyncio.Task[None]] = set()

    def _seen(self, pod: Obj) -> None:
        md = pod["metadata"]
        phase = self.decide(pod)
        if md["uid"] in self.handled or md.get("deletionTimestamp") or phase is None:
            return
        self.handled.add(md["uid"])
        task = asyncio.create_task(self._write(md["namespace"], md["name"], phase))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, namespace: str, name: str, phase: str) -> None:
        ready = "True" if phase == "Running" else "False"
        status: Obj = {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}
        if phase != "Running":
            code = 0 if phase == "Succeeded" else 1
            status["containerStatuses"] = [{"name": "c", "image": "busybox", "imageID": "", "ready": False,
                                            "restartCount": 0, "state": {"terminated": {"exitCode": code}}}]
        with contextlib.suppress(errors.StatusError):
            await self.client.patch(PODS, name, {"status": status}, namespace, subresource="status")

    async def run(self) -> None:
        await self.pods.run()


def job(name: str, **spec: Any) -> Obj:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "c", "image": "busybox"}]}}, **spec}}


@contextlib.asynccontextmanager
async def cluster(decide: Callable[[Obj], str | None], clock: Clock = REAL_CLOCK, backoff_base: float = 0.01,
                  gc: bool = False) -> AsyncIterator[tuple[ApiClient, PodFinisher]]:
    async with inprocess_api() as api:
        controllers: list[Any] = [JobController(api.client, clock=clock, backoff_base=backoff_base)]
        if gc:
            controllers.append(GarbageCollector(api.client))
        kubelet = PodFinisher(api.client, decide)
        async with running(kubelet, *controllers):
            yield api.client, kubelet


async def wait_condition(client: ApiClient, name: str, type_: str, within: float = 8.0) -> Obj:
    async def with_condition() -> Obj | None:
        got = await client.get(JOBS, name, "default")
        conditions = (got.get("status") or {}).get("conditions") or []
        return got if any(c["type"] == type_ and c["status"] == "True" for c in conditions) else None

    return await until(with_condition, within=within)


async def has_active(client: ApiClient, name: str, count: int) -> bool:
    return bool(((await client.get(JOBS, name, "default")).get("status") or {}).get("active") == count)


async def test_completions_with_parallelism_succeed_exactly() -> None:
    async with cluster(lambda pod: "Succeeded") as (client, kubelet):
        await client.create(JOBS, job("pi", completions=5, parallelism=2), "default")

        done = await wait_condition(client, "pi", "Complete")
        status = done["status"]
        assert status["succeeded"] == 5 and not status.get("failed") and not status.get("active")
        assert status["completionTime"] and status["startTime"]
        types = [c["type"] for c in status["conditions"]]
        assert types == ["SuccessCriteriaMet", "Complete"]
        assert status["conditions"][1]["reason"] == "CompletionsReached"
        pods = (await client.list(PODS, "default"))["items"]
        assert len(pods) == 5 and all(p["status"]["phase"] == "Succeeded" for p in pods)
        assert all("batch.kubernetes.io/job-tracking" not in (p["metadata"].get("finalizers") or [])
                   for p in pods)
        assert len(kubelet.handled) == 5
        await asyncio.sleep(0.1)
        reasons = [e["reason"] for e in (await client.list(EVENTS, "default"))["items"]]
        assert reasons.count("SuccessfulCreate") == 5 and "Completed" in reasons


async def test_parallelism_limits_active_pods() -> None:
    async with cluster(lambda pod: None) as (client, _):  # pods never finish
        await client.create(JOBS, job("slow", completions=5, parallelism=2), "default")
        await until(lambda: has_active(client, "slow", 2))
        await asyncio.sleep(0.2)
        assert len((await client.list(PODS, "default"))["items"]) == 2


async def job_status(client: ApiClient, name: str) -> Obj:
    return dict((await client.get(JOBS, name, "default")).get("status") or {})


async def pod_count(client: ApiClient) -> int:
    return len((await client.list(PODS, "default"))["items"])


async def test_failing_job_stops_at_backoff_limit() -> None:
    clock = FakeClock(time.time())
    async with cluster(lambda pod: "Failed", clock=clock, backoff_base=10.0) as (client, _):
        await client.create(JOBS, job("bad", backoffLimit=2), "default")
        # Each failed pod is replaced after the backoff (10 s, then 20 s), measured on the clock.
        for failures, backoff in ((1, 10.0), (2, 20.0)):
            await until(lambda: clock.sleepers >= 1)
            assert (await job_status(client, "bad")).get("failed") == failures
            await clock.advance(backoff - 1)
            await asyncio.sleep(0.05)
            assert await pod_count(client) == failures  # not replaced before the backoff ends
            await clock.advance(1)

            async def replaced(want: int = failures + 1) -> bool:
                return await pod_count(client) == want

            await until(replaced)
        failed = await wait_condition(client, "bad", "Failed")
        status = failed["status"]
        assert status["failed"] == 3 and not status.get("succeeded") and not status.get("active")
        cond = {c["type"]: c for c in status["conditions"]}
        assert cond["Failed"]["reason"] == "BackoffLimitExceeded"
        assert cond["Failed"]["message"] == "Job has reached the specified backoff limit"
        assert cond["FailureTarget"]["reason"] == "BackoffLimitExceeded"
        await asyncio.sleep(0.2)
        assert len((await client.list(PODS, "default"))["items"]) == 3
        reasons = [e["reason"] for e in (await client.list(EVENTS, "default"))["items"]]
        assert "BackoffLimitExceeded" in reasons


async def test_indexed_job_runs_each_index_once() -> None:
    async with cluster(lambda pod: "Succeeded") as (client, _):
        await client.create(JOBS, job("idx", completions=3, parallelism=3, completionMode="Indexed"), "default")
        done = await wait_condition(client, "idx", "Complete")
        assert done["status"]["completedIndexes"] == "0-2"
        assert done["status"]["succeeded"] == 3
        pods = (await client.list(PODS, "default"))["items"]
        indexes = sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for p in pods)
        assert indexes == ["0", "1", "2"]
        for pod in pods:
            index = pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"]
            assert pod["metadata"]["name"].startswith(f"idx-{index}-")
            assert pod["spec"]["hostname"] == f"idx-{index}"
            [env] = pod["spec"]["containers"][0]["env"]
            assert env["name"] == "JOB_COMPLETION_INDEX"
            assert env["valueFrom"]["fieldRef"]["fieldPath"] == \
                "metadata.annotations['batch.kubernetes.io/job-completion-index']"


async def test_deadline_exceeded_fails_the_job() -> None:
    clock = FakeClock(time.time())
    async with cluster(lambda pod: "Running", clock=clock) as (client, _):
        await client.create(JOBS, job("late", activeDeadlineSeconds=5), "default")
        await until(lambda: has_active(client, "late", 1))
        await until(lambda: clock.sleepers >= 1)  # the controller looks again at the deadline
        await clock.advance(4)
        await asyncio.sleep(0.05)
        assert "conditions" not in await job_status(client, "late")
        await clock.advance(1)
        failed = await wait_condition(client, "late", "Failed")
        cond = {c["type"]: c for c in failed["status"]["conditions"]}
        assert cond["Failed"]["reason"] == "DeadlineExceeded"
        assert failed["status"]["failed"] == 1


async def test_suspended_job_creates_no_pods_until_resumed() -> None:
    async with cluster(lambda pod: "Succeeded") as (client, _):
        await client.create(JOBS, job("later", suspend=True), "default")
        suspended = await wait_condition(client, "later", "Suspended")
        assert {c["type"]: c for c in suspended["status"]["conditions"]}["Suspended"]["reason"] == "JobSuspended"
        assert not (await client.list(PODS, "default"))["items"]
        await client.patch(JOBS, "later", {"spec": {"suspend": False}}, "default")
        done = await wait_condition(client, "later", "Complete")
        cond = {c["type"]: c for c in done["status"]["conditions"]}
        assert cond["Suspended"]["status"] == "False" and cond["Suspended"]["reason"] == "JobResumed"


async def test_ttl_after_finished_deletes_the_job_and_its_pods() -> None:
    async with cluster(lambda pod: "Succeeded", gc=True) as (client, _):
        await client.create(JOBS, job("brief", ttlSecondsAfterFinished=0), "default")

        async def job_and_pods_gone() -> bool:
            try:
                await client.get(JOBS, "brief", "default")
            except errors.StatusError as exc:
                assert exc.code == 404
                return not (await client.list(PODS, "default"))["items"]
            return False

        await until(job_and_pods_gone, within=8)
