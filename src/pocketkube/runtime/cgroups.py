"""Cgroups for pods: the pod parent cgroup, resource conversion, memory and OOM readings.

One module, two layouts, chosen by what `/sys/fs/cgroup` is:
- v2 (unified): `/sys/fs/cgroup/cgroup.controllers` exists. One tree; a pod parent is a directory
  whose ancestors have the controllers enabled in `cgroup.subtree_control`.
- v1 (legacy or hybrid): one hierarchy per controller, found in /proc/self/mountinfo (so
  `cpu,cpuacct` co-mounted or mounted apart both work). A pod parent is the same relative
  directory in every hierarchy.

runc creates the container cgroups itself from the OCI `cgroupsPath` (cgroupfs driver), below the
pod parent, and removes them on `runc delete`; we only create/remove the parent and read files.
Paths passed in are cgroup paths like `/pocketkube/default/pod1234`, never filesystem paths.
"""

from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = "/sys/fs/cgroup"
CPU_PERIOD_US = 100_000
MIN_SHARES = 2
V2_CONTROLLERS = ("cpuset", "cpu", "io", "memory", "hugetlb", "pids")
V1_CONTROLLERS = frozenset({"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio",
                            "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc"})


def cpu_shares(request_millis: int) -> int:
    """The kubelet's MilliCPUToShares: 1 core = 1024 shares, never below 2."""
    return max(MIN_SHARES, request_millis * 1024 // 1000)


def cpu_quota(limit_millis: int, period_us: int = CPU_PERIOD_US) -> int:
    """The kubelet's MilliCPUToQuota: 0 (unlimited) for no limit, at least 1 ms otherwise."""
    if limit_millis <= 0:
        return 0
    return max(1000, limit_millis * period_us // 1000)


def parse_v1_mounts(mountinfo: str) -> dict[str, str]:
    """Controller name → mount point for every cgroup v1 hierarchy in a mountinfo text.

    Named hierarchies appear as `name=systemd`. Pure, so it is table-tested."""
    mounts: dict[str, str] = {}
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(tail) < 3 or tail[0] != "cgroup" or len(fields) < 5:
            continue
        mount_point = fields[4].replace("\\040", " ")
        for option in tail[2].split(","):
            if option in V1_CONTROLLERS or option.startswith("name="):
                mounts.setdefault(option, mount_point)
    return mounts


def parse_flat_keyed(text: str) -> dict[str, int]:
    """`key value` lines (memory.events, memory.oom_control) → dict."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _rmdir_tree(top: str) -> None:
    """rmdir a cgroup directory and every child cgroup, deepest first (cgroupfs only allows
    rmdir of empty groups; control files vanish with their directory)."""
    if not os.path.isdir(top):
        return
    for dirpath, _dirs, _files in os.walk(top, topdown=False):
        for attempt in range(50):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError as err:
                # EBUSY: the last task is still exiting; it goes within milliseconds.
                if err.errno != errno.EBUSY or attempt == 49:
                    raise
                time.sleep(0.01)


@dataclass
class Cgroups:
    """The host's cgroup layout. Build it with `detect()`."""

    version: int
    root: str = CGROUP_ROOT
    v1_mounts: dict[str, str] = field(default_factory=dict)

    def directories(self, path: str) -> list[str]:
        """Every filesystem directory that holds cgroup `path` (one per v1 hierarchy)."""
        rel = path.strip("/")
        if self.version == 2:
            return [os.path.join(self.root, rel)]
        return sorted({os.path.join(mp, rel) for mp in self.v1_mounts.values()})

    def create(self, path: str) -> None:
        """Create cgroup `path` and its ancestors, ready for runc to create children in."""
        if self.version == 2:
            self._create_v2(path)
            return
        for directory in self.directories(path):
            os.makedirs(directory, exist_ok=True)
        cpuset = self.v1_mounts.get("cpuset")
        if cpuset:
            self._fill_cpuset(cpuset, path)

    def remove(self, path: str) -> None:
        """Remove cgroup `path` with any child cgroups left in it."""
        for directory in self.directories(path):
            _rmdir_tree(directory)

    def exists(self, path: str) -> bool:
        return any(os.path.isdir(d) for d in self.directories(path))

    def memory_usage(self, path: str) -> int | None:
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        text = _read(os.path.join(self._memory_dir(path), name))
        return int(text) if text and text.strip().isdigit() else None

    def oom_kills(self, path: str) -> int:
        """How many processes the kernel OOM-killed in cgroup `path` (0 when unknown)."""
        if self.version == 2:
            events = parse_flat_keyed(_read(os.path.join(self._memory_dir(path), "memory.events")) or "")
            return events.get("oom_kill", 0)
        control = parse_flat_keyed(_read(os.path.join(self._memory_dir(path), "memory.oom_control")) or "")
        # Kernels before 4.13 have no oom_kill counter: under_oom is the best remaining sign.
        return control.get("oom_kill", control.get("under_oom", 0))

    def _memory_dir(self, path: str) -> str:
        base = self.root if self.version == 2 else self.v1_mounts.get("memory", self.root)
        return os.path.join(base, path.strip("/"))

    def _fill_cpuset(self, mount: str, path: str) -> None:
        # v1 cpuset groups start with empty cpus/mems and refuse tasks until both are set.
        current = mount
        for part in path.strip("/").split("/"):
            parent, current = current, os.path.join(current, part)
            for name in ("cpuset.cpus", "cpuset.mems"):
                target = os.path.join(current, name)
                if not (_read(target) or "").strip():
                    with open(target, "w") as f:
                        f.write((_read(os.path.join(parent, name)) or "").strip())

    def _create_v2(self, path: str) -> None:
        available = set((_read(os.path.join(self.root, "cgroup.controllers")) or "").split())
        wanted = [c for c in V2_CONTROLLERS if c in available]
        current = self.root
        for part in path.strip("/").split("/"):
            self._enable_v2(current, wanted)
            current = os.path.join(current, part)
            os.makedirs(current, exist_ok=True)
        self._enable_v2(current, wanted)

    def _enable_v2(self, directory: str, controllers: list[str]) -> None:
        control = os.path.join(directory, "cgroup.subtree_control")
        enabled = set((_read(control) or "").split())
        available = set((_read(os.path.join(directory, "cgroup.controllers")) or "").split())
        missing = [c for c in controllers if c in available and c not in enabled]
        if not missing:
            return
        try:
            with open(control, "w") as f:
                f.write(" ".join("+" + c for c in missing))
        except OSError as err:
            if err.errno != errno.EBUSY or directory != self.root:
                raise
            # "No internal processes": a cgroup-namespace root inside a container holds our own
            # processes. Move them to a leaf (as kind and docker-in-docker do), then enable.
            self._evacuate_root()
            with open(control, "w") as f:
                f.write(" ".join("+" + c for c in missing))

    def _evacuate_root(self) -> None:
        leaf = os.path.join(self.root, "init")
        os.makedirs(leaf, exist_ok=True)
        for pid in (_read(os.path.join(self.root, "cgroup.procs")) or "").split():
            try:
                with open(os.path.join(leaf, "cgroup.procs"), "w") as f:
                    f.write(pid)
            except OSError:
                pass  # exited meanwhile, or a kernel thread


def detect(root: str = CGROUP_ROOT, mountinfo_path: str = "/proc/self/mountinfo") -> Cgroups:
    """The layout of this host: v2 when the root is a unified hierarchy, else v1."""
    if Path(root, "cgroup.controllers").exists():
        return Cgroups(version=2, root=root)
    mounts = parse_v1_mounts(Path(mountinfo_path).read_text())
    return Cgroups(version=1, root=root, v1_mounts=mounts)
