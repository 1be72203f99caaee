"""On-disk state of sandboxes and containers, so a new agent process re-adopts them.

Layout under the runtime's run dir (/run/pocketkube/<instance>; it dies with a reboot, as the
containers do):

    sandboxes/<sandbox-id>/sandbox.json        the Sandbox record
                           netns ipcns utsns   namespace bind mounts
                           shm/                the pod's /dev/shm (tmpfs)
                           hostname hosts resolv.conf
    containers/<container-id>/state.json       the ContainerRecord (this dir is the OCI bundle)
                             config.json pidfile conmon.pid
    exits/<container-id>                       exit code, written by conmon
    sockets/                                   conmon attach/ctl sockets

Every JSON file is written to a temporary name and renamed over the old one, so a reader (or an
agent killed mid-write) sees the old or the new record, never half of one.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass, field
from typing import Any

import orjson

from pocketkube.runtime.base import (
    ContainerConfig,
    ContainerState,
    Mount,
    Resources,
    Sandbox,
    SandboxConfig,
    SandboxState,
    User,
)


@dataclass
class ContainerRecord:
    id: str
    sandbox_id: str
    config: ContainerConfig
    state: ContainerState
    created_at: float
    cgroups_path: str
    started_at: float = 0.0
    finished_at: float = 0.0
    pid: int = 0
    conmon_pid: int = 0
    exit_code: int | None = None
    reason: str = ""
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def sandbox_to_json(sandbox: Sandbox) -> dict[str, Any]:
    return dataclasses.asdict(sandbox)


def sandbox_from_json(data: dict[str, Any]) -> Sandbox:
    return Sandbox(**{**data, "config": SandboxConfig(**data["config"]), "state": SandboxState(data["state"])})


def container_config_from_json(data: dict[str, Any]) -> ContainerConfig:
    return ContainerConfig(**{
        **data,
        "args": tuple(data["args"]),
        "env": tuple(data["env"]),
        "mounts": tuple(Mount(**m) for m in data["mounts"]),
        "user": User(**{**data["user"], "supplemental_gids": tuple(data["user"]["supplemental_gids"])}),
        "resources": Resources(**data["resources"]),
        "capabilities_add": tuple(data["capabilities_add"]),
        "capabilities_drop": tuple(data["capabilities_drop"]),
    })


def record_to_json(record: ContainerRecord) -> dict[str, Any]:
    return dataclasses.asdict(record)


def record_from_json(data: dict[str, Any]) -> ContainerRecord:
    return ContainerRecord(**{**data, "config": container_config_from_json(data["config"]),
                              "state": ContainerState(data["state"])})


def write_json_atomic(path: str, data: Any) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(orjson.dumps(data))
    os.replace(tmp, path)


def _read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return orjson.loads(f.read())


class StateStore:
    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir
        self.sandboxes_dir = os.path.join(run_dir, "sandboxes")
        self.containers_dir = os.path.join(run_dir, "containers")
        self.exit_dir = os.path.join(run_dir, "exits")
        self.socket_dir = os.path.join(run_dir, "sockets")
        for d in (self.sandboxes_dir, self.containers_dir, self.exit_dir, self.socket_dir):
            os.makedirs(d, mode=0o700, exist_ok=True)

    def sandbox_dir(self, sandbox_id: str) -> str:
        return os.path.join(self.sandboxes_dir, sandbox_id)

    def bundle_dir(self, container_id: str) -> str:
        return os.path.join(self.containers_dir, container_id)

    def exit_file(self, container_id: str) -> str:
        return os.path.join(self.exit_dir, container_id)

    def save_sandbox(self, sandbox: Sandbox) -> None:
        write_json_atomic(os.path.join(self.sandbox_dir(sandbox.id), "sandbox.json"), sandbox_to_json(sandbox))

    def save_container(self, record: ContainerRecord) -> None:
        if not os.path.isdir(self.bundle_dir(record.id)):
            return  # removed meanwhile (by another instance over the same run dir): do not resurrect
        write_json_atomic(os.path.join(self.bundle_dir(record.id), "state.json"), record_to_json(record))

    def load_sandboxes(self) -> list[Sandbox]:
        return [sandbox_from_json(d) for d in self._load_all(self.sandboxes_dir, "sandbox.json")]

    def load_containers(self) -> list[ContainerRecord]:
        return [record_from_json(d) for d in self._load_all(self.containers_dir, "state.json")]

    def delete_sandbox(self, sandbox_id: str) -> None:
        shutil.rmtree(self.sandbox_dir(sandbox_id), ignore_errors=True)

    def delete_container(self, container_id: str) -> None:
        shutil.rmtree(self.bundle_dir(container_id), ignore_errors=True)
        try:
            os.unlink(self.exit_file(container_id))
        except FileNotFoundError:
            pass

    def read_exit_code(self, container_id: str) -> tuple[int, float] | None:
        """(exit code, when it was written) from conmon's exit file, None while running."""
        path = self.exit_file(container_id)
        try:
            with open(path) as f:
                text = f.read().strip()
            mtime = os.stat(path).st_mtime
        except OSError:
            return None
        if not text.lstrip("-").isdigit():
            return None  # conmon is still writing it
        return int(text), mtime

    @staticmethod
    def _load_all(directory: str, name: str) -> list[dict[str, Any]]:
        out = []
        for entry in sorted(os.listdir(directory)):
            path = os.path.join(directory, entry, name)
            try:
                out.append(_read_json(path))
            except (OSError, orjson.JSONDecodeError):
                continue  # a directory whose record was never written: see the service's cleanup
        return out
