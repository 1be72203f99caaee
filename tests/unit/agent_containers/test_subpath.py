import os
from pathlib import Path
from typing import Any

import pytest

from pocketkube.agent.containers import CREATE_CONTAINER_CONFIG_ERROR, ContainerConfigError
from pocketkube.agent.volumes import container_mounts
from pocketkube.runtime.base import Mount

from .fakes import make_pod


@pytest.fixture()
def volume(tmp_path: Path) -> Path:
    vol = tmp_path / "vol"
    vol.mkdir()
    os.chmod(vol, 0o777)
    (vol / "conf").mkdir()
    (vol / "conf" / "app.ini").write_text("x")
    (vol / "inside").symlink_to("conf")
    (vol / "escape").symlink_to(tmp_path)
    (vol / "abs_escape").symlink_to("/etc")
    (vol / "dangling").symlink_to("nowhere")
    return vol


def mounts_for(volume: Path, *vms: dict[str, Any], env: dict[str, str] | None = None,
               volumes: list[dict[str, Any]] | None = None) -> list[Mount]:
    container = {"name": "c", "volumeMounts": list(vms)}
    pod = make_pod(container, volumes=volumes or [{"name": "v", "emptyDir": {}}])
    return container_mounts(pod, container, {"v": str(volume)}, env)


def test_plain_mount_options(volume: Path) -> None:
    assert mounts_for(volume, {"name": "v", "mountPath": "/a", "readOnly": True,
                               "mountPropagation": "HostToContainer"}) == [
        Mount(str(volume), "/a", readonly=True, propagation="rslave")]
    assert mounts_for(volume, {"name": "v", "mountPath": "/a", "mountPropagation": "Bidirectional"})[0].propagation \
        == "rshared"


def test_api_data_volumes_are_read_only(volume: Path) -> None:
    mounts = mounts_for(volume, {"name": "v", "mountPath": "/a"}, volumes=[{"name": "v", "configMap": {"name": "x"}}])
    assert mounts[0].readonly


@pytest.mark.parametrize(("subpath", "expected"), [
    ("conf", "conf"),
    ("conf/app.ini", "conf/app.ini"),
    ("inside/app.ini", "conf/app.ini"),            # a link that stays inside is followed
    ("./conf", "conf"),
])
def test_subpath_inside(volume: Path, subpath: str, expected: str) -> None:
    mounts = mounts_for(volume, {"name": "v", "mountPath": "/a", "subPath": subpath})
    assert mounts[0].host_path == str(volume / expected)


def test_missing_subpath_created_with_volume_mode(volume: Path) -> None:
    mounts = mounts_for(volume, {"name": "v", "mountPath": "/a", "subPath": "new/deeper"})
    assert mounts[0].host_path == str(volume / "new" / "deeper")
    assert (volume / "new" / "deeper").is_dir()
    assert os.stat(volume / "new").st_mode & 0o777 == 0o777


def test_subpath_expr(volume: Path) -> None:
    mounts = mounts_for(volume, {"name": "v", "mountPath": "/a", "subPathExpr": "logs/$(POD)"}, env={"POD": "web"})
    assert mounts[0].host_path == str(volume / "logs" / "web")


@pytest.mark.parametrize(("vm", "message"), [
    ({"subPath": "/etc"}, "error SubPath `/etc` must not be an absolute path"),
    ({"subPath": "../x"}, "unable to provision SubPath `../x`: must not contain '..'"),
    ({"subPath": "conf/../../x"}, "unable to provision SubPath `conf/../../x`: must not contain '..'"),
    ({"subPath": "escape"}, 'failed to prepare subPath for volumeMount "v" of container "c"'),
    ({"subPath": "abs_escape"}, 'failed to prepare subPath for volumeMount "v" of container "c"'),
    ({"subPath": "escape/vol/conf"}, 'failed to prepare subPath for volumeMount "v" of container "c"'),
    ({"subPath": "escape/made-up"}, 'failed to create subPath directory for volumeMount "v" of container "c"'),
    ({"subPath": "dangling"}, 'failed to create subPath directory for volumeMount "v" of container "c"'),
    ({"subPathExpr": "$(A)/$(B)/$(C)"}, "missing value for B, C"),
    ({"name": "other"}, 'cannot find volume "other" to mount into container "c"'),
])
def test_subpath_refused(volume: Path, vm: dict[str, Any], message: str) -> None:
    with pytest.raises(ContainerConfigError) as info:
        mounts_for(volume, {"name": "v", "mountPath": "/a", **vm}, env={"A": "a", "B": ""})
    assert (info.value.reason, info.value.message) == (CREATE_CONTAINER_CONFIG_ERROR, message)
    assert not (volume.parent / "made-up").exists()
