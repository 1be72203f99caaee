"""VolumeManager against the real filesystem and real tmpfs mounts (root)."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from pocketkube.agent.containers import ContainerConfigError
from pocketkube.agent.volumes import VolumeError, VolumeManager, container_mounts
from pocketkube.images.mounts import parse_mountinfo

pytestmark = pytest.mark.usefixtures("root")

UID = "0a1b2c3d-pod"


class Sources:
    def __init__(self) -> None:
        self.configmaps: dict[str, dict[str, Any]] = {"cfg": {"data": {"app.ini": "a=1", "other": "o"}}}
        self.secrets: dict[str, dict[str, Any]] = {"sec": {"data": {"pw": base64.b64encode(b"hunter2").decode()}}}

    async def configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.configmaps.get(name)

    async def secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.secrets.get(name)


def pod(*volumes: dict[str, Any], memory_limit: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c"}
    if memory_limit:
        container["resources"] = {"limits": {"memory": memory_limit}}
    return {"metadata": {"name": "p", "namespace": "default", "uid": UID, "labels": {"a": "b"}},
            "spec": {"containers": [container], "volumes": list(volumes)}}


def mounts_under(path: Path) -> list[tuple[str, str, str]]:
    """(mount point, fstype, super options) of mounts at or below `path`."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            point = parse_mountinfo(line)[0]
            if point == str(path) or point.startswith(str(path) + "/"):
                sep = fields.index("-")
                found.append((point, fields[sep + 1], fields[sep + 3]))
    return found


@pytest.fixture()
async def manager(tmp_path: Path) -> Any:
    mgr = VolumeManager(str(tmp_path / "kubelet"), allocatable_memory=512 * 2**20)
    yield mgr
    await mgr.teardown(UID)
    assert mounts_under(tmp_path) == []


def vol_dir(tmp_path: Path, plugin: str, name: str) -> Path:
    return tmp_path / "kubelet" / "pods" / UID / "volumes" / plugin / name


async def test_empty_dir_on_disk_and_memory(manager: VolumeManager, tmp_path: Path) -> None:
    spec = pod({"name": "disk", "emptyDir": {}}, {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
               {"name": "mem2", "emptyDir": {"medium": "Memory"}}, memory_limit="64Mi")
    paths = await manager.setup(spec, Sources())
    disk = vol_dir(tmp_path, "kubernetes.io~empty-dir", "disk")
    mem = vol_dir(tmp_path, "kubernetes.io~empty-dir", "mem")
    assert paths["disk"] == str(disk) and paths["mem"] == str(mem)
    assert os.stat(disk).st_mode & 0o777 == 0o777
    found = {point: (fstype, opts) for point, fstype, opts in mounts_under(tmp_path)}
    assert str(disk) not in found
    assert found[str(mem)][0] == "tmpfs" and "size=16384k" in found[str(mem)][1]
    mem2 = vol_dir(tmp_path, "kubernetes.io~empty-dir", "mem2")
    assert "size=65536k" in found[str(mem2)][1]          # the pod's memory limit bounds it
    (mem / "f").write_text("x")
    assert await manager.setup(spec, Sources()) == paths   # idempotent: no second mount
    assert len(mounts_under(mem)) == 1 and (mem / "f").exists()
    await manager.teardown(UID)
    assert mounts_under(tmp_path) == []
    assert not (tmp_path / "kubelet" / "pods" / UID).exists()


async def test_configmap_secret_downward_projected(manager: VolumeManager, tmp_path: Path) -> None:
    sources = Sources()
    spec = pod({"name": "cm", "configMap": {"name": "cfg", "items": [{"key": "app.ini", "path": "conf/app.ini"}]}},
               {"name": "s", "secret": {"secretName": "sec", "defaultMode": 0o400}},
               {"name": "d", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
               {"name": "pr", "projected": {"sources": [{"configMap": {"name": "cfg"}}, {"secret": {"name": "sec"}},
                                                        {"serviceAccountToken": {"path": "token"}}]}})
    paths = await manager.setup(spec, sources)
    cm = Path(paths["cm"])
    assert cm == vol_dir(tmp_path, "kubernetes.io~configmap", "cm")
    assert os.readlink(cm / "conf") == "..data/conf" and os.readlink(cm / "..data").startswith("..")
    assert (cm / "conf" / "app.ini").read_text() == "a=1"
    assert os.stat(cm / "conf" / "app.ini").st_mode & 0o777 == 0o644
    secret = Path(paths["s"])
    assert (secret / "pw").read_bytes() == b"hunter2" and os.stat(secret / "pw").st_mode & 0o777 == 0o400
    assert (Path(paths["d"]) / "labels").read_text() == 'a="b"'
    projected = Path(paths["pr"])
    assert sorted(p.name for p in projected.iterdir() if not p.name.startswith("..")) == ["app.ini", "other", "pw"]
    fstypes = {point: fstype for point, fstype, _ in mounts_under(tmp_path)}
    assert fstypes == {str(secret): "tmpfs", str(projected): "tmpfs"}   # secrets never touch the disk

    # An update is swapped in atomically; a subPath bind of the old file would keep the old one.
    old_data = os.readlink(cm / "..data")
    sources.configmaps["cfg"] = {"data": {"app.ini": "a=2"}}
    assert await manager.refresh(spec, sources) == ["cm", "pr"]
    assert (cm / "conf" / "app.ini").read_text() == "a=2"
    assert os.readlink(cm / "..data") != old_data and not (cm / old_data).exists()
    assert not (projected / "other").exists()
    assert await manager.refresh(spec, sources) == []


@pytest.mark.parametrize(("volume", "message"), [
    ({"configMap": {"name": "nope"}}, 'MountVolume.SetUp failed for volume "v" : configmap "nope" not found'),
    ({"secret": {"secretName": "nope"}}, 'MountVolume.SetUp failed for volume "v" : secret "nope" not found'),
    ({"configMap": {"name": "cfg", "items": [{"key": "zz", "path": "zz"}]}},
     'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: zz'),
])
async def test_missing_objects(manager: VolumeManager, tmp_path: Path, volume: dict[str, Any], message: str) -> None:
    with pytest.raises(VolumeError) as info:
        await manager.setup(pod({"name": "v", **volume}), Sources())
    assert str(info.value) == message and info.value.reason == "FailedMount"
    assert mounts_under(tmp_path) == []


async def test_optional_missing_configmap_gives_empty_volume(manager: VolumeManager) -> None:
    paths = await manager.setup(pod({"name": "v", "configMap": {"name": "nope", "optional": True}}), Sources())
    assert sorted(p.name for p in Path(paths["v"]).iterdir() if not p.name.startswith("..")) == []


async def test_host_path_types(manager: VolumeManager, tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "file").write_text("x")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(host / "sock"))
    ok = [("d", str(host), "Directory"), ("f", str(host / "file"), "File"), ("s", str(host / "sock"), "Socket"),
          ("n", str(host / "null"), ""), ("c", "/dev/null", "CharDevice"),
          ("dc", str(host / "made" / "deep"), "DirectoryOrCreate"), ("fc", str(host / "new-file"), "FileOrCreate")]
    spec = pod(*[{"name": n, "hostPath": {"path": p, "type": t}} for n, p, t in ok])
    paths = await manager.setup(spec, Sources())
    assert paths == {n: p for n, p, _ in ok}
    assert (host / "made" / "deep").is_dir() and os.stat(host / "made" / "deep").st_mode & 0o777 == 0o755
    assert (host / "new-file").is_file() and os.stat(host / "new-file").st_mode & 0o777 == 0o644
    sock.close()
    await manager.teardown(UID)
    assert (host / "file").exists()                       # teardown never touches host paths

    bad = [(str(host / "file"), "Directory", "is not a directory"), (str(host), "File", "is not a file"),
           (str(host), "Socket", "is not a socket file"), (str(host), "CharDevice", "is not a character device"),
           ("/dev/null", "BlockDevice", "is not a block device"), (str(host / "missing"), "Directory", "is not a directory")]
    for path, kind, what in bad:
        with pytest.raises(VolumeError) as info:
            await manager.setup(pod({"name": "h", "hostPath": {"path": path, "type": kind}}), Sources())
        assert str(info.value) == f'MountVolume.SetUp failed for volume "h" : hostPath type check failed: {path} {what}'


async def test_subpath_escape_through_planted_symlink(manager: VolumeManager, tmp_path: Path) -> None:
    secret_dir = tmp_path / "host-secret"
    secret_dir.mkdir()
    spec = pod({"name": "data", "emptyDir": {}}, {"name": "cm", "configMap": {"name": "cfg"}})
    paths = await manager.setup(spec, Sources())
    data = Path(paths["data"])
    # What a container could do through an earlier mount of the emptyDir:
    (data / "evil").symlink_to(secret_dir)
    (data / "evil-abs").symlink_to("/")
    (data / "ok").symlink_to("sub")
    (data / "sub").mkdir()
    for sub in ("evil", "evil-abs/etc", "evil/x"):
        container = {"name": "c", "volumeMounts": [{"name": "data", "mountPath": "/d", "subPath": sub}]}
        with pytest.raises(ContainerConfigError) as info:
            container_mounts(spec, container, paths)
        assert info.value.reason == "CreateContainerConfigError"
        assert "subPath" in info.value.message
    assert not (secret_dir / "x").exists()
    container = {"name": "c", "volumeMounts": [{"name": "data", "mountPath": "/d", "subPath": "ok"},
                                               {"name": "cm", "mountPath": "/etc/app.ini", "subPath": "app.ini"}]}
    mounts = container_mounts(spec, container, paths)
    assert mounts[0].host_path == str(data / "sub")
    assert mounts[1].host_path.startswith(paths["cm"] + "/..") and mounts[1].readonly
    assert Path(mounts[1].host_path).read_text() == "a=1"
