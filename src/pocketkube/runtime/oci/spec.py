"""The OCI runtime spec (config.json) for one container in a pod sandbox: a pure function.

What containerd and CRI-O give a Kubernetes container, written down once:
- namespaces: the pod's network, IPC and UTS joined by path; new PID and mount namespaces; a new
  cgroup namespace on cgroup v2 only (as containerd does);
- mounts: /proc, /dev (tmpfs) + /dev/pts, the pod's shared /dev/shm, /dev/mqueue, /sys (ro),
  /sys/fs/cgroup (ro), then /etc/hostname, /etc/hosts, /etc/resolv.conf from the sandbox dir, then
  the container's own mounts (which win over the sandbox files at the same path);
- the default capability set, or every capability and host device when privileged;
- masked and read-only /proc and /sys paths as containerd sets them (none when privileged);
- no rlimit above the host's hard limits (runc cannot raise them without CAP_SYS_RESOURCE);
- resources converted as the kubelet does (shares, quota/period, memory; swap = memory: no swap).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pocketkube.runtime.base import ContainerConfig, Sandbox
from pocketkube.runtime.cgroups import CPU_PERIOD_US, cpu_quota, cpu_shares

OCI_VERSION = "1.0.2"

DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)

# Every capability runc 1.1 knows (linux/capability.h up to CAP_CHECKPOINT_RESTORE).
ALL_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)

MASKED_PATHS = (
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

DEFAULT_NOFILE = 1_048_576
PROPAGATION = {"private": "rprivate", "rslave": "rslave", "rshared": "rshared",
               "none": "rprivate", "hosttocontainer": "rslave", "bidirectional": "rshared"}


def normalize_capability(name: str) -> str:
    """Kubernetes writes `NET_ADMIN`; OCI wants `CAP_NET_ADMIN`. `ALL` stays `ALL`."""
    upper = name.strip().upper()
    return upper if upper == "ALL" or upper.startswith("CAP_") else "CAP_" + upper


def capability_set(config: ContainerConfig) -> list[str]:
    """Default set, minus drops (ALL drops everything), plus adds (ALL adds everything)."""
    if config.privileged:
        return list(ALL_CAPABILITIES)
    drops = {normalize_capability(c) for c in config.capabilities_drop}
    adds = [normalize_capability(c) for c in config.capabilities_add]
    caps = [] if "ALL" in drops else [c for c in DEFAULT_CAPABILITIES if c not in drops]
    for cap in (ALL_CAPABILITIES if "ALL" in adds else adds):
        if cap not in caps:
            caps.append(cap)
    return caps


def _default_mounts(sandbox: Sandbox, privileged: bool) -> list[dict[str, Any]]:
    sys_ro = [] if privileged else ["ro"]
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", *sys_ro]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", *sys_ro]},
        {"destination": "/dev/shm", "type": "bind", "source": sandbox.shm_path,
         "options": ["rbind", "rprivate", "rw"]},
    ]


def _sandbox_file_mounts(sandbox: Sandbox, taken: set[str]) -> list[dict[str, Any]]:
    files = [("/etc/hostname", sandbox.hostname_path), ("/etc/hosts", sandbox.hosts_path),
             ("/etc/resolv.conf", sandbox.resolv_conf_path)]
    return [{"destination": dest, "type": "bind", "source": src, "options": ["rbind", "rprivate", "rw"]}
            for dest, src in files if src and dest not in taken]


def _user_mounts(config: ContainerConfig) -> list[dict[str, Any]]:
    out = []
    for m in config.mounts:
        options = ["rbind", PROPAGATION.get(m.propagation.lower(), "rprivate"), "ro" if m.readonly else "rw"]
        out.append({"destination": m.container_path, "type": "bind", "source": m.host_path, "options": options})
    return out


def _resources(config: ContainerConfig, privileged: bool) -> dict[str, Any]:
    r = config.resources
    cpu: dict[str, Any] = {"shares": cpu_shares(r.cpu_request_millis)}
    if r.cpu_limit_millis > 0:
        cpu.update(quota=cpu_quota(r.cpu_limit_millis), period=CPU_PERIOD_US)
    out: dict[str, Any] = {
        "devices": [{"allow": True, "access": "rwm"}] if privileged else [{"allow": False, "access": "rwm"}],
        "cpu": cpu,
    }
    if r.memory_limit_bytes > 0:
        # swap == limit: memory+swap capped at the limit, i.e. no swap (the kubelet's default).
        out["memory"] = {"limit": r.memory_limit_bytes, "swap": r.memory_limit_bytes}
    if r.pids_limit is not None:
        out["pids"] = {"limit": r.pids_limit}
    return out


def build_spec(
    config: ContainerConfig,
    sandbox: Sandbox,
    *,
    container_id: str,
    cgroups_path: str,
    cgroup_namespace: bool,
    nofile_hard_limit: int,
    host_devices: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """config.json for `config` in `sandbox`. `host_devices` (OCI linux.devices entries) are used
    only when privileged; `nofile_hard_limit` is the host's RLIMIT_NOFILE hard limit."""
    privileged = config.privileged
    caps = capability_set(config)
    env = list(config.env)
    if not any(e.startswith("HOSTNAME=") for e in env):
        env.append(f"HOSTNAME={sandbox.config.effective_hostname}")
    nofile = min(DEFAULT_NOFILE, nofile_hard_limit)
    process: dict[str, Any] = {
        "terminal": config.terminal,
        "user": {"uid": config.user.uid, "gid": config.user.gid,
                 "additionalGids": list(config.user.supplemental_gids)},
        "args": list(config.args),
        "env": env,
        "cwd": config.working_dir or "/",
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
        "noNewPrivileges": not privileged and not config.allow_privilege_escalation,
    }
    if config.resources.oom_score_adj is not None:
        process["oomScoreAdj"] = config.resources.oom_score_adj
    if not config.user.supplemental_gids:
        del process["user"]["additionalGids"]

    user_mounts = _user_mounts(config)
    taken = {m["destination"] for m in user_mounts}
    mounts = [m for m in _default_mounts(sandbox, privileged) if m["destination"] not in taken]
    mounts += _sandbox_file_mounts(sandbox, taken) + user_mounts

    namespaces: list[dict[str, str]] = [
        {"type": "pid"},
        {"type": "mount"},
        {"type": "network", "path": sandbox.netns_path},
        {"type": "ipc", "path": sandbox.ipcns_path},
        {"type": "uts", "path": sandbox.utsns_path},
    ]
    if cgroup_namespace:
        namespaces.append({"type": "cgroup"})
    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "cgroupsPath": cgroups_path,
        "resources": _resources(config, privileged),
    }
    if privileged:
        linux["devices"] = list(host_devices)
    else:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    if sandbox.config.sysctls:
        linux["sysctl"] = dict(sandbox.config.sysctls)

    annotations = {**config.labels, **config.annotations,
                   "io.kubernetes.cri.container-type": "container",
                   "io.kubernetes.cri.container-name": config.name,
                   "io.kubernetes.cri.sandbox-id": sandbox.id,
                   "io.kubernetes.cri.sandbox-name": sandbox.config.name,
                   "io.kubernetes.cri.sandbox-namespace": sandbox.config.namespace,
                   "io.kubernetes.cri.sandbox-uid": sandbox.config.uid,
                   "io.pocketkube.container-id": container_id}
    return {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": config.rootfs, "readonly": config.read_only_rootfs},
        "mounts": mounts,
        "annotations": annotations,
        "linux": linux,
    }
