"""The StatefulSet controller against an in-process API server, with a fake kubelet making pods run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pocketkube.api import errors, resources
from pocketkube.api.obj import Obj
from pocketkube.client import ApiClient
from pocketkube.client.informer import Handlers, Informer
from pocketkube.controllers.statefulset import StatefulSetController
from pocketkube.controllers.volumes import LocalPathProvisioner, PersistentVolumeController
from tests.support.fake_kubelet import FakeKubelet, running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

PODS = resources.require("", "v1", "pods")
CLAIMS = resources.require("", "v1", "persistentvolumeclaims")
STATEFULSETS = resources.require("apps", "v1", "statefulsets")
REVISIONS = resources.require("apps", "v1", "controllerrevisions")


def statefulset(name: str, replicas: int, **spec_extra: Any) -> Obj:
    labels = {"app": name}
    spec: Obj = {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "www"},
                                           "spec": {"accessModes": ["ReadWriteOnce"],
                                                    "resources": {"requests": {"storage": "1Gi"}}}}],
                 **spec_extra}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": "default"},
            "spec": spec}


def is_ready(pod: Obj | None) -> bool:
    return pod is not None and any(c.get("type") == "Ready" and c.get("status") == "True"
                                   for c in (pod.get("status") or {}).get("conditions") or [])


class Observer:
    """Records, in watch order, pod creations and deletions with what the cluster looked like then."""

    def __init__(self, client: ApiClient):
        self.pods = Informer(client, PODS)
        self.created: list[tuple[str, bool]] = []  # (name, previous ordinal was Ready at that moment)
        self.deleted: list[tuple[str, set[str]]] = []  # (name, pod names left)
        self.pods.add_handlers(Handlers(on_add=self._added, on_delete=self._deleted))

    def _added(self, pod: Obj) -> None:
        name = pod["metadata"]["name"]
        base, _, ordinal = name.rpartition("-")
        previous = self.pods.get(f"default/{base}-{int(ordinal) - 1}") if int(ordinal) else None
        self.created.append((name, int(ordinal) == 0 or is_ready(previous)))

    def _deleted(self, pod: Obj) -> None:
        self.deleted.append((pod["metadata"]["name"], {p["metadata"]["name"] for p in self.pods.list()}))

    async def run(self) -> None:
        await self.pods.run()


async def get_or_none(client: ApiClient, name: str) -> Obj | None:
    try:
        return await client.get(PODS, name, "default")
    except errors.StatusError as exc:
        assert exc.code == 404
        return None


async def sts_status(client: ApiClient, name: str = "web") -> Obj:
    return dict((await client.get(STATEFULSETS, name, "default")).get("status") or {})


def all_ready(client: ApiClient, n: int, name: str = "web") -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        st = await sts_status(client, name)
        return st.get("replicas") == n and st.get("readyReplicas") == n and st.get("updatedReplicas") == n
    return check


async def test_ordered_ready_up_replace_and_down() -> None:
    held = {"web-1"}
    async with inprocess_api() as api:
        client = api.client
        observer = Observer(client)
        kubelet = FakeKubelet(client, ready=lambda p: p["metadata"]["name"] not in held, termination_delay=0.2)
        async with running(StatefulSetController(client), kubelet, observer):
            await client.create(STATEFULSETS, statefulset("web", 3))

            async def web1_running() -> bool:
                pod = await get_or_none(client, "web-1")
                return pod is not None and (pod.get("status") or {}).get("phase") == "Running"

            await until(web1_running, within=8)
            await asyncio.sleep(0.5)
            assert await get_or_none(client, "web-2") is None, "web-2 created before web-1 was Ready"
            held.clear()
            await client.patch(PODS, "web-1", {"metadata": {"labels": {"poke": "1"}}}, "default")
            await until(all_ready(client, 3), within=8)
            assert observer.created == [("web-0", True), ("web-1", True), ("web-2", True)]

            pod = await client.get(PODS, "web-1", "default")
            assert pod["spec"]["hostname"] == "web-1" and pod["spec"]["subdomain"] == "web"
            labels = pod["metadata"]["labels"]
            assert labels["statefulset.kubernetes.io/pod-name"] == "web-1"
            assert labels["apps.kubernetes.io/pod-index"] == "1"
            status = await sts_status(client)
            assert labels["controller-revision-hash"] == status["updateRevision"] == status["currentRevision"]
            assert status["availableReplicas"] == 3 and status["currentReplicas"] == 3
            assert status["observedGeneration"] == 1
            claims = sorted(c["metadata"]["name"] for c in (await client.list(CLAIMS, "default"))["items"])
            assert claims == ["www-web-0", "www-web-1", "www-web-2"]
            assert {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-1"}} in pod["spec"]["volumes"]

            # A deleted pod comes back with the same name, hostname and claim.
            old_uid = pod["metadata"]["uid"]
            await client.delete(PODS, "web-1", "default")

            async def replaced() -> bool:
                new = await get_or_none(client, "web-1")
                return new is not None and new["metadata"]["uid"] != old_uid and is_ready(new)

            await until(replaced, within=8)
            new = await client.get(PODS, "web-1", "default")
            assert new["spec"]["hostname"] == "web-1"
            assert {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-1"}} in new["spec"]["volumes"]

            # Scale down: web-2 goes first, web-1 only after web-2 is gone; claims stay (Retain).
            observer.deleted.clear()
            await client.patch(STATEFULSETS, "web", {"spec": {"replicas": 1}}, "default")
            await until(all_ready(client, 1), within=8)
            assert [name for name, _ in observer.deleted] == ["web-2", "web-1"]
            assert "web-2" not in observer.deleted[1][1]
            claims = sorted(c["metadata"]["name"] for c in (await client.list(CLAIMS, "default"))["items"])
            assert claims == ["www-web-0", "www-web-1", "www-web-2"]


async def test_partitioned_rolling_update_goes_down_from_the_highest_ordinal() -> None:
    async with inprocess_api() as api:
        client = api.client
        observer = Observer(client)
        async with running(StatefulSetController(client), FakeKubelet(client, termination_delay=0.1), observer):
            await client.create(STATEFULSETS, statefulset("web", 3, updateStrategy={
                "type": "RollingUpdate", "rollingUpdate": {"partition": 1}}))
            await until(all_ready(client, 3), within=8)
            first = (await sts_status(client))["updateRevision"]
            observer.deleted.clear()
            await client.patch(STATEFULSETS, "web", {"spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "nginx:2"}]}}}}, "default")

            async def partition_done() -> bool:
                st = await sts_status(client)
                return (st.get("updatedReplicas") == 2 and st.get("readyReplicas") == 3
                        and st.get("updateRevision") != first)

            await until(partition_done, within=8)
            await asyncio.sleep(0.3)
            st = await sts_status(client)
            assert st["currentRevision"] == first and st["currentReplicas"] == 1 and st["updatedReplicas"] == 2
            images = {n: (await client.get(PODS, n, "default"))["spec"]["containers"][0]["image"]
                      for n in ("web-0", "web-1", "web-2")}
            assert images == {"web-0": "nginx:1", "web-1": "nginx:2", "web-2": "nginx:2"}
            assert [name for name, _ in observer.deleted] == ["web-2", "web-1"]
            revisions = (await client.list(REVISIONS, "default"))["items"]
            assert sorted(r["revision"] for r in revisions) == [1, 2]

            await client.patch(STATEFULSETS, "web", {"spec": {"updateStrategy": {
                "rollingUpdate": {"partition": 0}}}}, "default")

            async def complete() -> bool:
                st = await sts_status(client)
                return st.get("currentRevision") == st.get("updateRevision") != first and \
                    st.get("currentReplicas") == 3 and st.get("readyReplicas") == 3

            await until(complete, within=8)
            web0 = await client.get(PODS, "web-0", "default")
            assert web0["spec"]["containers"][0]["image"] == "nginx:2"


async def test_parallel_creates_all_at_once_and_on_delete_waits_for_deletion() -> None:
    async with inprocess_api() as api:
        client = api.client
        never_ready = FakeKubelet(client, ready=lambda _p: False)
        async with running(StatefulSetController(client), never_ready):
            await client.create(STATEFULSETS, statefulset("db", 3, podManagementPolicy="Parallel",
                                                          updateStrategy={"type": "OnDelete"}))

            async def three() -> bool:
                return (await sts_status(client, "db")).get("replicas") == 3

            await until(three, within=8)
            assert (await sts_status(client, "db"))["readyReplicas"] == 0
            await client.patch(STATEFULSETS, "db", {"spec": {"template": {"spec": {"containers": [
                {"name": "c", "image": "nginx:2"}]}}}}, "default")

            async def new_revision() -> bool:
                st = await sts_status(client, "db")
                return st.get("updateRevision") != st.get("currentRevision")

            await until(new_revision, within=8)
            await asyncio.sleep(0.3)
            for name in ("db-0", "db-1", "db-2"):
                assert (await client.get(PODS, name, "default"))["spec"]["containers"][0]["image"] == "nginx:1"
            await client.delete(PODS, "db-1", "default")

            async def db1_updated() -> bool:
                pod = await get_or_none(client, "db-1")
                return pod is not None and pod["spec"]["containers"][0]["image"] == "nginx:2"

            await until(db1_updated, within=8)
            assert (await sts_status(client, "db"))["updatedReplicas"] == 1


async def test_when_scaled_delete_removes_claims_of_scaled_away_ordinals() -> None:
    async with inprocess_api() as api:
        client = api.client
        async with running(StatefulSetController(client), FakeKubelet(client)):
            await client.create(STATEFULSETS, statefulset("web", 2, persistentVolumeClaimRetentionPolicy={
                "whenDeleted": "Retain", "whenScaled": "Delete"}))
            await until(all_ready(client, 2), within=8)
            await client.patch(STATEFULSETS, "web", {"spec": {"replicas": 1}}, "default")

            async def one_claim() -> bool:
                items = (await client.list(CLAIMS, "default"))["items"]
                return [c["metadata"]["name"] for c in items if not c["metadata"].get("deletionTimestamp")] == \
                    ["www-web-0"]

            await until(one_claim, within=8)


async def test_claims_of_a_set_are_provisioned_and_bound(tmp_path: Any) -> None:
    async with inprocess_api() as api:
        client = api.client
        async with running(StatefulSetController(client), FakeKubelet(client), PersistentVolumeController(client),
                           LocalPathProvisioner(client, str(tmp_path))):
            await client.create(STATEFULSETS, statefulset("web", 2))
            await until(all_ready(client, 2), within=8)

            async def bound() -> bool:
                items = (await client.list(CLAIMS, "default"))["items"]
                return len(items) == 2 and all((c.get("status") or {}).get("phase") == "Bound" for c in items)

            await until(bound, within=8)
            claim = await client.get(CLAIMS, "www-web-1", "default")
            assert claim["spec"]["storageClassName"] == "local-path"
            assert claim["spec"]["volumeName"] == f"pvc-{claim['metadata']['uid']}"
            assert claim["metadata"]["labels"] == {"app": "web"}
