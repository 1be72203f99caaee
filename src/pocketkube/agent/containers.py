"""From a pod's container spec and its image config to the runtime's `ContainerConfig`.

The kubelet and containerd share this job in Kubernetes; here one place does both halves:

- argv: `command` replaces the image Entrypoint *and* drops its Cmd; `args` replaces Cmd; both are
  `$(VAR)`-expanded against the kubelet's environment (not the image's).
- env: the image Env first; the kubelet's variables (`env.resolve_env`) then overwrite a key in
  place or are appended, as containerd's WithEnv merges them.
- working dir: container, else image, else `/`.
- user: runAsUser/runAsGroup (container wins over pod), else the image User, names looked up in
  the rootfs' /etc/passwd and /etc/group the way containerd does; supplementary groups are the
  primary group, the image's group memberships, then pod supplementalGroups and fsGroup.
- security: privileged, capabilities, readOnlyRootFilesystem, allowPrivilegeEscalation,
  runAsNonRoot checked with the kubelet's messages.
- resources: requests/limits as millicores and bytes.

Only user lookup reads files (the rootfs); everything else is computed from the arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pocketkube.agent.env import (
    CREATE_CONTAINER_CONFIG_ERROR,
    CREATE_CONTAINER_ERROR,
    ConfigSources,
    ContainerConfigError,
    Json,
    config_error,
    expand,
    mapping_for,
    resolve_env,
)
from pocketkube.agent.volumes.subpath import container_mounts
from pocketkube.api.quantity import to_bytes, to_millicores
from pocketkube.runtime.base import ContainerConfig, Mount, Resources, User

__all__ = [
    "CREATE_CONTAINER_CONFIG_ERROR", "CREATE_CONTAINER_ERROR", "ContainerConfigError", "ImageSettings",
    "argv", "container_resources", "image_settings", "merge_env", "resolve_container", "resolve_user",
]


class ImageSettings:
    """The image config fields a container needs, from an `images.base.ImageConfig` or from a
    plain mapping with Docker's names (Entrypoint, Cmd, Env, WorkingDir, User)."""

    def __init__(self, entrypoint: Sequence[str] = (), cmd: Sequence[str] = (), env: Sequence[str] = (),
                 working_dir: str = "", user: str = "") -> None:
        self.entrypoint = tuple(entrypoint)
        self.cmd = tuple(cmd)
        self.env = tuple(env)
        self.working_dir = working_dir
        self.user = user


def image_settings(image_config: Any) -> ImageSettings:
    if image_config is None:
        return ImageSettings()
    if isinstance(image_config, ImageSettings):
        return image_config
    if isinstance(image_config, Mapping):
        return ImageSettings(image_config.get("Entrypoint") or (), image_config.get("Cmd") or (),
                             image_config.get("Env") or (), image_config.get("WorkingDir") or "",
                             image_config.get("User") or "")
    return ImageSettings(image_config.entrypoint, image_config.cmd, image_config.env,
                         image_config.working_dir, image_config.user)


def argv(container: Json, image: ImageSettings, env: Mapping[str, str]) -> tuple[str, ...]:
    """The process argv by Kubernetes' rules; raises CreateContainerError when nothing is left."""
    mapping = mapping_for(env)
    command = [expand(str(part), mapping) for part in container.get("command") or []]
    args = [expand(str(part), mapping) for part in container.get("args") or []]
    if command:
        result = command + args
    else:
        result = list(image.entrypoint) + (args if args else list(image.cmd))
    if not result:
        raise ContainerConfigError(CREATE_CONTAINER_ERROR, "failed to generate spec: no command specified")
    return tuple(result)


def merge_env(image_env: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    """Image `KEY=VALUE` entries, overwritten in place by the kubelet's, new keys appended."""
    merged: dict[str, str] = {}
    for entry in image_env:
        key, _, value = entry.partition("=")
        merged[key] = value
    merged.update(env)
    return tuple(f"{key}={value}" for key, value in merged.items())


# --- user ------------------------------------------------------------------------------------------

def _security(pod: Json, container: Json) -> tuple[Json, Json]:
    return (pod.get("spec") or {}).get("securityContext") or {}, container.get("securityContext") or {}


def _effective(pod_sc: Json, container_sc: Json, field: str) -> Any:
    value = container_sc.get(field)
    return pod_sc.get(field) if value is None else value


def _read_db(rootfs: str, name: str) -> list[list[str]]:
    path = Path(rootfs) / "etc" / name
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _find_user(passwd: list[list[str]], user: str) -> list[str] | None:
    for entry in passwd:
        if len(entry) >= 4 and (entry[0] == user or (user.isdigit() and entry[2] == user)):
            return entry
    return None


def _find_group(groups: list[list[str]], group: str) -> int | None:
    for entry in groups:
        if len(entry) >= 3 and (entry[0] == group or (group.isdigit() and entry[2] == group)):
            return int(entry[2])
    return int(group) if group.isdigit() else None


def _pod_label(pod: Json) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('name', '')}_{meta.get('namespace', '')}({meta.get('uid', '')})"


def _check_non_root(pod: Json, container: Json, image_user: str, run_as_user: int | None) -> None:
    """verifyRunAsNonRoot, messages as the kubelet words them."""
    pod_sc, container_sc = _security(pod, container)
    if not _effective(pod_sc, container_sc, "runAsNonRoot"):
        return
    where = f'(pod: "{_pod_label(pod)}", container: {container.get("name", "")})'
    if run_as_user is not None:
        if run_as_user == 0:
            raise config_error(f"container's runAsUser breaks non-root policy {where}")
        return
    name = image_user.partition(":")[0]
    if not name or name == "0":
        raise config_error(f"container has runAsNonRoot and image will run as root {where}")
    if not name.isdigit():
        raise config_error(f"container has runAsNonRoot and image has non-numeric user ({name}), "
                           f"cannot verify user is non-root {where}")


def resolve_user(pod: Json, container: Json, image_user: str, rootfs: str) -> User:
    pod_sc, container_sc = _security(pod, container)
    run_as_user = _effective(pod_sc, container_sc, "runAsUser")
    run_as_group = _effective(pod_sc, container_sc, "runAsGroup")
    _check_non_root(pod, container, image_user, run_as_user)
    passwd = _read_db(rootfs, "passwd")
    groups = _read_db(rootfs, "group")

    if run_as_user is not None:
        user_part, group_part = str(run_as_user), ""  # runAsUser never takes the image's group
    else:
        user_part, _, group_part = image_user.partition(":")
    entry = _find_user(passwd, user_part) if user_part else _find_user(passwd, "0")
    if user_part and not user_part.isdigit() and entry is None:
        raise ContainerConfigError(CREATE_CONTAINER_ERROR, f"failed to generate spec: unable to find user "
                                                           f"{user_part}: no matching entries in passwd file")
    uid = int(user_part) if user_part.isdigit() else (int(entry[2]) if entry else 0)
    gid = int(entry[3]) if entry and entry[3].isdigit() else 0
    if group_part:
        found = _find_group(groups, group_part)
        if found is None:
            raise ContainerConfigError(CREATE_CONTAINER_ERROR, f"failed to generate spec: unable to find group "
                                                               f"{group_part}: no matching entries in group file")
        gid = found
    if run_as_group is not None:
        gid = int(run_as_group)

    extra: list[int] = [gid]
    if entry is not None:
        name = entry[0]
        for group in groups:
            if len(group) >= 4 and group[0] != name and name in group[3].split(",") and group[2].isdigit():
                extra.append(int(group[2]))
    extra.extend(int(g) for g in pod_sc.get("supplementalGroups") or [])
    if pod_sc.get("fsGroup") is not None:
        extra.append(int(pod_sc["fsGroup"]))
    return User(uid=uid, gid=gid, supplemental_gids=tuple(dict.fromkeys(extra)))


# --- resources -------------------------------------------------------------------------------------

def container_resources(container: Json) -> Resources:
    """Requests and limits in runtime units; a request defaults to its limit (API defaulting)."""
    resources = container.get("resources") or {}
    limits = resources.get("limits") or {}
    requests = {**limits, **(resources.get("requests") or {})}
    return Resources(
        cpu_request_millis=to_millicores(requests["cpu"]) if "cpu" in requests else 0,
        cpu_limit_millis=to_millicores(limits["cpu"]) if "cpu" in limits else 0,
        memory_limit_bytes=to_bytes(limits["memory"]) if "memory" in limits else 0,
    )


def _kube_labels(pod: Json, container: Json) -> dict[str, str]:
    meta = pod.get("metadata") or {}
    return {
        "io.kubernetes.pod.name": str(meta.get("name", "")),
        "io.kubernetes.pod.namespace": str(meta.get("namespace", "")),
        "io.kubernetes.pod.uid": str(meta.get("uid", "")),
        "io.kubernetes.container.name": str(container.get("name", "")),
    }


async def resolve_container(
    pod: Json,
    container: Json,
    image_config: Any,
    *,
    rootfs: str,
    mounts: Sequence[Mount] = (),
    log_path: str = "",
    attempt: int = 0,
    sources: ConfigSources,
    volume_paths: Mapping[str, str] | None = None,
    pod_ips: Sequence[str] | None = None,
    host_ips: Sequence[str] = (),
    allocatable: Mapping[str, Any] | None = None,
    warn: Callable[[str], None] | None = None,
) -> ContainerConfig:
    """The runtime config of `container`, or ContainerConfigError(reason, message).

    `mounts` are extra mounts the pod worker owns (hosts, resolv.conf, termination log) and are
    added after the volume mounts unless a volume already mounts that path; `volume_paths` (volume
    name → host path from VolumeManager.setup) turns the container's volumeMounts into mounts, with
    `subPathExpr` expanded against the container's environment. `pod_ips` default to the pod's
    status; `allocatable` (node allocatable) stands in for unset limits in resourceFieldRef."""
    status = pod.get("status") or {}
    if pod_ips is None:
        pod_ips = [p["ip"] for p in status.get("podIPs") or [] if p.get("ip")] or (
            [status["podIP"]] if status.get("podIP") else [])
    if not host_ips:
        host_ips = [h["ip"] for h in status.get("hostIPs") or [] if h.get("ip")] or (
            [status["hostIP"]] if status.get("hostIP") else [])
    image = image_settings(image_config)
    env = await resolve_env(pod, container, sources, pod_ips=pod_ips, host_ips=host_ips,
                            allocatable=allocatable, warn=warn)
    args = argv(container, image, env)
    user = resolve_user(pod, container, image.user, rootfs)

    all_mounts = list(container_mounts(pod, container, volume_paths, env)) if volume_paths is not None else []
    taken = {m.container_path for m in all_mounts}
    all_mounts += [m for m in mounts if m.container_path not in taken]

    _, sc = _security(pod, container)
    capabilities = sc.get("capabilities") or {}
    allow_escalation = sc.get("allowPrivilegeEscalation")
    return ContainerConfig(
        name=str(container.get("name", "")),
        rootfs=rootfs,
        args=args,
        env=merge_env(image.env, env),
        working_dir=str(container.get("workingDir") or image.working_dir or "/"),
        mounts=tuple(all_mounts),
        user=user,
        privileged=bool(sc.get("privileged")),
        allow_privilege_escalation=True if allow_escalation is None else bool(allow_escalation),
        capabilities_add=tuple(capabilities.get("add") or ()),
        capabilities_drop=tuple(capabilities.get("drop") or ()),
        read_only_rootfs=bool(sc.get("readOnlyRootFilesystem")),
        resources=container_resources(container),
        log_path=log_path,
        terminal=bool(container.get("tty")),
        stdin=bool(container.get("stdin")),
        stdin_once=bool(container.get("stdinOnce")),
        attempt=attempt,
        labels=_kube_labels(pod, container),
        annotations={
            "io.kubernetes.container.restartCount": str(attempt),
            "io.kubernetes.container.terminationMessagePath":
                str(container.get("terminationMessagePath") or "/dev/termination-log"),
            "io.kubernetes.container.terminationMessagePolicy":
                str(container.get("terminationMessagePolicy") or "File"),
        },
    )
