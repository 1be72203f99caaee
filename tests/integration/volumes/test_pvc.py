"""persistentVolumeClaim volumes end to end on this host (root): a claim provisioned and bound by the
real controllers over an in-process API server, mounted by the agent's VolumeManager through its
ApiSources; data written by one pod is there for its replacement."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pocketkube.agent.sources import ApiSources
from pocketkube.agent.volumes import VolumeError, VolumeManager
from pocketkube.api import resources
from pocketkube.api.obj import Obj
from pocketkube.controllers.volumes import LocalPathProvisioner, PersistentVolumeController
from tests.support.fake_kubelet import running
from tests.support.inprocess import inprocess_api
from tests.support.wait import until

pytestmark = pytest.mark.usefixtures("root")

CLAIMS = resources.require("", "v1", "persistentvolumeclaims")


def pod(uid: str, claim: str) -> Obj:
    return {"metadata": {"name": "web-0", "namespace": "default", "uid": uid},
            "spec": {"containers": [{"name": "c"}],
                     "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": claim}}]}}


class NoClaims:
    """Sources of an agent that only knows ConfigMaps and Secrets."""

    async def configmap(self, namespace: str, name: str) -> Obj | None:
        return None

    async def secret(self, namespace: str, name: str) -> Obj | None:
        return None


async def test_bound_claim_directory_survives_pod_replacement(tmp_path: Path) -> None:
    root = tmp_path / "volumes"
    manager = VolumeManager(str(tmp_path / "kubelet"), allocatable_memory=2**30)
    async with inprocess_api() as api:
        client = api.client
        sources = ApiSources(client)
        async with running(PersistentVolumeController(client), LocalPathProvisioner(client, str(root))):
            await client.create(CLAIMS, {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                         "metadata": {"name": "www-web-0", "namespace": "default"},
                                         "spec": {"accessModes": ["ReadWriteOnce"],
                                                  "resources": {"requests": {"storage": "1Gi"}}}})
            with pytest.raises(VolumeError) as unbound:
                await manager.setup(pod("pod-a", "www-web-0"), sources)
            assert 'MountVolume.SetUp failed for volume "www"' in str(unbound.value)

            async def bound() -> bool:
                return bool(((await client.get(CLAIMS, "www-web-0", "default")).get("status") or {}).get(
                    "phase") == "Bound")

            await until(bound, within=8)
            claim = await client.get(CLAIMS, "www-web-0", "default")

            paths = await manager.setup(pod("pod-a", "www-web-0"), sources)
            directory = root / f"pvc-{claim['metadata']['uid']}"
            assert paths == {"www": str(directory)}
            assert stat.S_IMODE(os.stat(directory).st_mode) == 0o777
            (directory / "index.html").write_text("hello from web-0")
            await manager.teardown("pod-a")
            assert (directory / "index.html").exists(), "teardown must not touch the claim's data"

            paths = await manager.setup(pod("pod-b", "www-web-0"), sources)
            assert (Path(paths["www"]) / "index.html").read_text() == "hello from web-0"
            await manager.teardown("pod-b")

            with pytest.raises(VolumeError, match='persistentvolumeclaim "nope" not found'):
                await manager.setup(pod("pod-c", "nope"), sources)
            await manager.teardown("pod-c")


async def test_sources_without_claims_fail_the_mount(tmp_path: Path) -> None:
    manager = VolumeManager(str(tmp_path / "kubelet"), allocatable_memory=2**30)
    with pytest.raises(VolumeError, match="cannot read PersistentVolumeClaims"):
        await manager.setup(pod("pod-x", "c"), NoClaims())
    await manager.teardown("pod-x")
