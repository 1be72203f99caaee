"""The Deployment controller with the ReplicaSet controller and a fake kubelet, in process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.clock import REAL_CLOCK, Clock, FakeClock
from pocketkube.controllers.deployment import DeploymentController
from pocketkube.controllers.replicaset import ReplicaSetController
from tests.support.fake_kubelet import FakeKubelet, running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

PODS = resources.require("", "v1", "pods")
REPLICASETS = resources.require("apps", "v1", "replicasets")
DEPLOYMENTS = resources.require("apps", "v1", "deployments")
EVENTS = resources.require("", "v1", "events")
REVISION = "deployment.kubernetes.io/revision"


def deployment(name: str, replicas: int, image: str = "busybox:1", strategy: Obj | None = None, **spec: Any) -> Obj:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "strategy": strategy or {"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}, **spec}}


def healthy(pod: Obj) -> bool:
    return "broken" not in pod["spec"]["containers"][0]["image"]


@asynccontextmanager
async def cluster(termination_delay: float = 0.0, clock: Clock = REAL_CLOCK) -> AsyncIterator[ApiClient]:
    async with inprocess_api() as api:
        client = api.client
        kubelet = FakeKubelet(client, ready=healthy, termination_delay=termination_delay)
        async with running(DeploymentController(client, clock), ReplicaSetController(client, clock), kubelet):
            yield client


async def get(client: ApiClient, name: str = "web") -> Obj:
    return await client.get(DEPLOYMENTS, name, "default")


async def rollout_done(client: ApiClient, name: str = "web") -> bool:
    """What `kubectl rollout status` checks."""
    d = await get(client, name)
    st, want = d.get("status") or {}, d["spec"]["replicas"]
    return (st.get("observedGeneration", 0) >= d["metadata"]["generation"] and st.get("updatedReplicas", 0) == want
            and st.get("replicas", 0) == want and st.get("availableReplicas", 0) == want)


async def replicasets(client: ApiClient) -> list[Obj]:
    return list((await client.list(REPLICASETS, "default"))["items"])


async def live_pods(client: ApiClient) -> list[Obj]:
    return [p for p in (await client.list(PODS, "default"))["items"] if not p["metadata"].get("deletionTimestamp")]


def progressing(d: Obj) -> Obj:
    return next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")


async def test_create_scale_and_rolling_update_keeps_availability() -> None:
    async with cluster() as client:
        await client.create(DEPLOYMENTS, deployment("web", 4))
        await until(lambda: rollout_done(client), within=10)
        d = await get(client)
        assert d["metadata"]["annotations"][REVISION] == "1"
        assert progressing(d)["reason"] == "NewReplicaSetAvailable"
        available = next(c for c in d["status"]["conditions"] if c["type"] == "Available")
        assert available["status"] == "True" and available["reason"] == "MinimumReplicasAvailable"
        [rs] = await replicasets(client)
        pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
        assert rs["metadata"]["name"] == f"web-{pod_hash}"
        assert rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == pod_hash
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "4"
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "5"

        # kubectl set image: sample readiness throughout the rollout
        await client.patch(DEPLOYMENTS, "web", {"metadata": {"annotations": {"kubernetes.io/change-cause": "v2"}},
                                                "spec": {"template": {"spec": {"containers": [
                                                    {"name": "c", "image": "busybox:2"}]}}}}, "default")
        lowest = 4

        async def sampled_rollout_done() -> bool:
            nonlocal lowest
            pods = await live_pods(client)
            ready = sum(1 for p in pods if any(c["type"] == "Ready" and c["status"] == "True"
                                               for c in p.get("status", {}).get("conditions") or []))
            lowest = min(lowest, ready)
            return await rollout_done(client) and all(p["spec"]["containers"][0]["image"] == "busybox:2"
                                                      for p in pods)

        await until(sampled_rollout_done, within=15)
        assert lowest >= 4 - 1, lowest  # replicas - maxUnavailable
        d = await get(client)
        assert d["metadata"]["annotations"][REVISION] == "2"
        new = next(rs for rs in await replicasets(client) if rs["metadata"]["annotations"][REVISION] == "2")
        assert new["metadata"]["annotations"]["kubernetes.io/change-cause"] == "v2"
        events = [e["message"] for e in (await client.list(EVENTS, "default"))["items"]
                  if e["reason"] == "ScalingReplicaSet"]
        assert f"Scaled up replica set web-{pod_hash} from 0 to 4" in events
        assert any(m.startswith(f"Scaled down replica set web-{pod_hash} from 4 to ") for m in events)

        # rollback: the template patched back reuses the first ReplicaSet, now revision 3
        await client.patch(DEPLOYMENTS, "web", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "busybox:1"}]}}}}, "default")
        await until(lambda: rollout_done(client), within=10)

        async def reused() -> bool:
            rss = await replicasets(client)
            first = next(r for r in rss if r["metadata"]["name"] == f"web-{pod_hash}")
            return (len(rss) == 2 and first["metadata"]["annotations"][REVISION] == "3"
                    and first["spec"]["replicas"] == 4
                    and (await get(client))["metadata"]["annotations"][REVISION] == "3")

        await until(reused, within=10)

        # kubectl scale
        await client.patch(DEPLOYMENTS, "web", {"spec": {"replicas": 2}}, "default")
        await until(lambda: rollout_done(client), within=10)
        assert len(await live_pods(client)) == 2


async def test_recreate_waits_for_old_pods_to_be_gone() -> None:
    async with cluster(termination_delay=0.6) as client:
        await client.create(DEPLOYMENTS, deployment("web", 3, strategy={"type": "Recreate"}))
        await until(lambda: rollout_done(client), within=10)
        await client.patch(DEPLOYMENTS, "web", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "busybox:2"}]}}}}, "default")
        mixed = False

        async def sampled_recreate_done() -> bool:
            nonlocal mixed
            if await rollout_done(client) and len(await replicasets(client)) >= 2:
                return True
            pods = (await client.list(PODS, "default"))["items"]  # terminating ones included
            mixed = mixed or len({p["spec"]["containers"][0]["image"] for p in pods}) > 1
            return False

        await until(sampled_recreate_done, within=15)
        assert not mixed  # never old and new pods at once
        assert {p["spec"]["containers"][0]["image"] for p in await live_pods(client)} == {"busybox:2"}


async def test_stalled_rollout_exceeds_progress_deadline_while_old_pods_serve() -> None:
    # The fake clock starts at real time: the fake kubelet stamps pods with real time.
    clock = FakeClock(time.time())
    async with cluster(clock=clock) as client:
        await client.create(DEPLOYMENTS, deployment("web", 2, progressDeadlineSeconds=2))
        await until(lambda: rollout_done(client), within=10)
        await client.patch(DEPLOYMENTS, "web", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "broken:1"}]}}}}, "default")

        async def failed() -> bool:
            d = await get(client)
            cond = progressing(d)
            return cond["reason"] == "ProgressDeadlineExceeded" and cond["status"] == "False"

        async def stalled() -> bool:
            d = await get(client)
            st = d.get("status") or {}
            return (progressing(d)["reason"] == "ReplicaSetUpdated" and st.get("updatedReplicas") == 2
                    and clock.sleepers >= 1)  # the controller waits for the deadline on the clock

        await until(stalled, within=10)
        await clock.advance(0.5)
        await asyncio.sleep(0.1)
        assert not await failed()  # 2 s have not passed on the clock
        await clock.advance(3)  # past the deadline (timestamps have second precision)
        await until(failed, within=5)
        d = await get(client)
        new_name = next(rs["metadata"]["name"] for rs in await replicasets(client)
                        if rs["metadata"]["annotations"][REVISION] == "2")
        assert progressing(d)["message"] == f'ReplicaSet "{new_name}" has timed out progressing.'
        assert d["status"]["availableReplicas"] >= 1  # old pods keep serving (maxUnavailable 1)


async def test_revision_history_limit_and_pause() -> None:
    async with cluster() as client:
        await client.create(DEPLOYMENTS, deployment("web", 1, revisionHistoryLimit=1))
        for version in (2, 3, 4):
            await until(lambda: rollout_done(client), within=10)
            await client.patch(DEPLOYMENTS, "web", {"spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": f"busybox:{version}"}]}}}}, "default")
        await until(lambda: rollout_done(client), within=10)

        async def trimmed() -> bool:
            revs = sorted(int(rs["metadata"]["annotations"][REVISION]) for rs in await replicasets(client))
            return revs == [3, 4]

        await until(trimmed, within=10)

        # pause: a template change makes no new ReplicaSet; scaling still happens; resume rolls out
        await client.patch(DEPLOYMENTS, "web", {"spec": {"paused": True}}, "default")

        async def paused() -> bool:
            return progressing(await get(client))["reason"] == "DeploymentPaused"

        await until(paused, within=10)
        await client.patch(DEPLOYMENTS, "web", {"spec": {"replicas": 3, "template": {"spec": {"containers": [
            {"name": "c", "image": "busybox:5"}]}}}}, "default")

        async def scaled() -> bool:
            return len(await live_pods(client)) == 3

        await until(scaled, within=10)
        await asyncio.sleep(0.3)
        images = {rs["spec"]["template"]["spec"]["containers"][0]["image"] for rs in await replicasets(client)}
        assert "busybox:5" not in images  # no new ReplicaSet while paused
        assert {p["spec"]["containers"][0]["image"] for p in await live_pods(client)} == {"busybox:4"}
        await client.patch(DEPLOYMENTS, "web", {"spec": {"paused": False}}, "default")
        await until(lambda: rollout_done(client), within=10)

        async def rolled() -> bool:
            pods = await live_pods(client)
            return len(pods) == 3 and {p["spec"]["containers"][0]["image"] for p in pods} == {"busybox:5"}

        await until(rolled, within=10)
