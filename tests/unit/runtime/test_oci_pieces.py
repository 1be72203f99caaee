"""conmon argv and sync-pipe parsing, runc error messages, state records round-tripping."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketkube.runtime import (
    ContainerConfig,
    ContainerState,
    Mount,
    Resources,
    Sandbox,
    SandboxConfig,
    SandboxState,
    User,
)
from pocketkube.runtime.oci.conmon import ConmonPaths, conmon_args, parse_sync_message
from pocketkube.runtime.oci.runc import runc_message
from pocketkube.runtime.oci.state import ContainerRecord, StateStore

PATHS = ConmonPaths(bundle="/b", exit_dir="/e", socket_dir="/s", log_path="/l/c.log")


def test_conmon_args_match_crio() -> None:
    assert conmon_args("conmon", "/usr/sbin/runc", "/run/r", "c1", PATHS) == [
        "conmon", "--api-version", "1", "-c", "c1", "-u", "c1", "-r", "/usr/sbin/runc", "-b", "/b",
        "-p", "/b/pidfile", "-n", "c1", "--exit-dir", "/e", "--socket-dir-path", "/s",
        "-l", "k8s-file:/l/c.log", "--log-level", "warning", "--runtime-arg", "--root", "--runtime-arg", "/run/r",
        "--conmon-pidfile", "/b/conmon.pid"]
    assert conmon_args("conmon", "runc", "/r", "c1", PATHS, terminal=True, stdin=True, stdin_once=True)[-3:] == [
        "-t", "-i", "--stdin-once"]


@pytest.mark.parametrize(("data", "expected"), [
    (b"", None),
    (b'{"data": 12', None),
    (b'{"data": 1234}\n', (1234, "")),
    (b'{"data": -1, "message": "runc create failed"}', (-1, "runc create failed")),
    (b'{"data": 7}{"data": 0}', (7, "")),
])
def test_parse_sync_message(data: bytes, expected: tuple[int, str] | None) -> None:
    assert parse_sync_message(data) == expected


@pytest.mark.parametrize(("stderr", "expected"), [
    ('time="x" level=error msg="runc create failed: exec: \\"nope\\": not found"\n',
     'runc create failed: exec: "nope": not found'),
    ("plain failure\n", "plain failure"),
])
def test_runc_message(stderr: str, expected: str) -> None:
    assert runc_message(stderr) == expected


def test_state_round_trip(tmp_path: Path) -> None:
    store = StateStore(str(tmp_path))
    sandbox = Sandbox(id="s1", config=SandboxConfig(name="p", namespace="n", uid="u", labels={"a": "b"}, hosts="x"),
                      state=SandboxState.NOTREADY, created_at=1.5, netns_path="/n", ipcns_path="/i", utsns_path="/u",
                      cgroup_parent="/pk/p", dir=store.sandbox_dir("s1"), hostname_path="/h", hosts_path="/hh",
                      resolv_conf_path=None, shm_path="/shm")
    Path(store.sandbox_dir("s1")).mkdir()
    store.save_sandbox(sandbox)
    config = ContainerConfig(name="c", rootfs="/r", args=("a", "b"), env=("X=1",), mounts=(Mount("/h", "/c", True),),
                             user=User(1, 2, (3, 4)), capabilities_add=("NET_ADMIN",),
                             resources=Resources(cpu_limit_millis=5, pids_limit=9))
    record = ContainerRecord(id="c1", sandbox_id="s1", config=config, state=ContainerState.EXITED, created_at=2.0,
                             cgroups_path="/pk/p/c1", exit_code=3, reason="Error")
    Path(store.bundle_dir("c1")).mkdir()
    store.save_container(record)
    assert store.load_sandboxes() == [sandbox]
    assert store.load_containers() == [record]
    Path(store.exit_file("c1")).write_text("137")
    assert store.read_exit_code("c1") is not None and store.read_exit_code("c1")[0] == 137  # type: ignore[index]
    store.delete_container("c1")
    store.delete_sandbox("s1")
    assert store.load_containers() == [] and store.load_sandboxes() == []
    assert store.read_exit_code("c1") is None
    store.save_container(record)  # a removed record is not resurrected
    assert store.load_containers() == []
