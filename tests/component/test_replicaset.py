"""The ReplicaSet controller against an in-process API server, with a fake kubelet making pods run."""

from __future__ import annotations

import asyncio
from typing import Any

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.controllers.replicaset import ReplicaSetController
from tests.support.fake_kubelet import FakeKubelet, running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

PODS = resources.require("", "v1", "pods")
REPLICASETS = resources.require("apps", "v1", "replicasets")
EVENTS = resources.require("", "v1", "events")


def replicaset(name: str, replicas: int, min_ready: int = 0) -> Obj:
    labels = {"app": name}
    spec: Obj = {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}
    if min_ready:
        spec["minReadySeconds"] = min_ready
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, "namespace": "default"},
            "spec": spec}


def bare_pod(name: str, labels: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


async def pods_of(client: ApiClient, rs: str) -> list[Obj]:
    items = (await client.list(PODS, "default"))["items"]
    return [p for p in items if any(r["name"] == rs for r in p["metadata"].get("ownerReferences") or [])
            and not p["metadata"].get("deletionTimestamp")]


async def rs_status(client: ApiClient, name: str) -> Obj:
    return dict((await client.get(REPLICASETS, name, "default")).get("status") or {})


async def test_scale_up_and_down_deletes_the_least_useful_pods() -> None:
    async with inprocess_api() as api:
        client = api.client
        async with running(ReplicaSetController(client), FakeKubelet(client)):
            await client.create(REPLICASETS, replicaset("web", 3))

            async def ready(n: int) -> bool:
                st = await rs_status(client, "web")
                return st.get("replicas") == n and st.get("readyReplicas") == n and st.get("availableReplicas") == n

            await until(lambda: ready(3), within=8)
            pods = await pods_of(client, "web")
            assert all(p["metadata"]["name"].startswith("web-") for p in pods)
            ref = pods[0]["metadata"]["ownerReferences"][0]
            assert ref["kind"] == "ReplicaSet" and ref["controller"] is True
            first = {p["metadata"]["name"] for p in pods}
            await asyncio.sleep(1.1)  # timestamps have second precision: let the next pods be visibly younger

            await client.patch(REPLICASETS, "web", {"spec": {"replicas": 10}}, "default")
            await until(lambda: ready(10), within=8)
            st = await rs_status(client, "web")
            assert st["fullyLabeledReplicas"] == 10 and st["observedGeneration"] == 2

            await client.patch(REPLICASETS, "web", {"spec": {"replicas": 2}}, "default")
            await until(lambda: ready(2), within=8)
            left = {p["metadata"]["name"] for p in await pods_of(client, "web")}
            # the pods ready for less time go first, so two of the first three survive
            assert left <= first, (left, first)

            events = (await client.list(EVENTS, "default"))["items"]
            reasons = {e["reason"] for e in events}
            assert {"SuccessfulCreate", "SuccessfulDelete"} <= reasons
            created = [e["message"] for e in events if e["reason"] == "SuccessfulCreate"]
            assert all(m.startswith("Created pod: web-") for m in created)


async def test_unready_pods_go_first() -> None:
    async with inprocess_api() as api:
        client = api.client
        kubelet = FakeKubelet(client, ready=lambda p: p["metadata"]["labels"].get("ok") == "yes")
        async with running(ReplicaSetController(client), kubelet):
            await client.create(REPLICASETS, replicaset("web", 4))

            async def four() -> bool:
                return (await rs_status(client, "web")).get("replicas") == 4

            await until(four, within=8)
            pods = sorted(await pods_of(client, "web"), key=lambda p: p["metadata"]["name"])
            keep = [p["metadata"]["name"] for p in pods[:2]]
            for name in keep:  # the labels still match the selector: these stay owned
                await client.patch(PODS, name, {"metadata": {"labels": {"ok": "yes"}}}, "default")

            async def two_ready() -> bool:
                return (await rs_status(client, "web")).get("readyReplicas") == 2

            await until(two_ready, within=8)
            await client.patch(REPLICASETS, "web", {"spec": {"replicas": 2}}, "default")

            async def kept() -> bool:
                return sorted(p["metadata"]["name"] for p in await pods_of(client, "web")) == sorted(keep)

            await until(kept, within=8)


async def test_adopts_orphans_releases_strays_and_replaces_deleted_pods() -> None:
    async with inprocess_api() as api:
        client = api.client
        await client.create(PODS, bare_pod("orphan", {"app": "web"}))
        await client.create(PODS, bare_pod("other", {"app": "db"}))
        async with running(ReplicaSetController(client), FakeKubelet(client, termination_delay=0.5)):
            await client.create(REPLICASETS, replicaset("web", 2))

            async def two() -> bool:
                return len(await pods_of(client, "web")) == 2 and (await rs_status(client, "web")).get(
                    "readyReplicas") == 2

            await until(two, within=8)
            names = {p["metadata"]["name"] for p in await pods_of(client, "web")}
            assert "orphan" in names  # adopted, so only one pod was created
            other = await client.get(PODS, "other", "default")
            assert not other["metadata"].get("ownerReferences")

            # release: relabel the orphan; the ReplicaSet lets go and makes another
            await client.patch(PODS, "orphan", {"metadata": {"labels": {"app": "gone"}}}, "default")

            async def released() -> bool:
                pod = await client.get(PODS, "orphan", "default")
                return not pod["metadata"].get("ownerReferences") and len(await pods_of(client, "web")) == 2

            await until(released, within=8)

            # a deleted pod is replaced at once, even while it is still terminating
            victim = (await pods_of(client, "web"))[0]["metadata"]["name"]
            await client.delete(PODS, victim, "default")

            async def replaced() -> bool:
                current = {p["metadata"]["name"] for p in await pods_of(client, "web")}
                return len(current) == 2 and victim not in current

            await until(replaced, within=0.45)


async def test_min_ready_seconds_delays_availability() -> None:
    async with inprocess_api() as api:
        client = api.client
        async with running(ReplicaSetController(client), FakeKubelet(client)):
            await client.create(REPLICASETS, replicaset("web", 2, min_ready=2))

            async def ready() -> bool:
                return (await rs_status(client, "web")).get("readyReplicas") == 2

            await until(ready, within=8)
            assert not (await rs_status(client, "web")).get("availableReplicas")

            async def available() -> bool:
                return (await rs_status(client, "web")).get("availableReplicas") == 2

            await until(available, within=5)


class RefusingClient(ApiClient):
    """Refuses pod creation, as a quota or admission webhook would; everything else goes through."""

    refuse = True

    async def create(self, resource: Any, obj: Obj, namespace: str | None = None, field_manager: str = "") -> Obj:
        if resource.plural == "pods" and self.refuse:
            raise errors.StatusError(403, "Forbidden", 'pods "web-x" is forbidden: exceeded quota: q')
        return await super().create(resource, obj, namespace, field_manager)


async def test_create_errors_set_replica_failure_until_creates_succeed() -> None:
    async with inprocess_api() as api:
        client = RefusingClient(api.client.config)
        try:
            async with running(ReplicaSetController(client)):
                await client.create(REPLICASETS, replicaset("web", 2))

                async def failed() -> bool:
                    conds = (await rs_status(client, "web")).get("conditions") or []
                    return any(c["type"] == "ReplicaFailure" and c["reason"] == "FailedCreate"
                               and "exceeded quota" in c["message"] for c in conds)

                await until(failed, within=8)
                events = (await client.list(EVENTS, "default"))["items"]
                assert any(e["reason"] == "FailedCreate" and e["message"].startswith("Error creating: pods")
                           for e in events)
                client.refuse = False

                async def recovered() -> bool:
                    st = await rs_status(client, "web")
                    return st.get("replicas") == 2 and not st.get("conditions")

                await until(recovered, within=8)
        finally:
            await client.close()


async def test_a_terminating_namespace_is_no_create_failure() -> None:
    namespaces = resources.require("", "v1", "namespaces")
    async with inprocess_api() as api:
        client = api.client
        async with running(ReplicaSetController(client)):
            await client.create(namespaces, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "going"}})
            await client.create(REPLICASETS, {**replicaset("web", 0), "metadata": {"name": "web",
                                                                                  "namespace": "going"}})
            await client.delete(namespaces, "going")  # no namespace controller: it stays Terminating
            await client.patch(REPLICASETS, "web", {"spec": {"replicas": 2}}, "going")

            async def observed() -> bool:
                st = dict((await client.get(REPLICASETS, "web", "going")).get("status") or {})
                return st.get("observedGeneration") == 2

            await until(observed, within=8)
            status = (await client.get(REPLICASETS, "web", "going"))["status"]
            assert not status.get("conditions") and not status.get("replicas")
