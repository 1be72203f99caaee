"""cgroups.py: pure conversions and parsers, and pod-parent creation on a fake tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketkube.runtime.cgroups import (
    Cgroups,
    cpu_quota,
    cpu_shares,
    detect,
    parse_flat_keyed,
    parse_v1_mounts,
)

HYBRID = """\
25 24 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory
30 24 0:27 / /proc rw - proc proc rw
"""


@pytest.mark.parametrize(("millis", "shares"), [(0, 2), (1, 2), (100, 102), (250, 256), (1000, 1024), (2500, 2560)])
def test_cpu_shares(millis: int, shares: int) -> None:
    assert cpu_shares(millis) == shares


@pytest.mark.parametrize(("millis", "quota"), [(0, 0), (1, 1000), (100, 10_000), (500, 50_000), (2000, 200_000)])
def test_cpu_quota(millis: int, quota: int) -> None:
    assert cpu_quota(millis) == quota


def test_parse_v1_mounts() -> None:
    assert parse_v1_mounts(HYBRID) == {
        "name=systemd": "/sys/fs/cgroup/systemd",
        "cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
        "memory": "/sys/fs/cgroup/memory"}


def test_parse_flat_keyed() -> None:
    assert parse_flat_keyed("low 0\nhigh 2\noom 1\noom_kill 1\nbad line here\n") == {
        "low": 0, "high": 2, "oom": 1, "oom_kill": 1}


def test_v1_create_remove_and_oom(tmp_path: Path) -> None:
    mounts = {"memory": str(tmp_path / "memory"), "cpuset": str(tmp_path / "cpuset"),
              "cpu": str(tmp_path / "cpu,cpuacct"), "cpuacct": str(tmp_path / "cpu,cpuacct")}
    for mount in set(mounts.values()):
        Path(mount).mkdir()
    (tmp_path / "cpuset" / "cpuset.cpus").write_text("0-1\n")
    (tmp_path / "cpuset" / "cpuset.mems").write_text("0\n")
    cg = Cgroups(version=1, root=str(tmp_path), v1_mounts=mounts)
    assert len(cg.directories("/a/pod1")) == 3
    cg.create("/a/pod1")
    assert (tmp_path / "cpuset" / "a" / "pod1" / "cpuset.cpus").read_text() == "0-1"
    assert cg.exists("/a/pod1")
    (tmp_path / "memory" / "a" / "pod1" / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert cg.oom_kills("/a/pod1") == 2
    for name in ("cpuset.cpus", "cpuset.mems"):  # cgroupfs control files vanish with rmdir; tmpfs ones do not
        (tmp_path / "cpuset" / "a" / "pod1" / name).unlink()
        (tmp_path / "cpuset" / "a" / name).unlink()
    (tmp_path / "memory" / "a" / "pod1" / "memory.oom_control").unlink()
    cg.remove("/a/pod1")
    assert not cg.exists("/a/pod1") and cg.exists("/a")


def test_v2_create_enables_controllers_and_reads_events(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids rdma misc\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    cg = detect(root=str(tmp_path))
    assert cg.version == 2
    cg.create("/pocketkube/pod1")
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpuset +cpu +io +memory +pids"
    assert (tmp_path / "pocketkube" / "pod1").is_dir()
    (tmp_path / "pocketkube" / "pod1" / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (tmp_path / "pocketkube" / "pod1" / "memory.current").write_text("4096\n")
    assert cg.oom_kills("/pocketkube/pod1") == 1 and cg.memory_usage("/pocketkube/pod1") == 4096
    assert cg.oom_kills("/pocketkube/missing") == 0 and cg.memory_usage("/pocketkube/missing") is None


def test_detect_v1(tmp_path: Path) -> None:
    (tmp_path / "mountinfo").write_text(HYBRID)
    cg = detect(root=str(tmp_path), mountinfo_path=str(tmp_path / "mountinfo"))
    assert cg.version == 1 and cg.v1_mounts["memory"] == "/sys/fs/cgroup/memory"
