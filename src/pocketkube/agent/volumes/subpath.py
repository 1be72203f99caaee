"""A container's volumeMounts → runtime `Mount`s, with subPath resolved safely inside its volume.

A subPath is refused when it is absolute or has a `..` component (checked on the text), and when
following it, symlinks included, would leave the volume: every component is resolved on the host
and the result must stay under the volume's real path. Symlinks that stay inside are fine, which
is what makes `subPath: key` work on a configMap volume (`key` → `..data/key`). A missing subPath
is created as a directory with the volume directory's mode, as the kubelet does.

The user-facing messages are the kubelet's, which deliberately hide host paths ("failed to prepare
subPath for volumeMount ..."); the kubelet reports all of these as CreateContainerConfigError.

Known gap against the kubelet: it bind-mounts an O_NOFOLLOW-opened fd of the subPath to a private
path so a container cannot swap a component for a symlink between this check and the mount; here
the resolved path is handed to the runtime directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pocketkube.agent.env import Json, config_error, expand
from pocketkube.runtime.base import Mount

PROPAGATION = {"None": "private", "HostToContainer": "rslave", "Bidirectional": "rshared"}
# Volumes the kubelet always mounts read-only (ReadOnlyAPIDataVolumes).
READ_ONLY_SOURCES = ("configMap", "secret", "downwardAPI", "projected")


class SubPathEscape(Exception):
    pass


def expand_subpath_expr(expr: str, env: Mapping[str, str]) -> str:
    """subPathExpr expansion: like `$(VAR)` elsewhere, but an undefined or empty variable is an error."""
    missing: set[str] = set()

    def lookup(name: str) -> str:
        value = env.get(name, "")
        if not value:
            missing.add(name)
        return value

    expanded = expand(expr, lookup)
    if missing:
        raise config_error(f"missing value for {', '.join(sorted(missing))}")
    return expanded


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def resolve_subpath(volume_path: str, subpath: str) -> tuple[str, bool]:
    """(host path, whether it had to be created). Raises SubPathEscape when a component, after
    following symlinks, lands outside the volume; its argument says whether the subPath was
    missing (the kubelet fails while creating it then, else while preparing the mount)."""
    root = os.path.realpath(volume_path)
    mode = os.stat(root).st_mode & 0o7777
    # The kubelet creates a missing subPath first (and fails there) before preparing the mount.
    existed = os.path.exists(os.path.join(root, subpath))
    current = root
    created = False
    for part in [p for p in subpath.split("/") if p not in ("", ".")]:
        candidate = os.path.join(current, part)
        if os.path.lexists(candidate):
            resolved = os.path.realpath(candidate)
            if not _within(resolved, root) or not os.path.exists(resolved):
                raise SubPathEscape(not existed)
            current = resolved
            continue
        os.mkdir(candidate)
        os.chmod(candidate, mode)  # mkdir's mode is cut by the umask
        created = True
        current = candidate
    return current, created


def _volume_sources(pod: Json) -> dict[str, Json]:
    return {str(v.get("name", "")): v for v in (pod.get("spec") or {}).get("volumes") or []}


def container_mounts(pod: Json, container: Json, volume_paths: Mapping[str, str],
                     env: Mapping[str, str] | None = None) -> list[Mount]:
    """Mounts for `container`'s volumeMounts. `volume_paths` is VolumeManager.setup's result, `env`
    the container's resolved environment (needed for subPathExpr)."""
    name = str(container.get("name", ""))
    volumes = _volume_sources(pod)
    mounts = []
    for vm in container.get("volumeMounts") or []:
        vol_name = str(vm.get("name", ""))
        if vol_name not in volume_paths:
            raise config_error(f'cannot find volume "{vol_name}" to mount into container "{name}"')
        host_path = volume_paths[vol_name]
        subpath = str(vm.get("subPath") or "")
        if vm.get("subPathExpr"):
            subpath = expand_subpath_expr(str(vm["subPathExpr"]), env or {})
        if subpath:
            if subpath.startswith("/"):
                raise config_error(f"error SubPath `{subpath}` must not be an absolute path")
            if ".." in subpath.split("/"):
                raise config_error(f"unable to provision SubPath `{subpath}`: must not contain '..'")
            try:
                host_path, _ = resolve_subpath(host_path, subpath)
            except SubPathEscape as err:
                verb = "create subPath directory" if err.args and err.args[0] else "prepare subPath"
                raise config_error(f'failed to {verb} for volumeMount "{vol_name}" of container "{name}"') from None
            except OSError:
                raise config_error(f'failed to create subPath directory for volumeMount "{vol_name}" '
                                   f'of container "{name}"') from None
        source = volumes.get(vol_name, {})
        read_only = bool(vm.get("readOnly")) or any(source.get(k) is not None for k in READ_ONLY_SOURCES)
        mounts.append(Mount(host_path=host_path, container_path=str(vm.get("mountPath", "")), readonly=read_only,
                            propagation=PROPAGATION.get(str(vm.get("mountPropagation") or "None"), "private")))
    return mounts
