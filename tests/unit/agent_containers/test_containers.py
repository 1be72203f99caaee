from pathlib import Path
from typing import Any

import pytest

from pocketkube.agent.containers import (
    CREATE_CONTAINER_CONFIG_ERROR,
    CREATE_CONTAINER_ERROR,
    ContainerConfigError,
    ImageSettings,
    argv,
    container_resources,
    merge_env,
    resolve_container,
    resolve_user,
)
from pocketkube.images.base import ImageConfig
from pocketkube.runtime.base import Mount, Resources, User

from .fakes import Sources, make_pod

IMAGE = ImageSettings(entrypoint=["/entry"], cmd=["cmd-arg"])


@pytest.mark.parametrize(("container", "image", "expected"), [
    ({}, IMAGE, ("/entry", "cmd-arg")),                                         # neither: image's both
    ({"command": ["/bin/sh"]}, IMAGE, ("/bin/sh",)),                           # command drops Cmd
    ({"args": ["x", "y"]}, IMAGE, ("/entry", "x", "y")),                         # args replace Cmd
    ({"command": ["/bin/sh"], "args": ["-c", "true"]}, IMAGE, ("/bin/sh", "-c", "true")),
    ({}, ImageSettings(cmd=["sh"]), ("sh",)),                                    # no Entrypoint
    ({"args": ["echo"]}, ImageSettings(cmd=["sh"]), ("echo",)),
    ({"command": ["$(X)", "$$(X)", "$(NOPE)"]}, IMAGE, ("1", "$(X)", "$(NOPE)")),
    ({"args": ["$(X)-$(PATH)"]}, IMAGE, ("/entry", "1-$(PATH)")),               # image env invisible
])
def test_argv(container: dict[str, Any], image: ImageSettings, expected: tuple[str, ...]) -> None:
    assert argv(container, image, {"X": "1"}) == expected


def test_argv_nothing_to_run() -> None:
    with pytest.raises(ContainerConfigError) as info:
        argv({}, ImageSettings(), {})
    assert info.value.reason == CREATE_CONTAINER_ERROR


def test_merge_env_overrides_in_place() -> None:
    merged = merge_env(["PATH=/bin", "HOME=/root", "EQ=a=b"], {"HOME": "/home/x", "NEW": "1"})
    assert merged == ("PATH=/bin", "HOME=/home/x", "EQ=a=b", "NEW=1")


@pytest.fixture()
def rootfs(tmp_path: Path) -> str:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\n"
                                "app:x:1000:1001::/home/app:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\nwww:x:33:\napp:x:1001:\nwheel:x:10:root,app\naudio:x:29:app\n")
    return str(tmp_path)


def pod_with(pod_sc: dict[str, Any] | None = None, sc: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    container = {"name": "c", **({"securityContext": sc} if sc else {})}
    pod = make_pod(container, **({"securityContext": pod_sc} if pod_sc else {}))
    return pod, container


@pytest.mark.parametrize(("pod_sc", "sc", "image_user", "expected"), [
    (None, None, "", User(0, 0, (0, 10))),
    (None, None, "app", User(1000, 1001, (1001, 10, 29))),
    (None, None, "www:app", User(33, 1001, (1001,))),
    (None, None, "1000", User(1000, 1001, (1001, 10, 29))),
    (None, None, "4242", User(4242, 0, (0,))),                                   # not in passwd
    (None, None, "4242:77", User(4242, 77, (77,))),
    ({"runAsUser": 33}, None, "app", User(33, 33, (33,))),
    ({"runAsUser": 33}, {"runAsUser": 1000}, "", User(1000, 1001, (1001, 10, 29))),  # container wins
    ({"runAsUser": 5, "runAsGroup": 6, "supplementalGroups": [7, 6], "fsGroup": 8}, None, "", User(5, 6, (6, 7, 8))),
    ({"runAsGroup": 6}, None, "app", User(1000, 6, (6, 10, 29))),
])
def test_resolve_user(rootfs: str, pod_sc: Any, sc: Any, image_user: str, expected: User) -> None:
    pod, container = pod_with(pod_sc, sc)
    assert resolve_user(pod, container, image_user, rootfs) == expected


@pytest.mark.parametrize(("image_user", "message"), [
    ("nobody", "failed to generate spec: unable to find user nobody: no matching entries in passwd file"),
    ("app:nogroup", "failed to generate spec: unable to find group nogroup: no matching entries in group file"),
])
def test_unknown_user_or_group(rootfs: str, image_user: str, message: str) -> None:
    pod, container = pod_with()
    with pytest.raises(ContainerConfigError) as info:
        resolve_user(pod, container, image_user, rootfs)
    assert (info.value.reason, info.value.message) == (CREATE_CONTAINER_ERROR, message)


@pytest.mark.parametrize(("pod_sc", "sc", "image_user", "message"), [
    ({"runAsNonRoot": True}, None, "", "container has runAsNonRoot and image will run as root"),
    ({"runAsNonRoot": True}, None, "0:0", "container has runAsNonRoot and image will run as root"),
    (None, {"runAsNonRoot": True}, "app",
     "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root"),
    ({"runAsNonRoot": True, "runAsUser": 0}, None, "app", "container's runAsUser breaks non-root policy"),
])
def test_run_as_non_root(rootfs: str, pod_sc: Any, sc: Any, image_user: str, message: str) -> None:
    pod, container = pod_with(pod_sc, sc)
    with pytest.raises(ContainerConfigError) as info:
        resolve_user(pod, container, image_user, rootfs)
    assert info.value.reason == CREATE_CONTAINER_CONFIG_ERROR
    assert info.value.message == f'{message} (pod: "web_ns1(1234-abcd)", container: c)'


def test_run_as_non_root_allows_numeric_user(rootfs: str) -> None:
    pod, container = pod_with({"runAsNonRoot": True})
    assert resolve_user(pod, container, "1000", rootfs).uid == 1000
    pod, container = pod_with({"runAsNonRoot": False})
    assert resolve_user(pod, container, "", rootfs).uid == 0


@pytest.mark.parametrize(("resources", "expected"), [
    ({}, Resources()),
    ({"limits": {"cpu": "1", "memory": "64Mi"}}, Resources(1000, 1000, 64 * 2**20)),
    ({"requests": {"cpu": "100m"}, "limits": {"cpu": "0.5"}}, Resources(100, 500, 0)),
    ({"requests": {"cpu": "250m", "memory": "1G"}}, Resources(250, 0, 0)),
])
def test_container_resources(resources: dict[str, Any], expected: Resources) -> None:
    assert container_resources({"resources": resources}) == expected


async def test_resolve_container_end_to_end(rootfs: str) -> None:
    container = {
        "name": "app", "command": ["/bin/echo"], "args": ["$(GREETING)", "$(POD)"],
        "env": [{"name": "GREETING", "value": "hi"}, {"name": "PATH", "value": "/custom"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "securityContext": {"privileged": False, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                            "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
        "resources": {"limits": {"cpu": "200m", "memory": "32Mi"}},
        "tty": True, "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    pod = make_pod(container, volumes=[{"name": "data", "emptyDir": {}}])
    image = ImageConfig(entrypoint=("/ignored",), cmd=("ignored",), env=("PATH=/bin", "LANG=C"),
                        working_dir="/srv", user="app")
    extra = [Mount("/run/hosts", "/etc/hosts"), Mount("/run/other", "/data")]
    config = await resolve_container(pod, container, image, rootfs=rootfs, mounts=extra, log_path="/l/app/0.log",
                                     attempt=2, sources=Sources(), volume_paths={"data": rootfs})
    assert config.args == ("/bin/echo", "hi", "web")
    assert config.env == ("PATH=/custom", "LANG=C", "GREETING=hi", "POD=web")
    assert config.working_dir == "/srv"
    assert config.user == User(1000, 1001, (1001, 10, 29))
    assert config.read_only_rootfs and not config.allow_privilege_escalation and not config.privileged
    assert (config.capabilities_add, config.capabilities_drop) == (("NET_ADMIN",), ("ALL",))
    assert config.resources == Resources(200, 200, 32 * 2**20)
    assert config.mounts == (Mount(rootfs, "/data"), Mount("/run/hosts", "/etc/hosts"))  # volume wins on /data
    assert (config.log_path, config.attempt, config.terminal, config.rootfs) == ("/l/app/0.log", 2, True, rootfs)
    assert config.labels["io.kubernetes.pod.uid"] == "1234-abcd"
    assert config.annotations["io.kubernetes.container.restartCount"] == "2"


async def test_resolve_container_defaults_from_mapping_image(rootfs: str) -> None:
    pod = make_pod({"name": "c"})
    config = await resolve_container(pod, {"name": "c"}, {"Cmd": ["sh"], "Env": ["A=1"]}, rootfs=rootfs,
                                     sources=Sources())
    assert (config.args, config.env, config.working_dir, config.user.uid) == (("sh",), ("A=1",), "/", 0)
    assert config.allow_privilege_escalation and config.mounts == ()


async def test_resolve_container_workingdir_wins(rootfs: str) -> None:
    container = {"name": "c", "workingDir": "/w"}
    config = await resolve_container(make_pod(container), container, ImageConfig(cmd=("sh",), working_dir="/img"),
                                     rootfs=rootfs, sources=Sources())
    assert config.working_dir == "/w"


async def test_resolve_container_reports_missing_configmap(rootfs: str) -> None:
    container = {"name": "c", "envFrom": [{"configMapRef": {"name": "gone"}}]}
    with pytest.raises(ContainerConfigError) as info:
        await resolve_container(make_pod(container), container, IMAGE, rootfs=rootfs, sources=Sources())
    assert (info.value.reason, info.value.message) == (CREATE_CONTAINER_CONFIG_ERROR, 'configmap "gone" not found')
