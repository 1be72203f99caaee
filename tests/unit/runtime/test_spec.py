"""Table tests for the pure OCI spec builder."""

from __future__ import annotations

from typing import Any

import pytest

from pocketkube.runtime import ContainerConfig, Mount, Resources, Sandbox, SandboxConfig, SandboxState, User
from pocketkube.runtime.oci.spec import ALL_CAPABILITIES, DEFAULT_CAPABILITIES, MASKED_PATHS, build_spec

SANDBOX = Sandbox(
    id="sb1", config=SandboxConfig(name="web", namespace="ns", uid="u1", sysctls={"net.ipv4.ip_forward": "1"}),
    state=SandboxState.READY, created_at=1.0, netns_path="/run/x/netns", ipcns_path="/run/x/ipcns",
    utsns_path="/run/x/utsns", cgroup_parent="/pocketkube/default/podu1", dir="/run/x",
    hostname_path="/run/x/hostname", hosts_path="/run/x/hosts", resolv_conf_path=None, shm_path="/run/x/shm")


def spec(cgroup_namespace: bool = False, nofile: int = 20_000, **kwargs: Any) -> dict[str, Any]:
    config = ContainerConfig(**{"name": "app", "rootfs": "/roots/app", "args": ("sh",), **kwargs})
    return build_spec(config, SANDBOX, container_id="c1", cgroups_path="/pocketkube/default/podu1/c1",
                      cgroup_namespace=cgroup_namespace, nofile_hard_limit=nofile,
                      host_devices=[{"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}])


def mount_at(s: dict[str, Any], destination: str) -> dict[str, Any]:
    [m] = [m for m in s["mounts"] if m["destination"] == destination]
    return m


def test_defaults() -> None:
    s = spec()
    assert s["process"]["args"] == ["sh"] and s["process"]["cwd"] == "/"
    assert s["process"]["capabilities"]["bounding"] == list(DEFAULT_CAPABILITIES)
    assert s["process"]["noNewPrivileges"] is False  # allowPrivilegeEscalation defaults to true
    assert s["process"]["env"] == ["HOSTNAME=web"]
    assert s["process"]["user"] == {"uid": 0, "gid": 0}
    assert s["root"] == {"path": "/roots/app", "readonly": False}
    assert s["linux"]["namespaces"] == [
        {"type": "pid"}, {"type": "mount"}, {"type": "network", "path": "/run/x/netns"},
        {"type": "ipc", "path": "/run/x/ipcns"}, {"type": "uts", "path": "/run/x/utsns"}]
    assert s["linux"]["cgroupsPath"] == "/pocketkube/default/podu1/c1"
    assert s["linux"]["maskedPaths"] == list(MASKED_PATHS) and "/proc/sys" in s["linux"]["readonlyPaths"]
    assert s["linux"]["resources"]["devices"] == [{"allow": False, "access": "rwm"}]
    assert "devices" not in s["linux"]
    assert s["linux"]["sysctl"] == {"net.ipv4.ip_forward": "1"}
    assert [m["destination"] for m in s["mounts"]] == [
        "/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/dev/shm", "/etc/hostname", "/etc/hosts"]
    assert mount_at(s, "/dev/shm")["source"] == "/run/x/shm"
    assert "ro" in mount_at(s, "/sys")["options"]
    assert s["annotations"]["io.kubernetes.cri.sandbox-id"] == "sb1"


@pytest.mark.parametrize(("hard", "expected"), [(20_000, 20_000), (1 << 30, 1_048_576), (1024, 1024)])
def test_nofile_never_above_the_host_hard_limit(hard: int, expected: int) -> None:
    assert spec(nofile=hard)["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": expected, "soft": expected}]


@pytest.mark.parametrize(("add", "drop", "expected"), [
    ((), (), list(DEFAULT_CAPABILITIES)),
    (("NET_ADMIN",), ("NET_RAW", "cap_kill"), [c for c in DEFAULT_CAPABILITIES if c not in ("CAP_NET_RAW", "CAP_KILL")]
     + ["CAP_NET_ADMIN"]),
    (("NET_BIND_SERVICE",), ("ALL",), ["CAP_NET_BIND_SERVICE"]),
    (("ALL",), (), list(DEFAULT_CAPABILITIES) + [c for c in ALL_CAPABILITIES if c not in DEFAULT_CAPABILITIES]),
])
def test_capabilities(add: tuple[str, ...], drop: tuple[str, ...], expected: list[str]) -> None:
    assert spec(capabilities_add=add, capabilities_drop=drop)["process"]["capabilities"]["effective"] == expected


def test_privileged() -> None:
    s = spec(privileged=True, allow_privilege_escalation=False)
    assert s["process"]["capabilities"]["bounding"] == list(ALL_CAPABILITIES)
    assert s["process"]["noNewPrivileges"] is False
    assert s["linux"]["devices"] == [{"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}]
    assert s["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert "maskedPaths" not in s["linux"] and "readonlyPaths" not in s["linux"]
    assert "ro" not in mount_at(s, "/sys")["options"]


@pytest.mark.parametrize(("resources", "expected"), [
    (Resources(), {"cpu": {"shares": 2}}),
    (Resources(cpu_request_millis=250), {"cpu": {"shares": 256}}),
    (Resources(cpu_request_millis=1000, cpu_limit_millis=500, memory_limit_bytes=64 << 20, pids_limit=50),
     {"cpu": {"shares": 1024, "quota": 50_000, "period": 100_000},
      "memory": {"limit": 64 << 20, "swap": 64 << 20}, "pids": {"limit": 50}}),
])
def test_resources(resources: Resources, expected: dict[str, Any]) -> None:
    out = spec(resources=resources)["linux"]["resources"]
    out.pop("devices")
    assert out == expected


def test_process_settings_and_mounts() -> None:
    s = spec(env=("A=1", "HOSTNAME=mine"), working_dir="/w", user=User(1000, 2000, (3000,)), read_only_rootfs=True,
             allow_privilege_escalation=False, terminal=True,
             mounts=(Mount("/data", "/data", readonly=True, propagation="rslave"),
                     Mount("/my/hosts", "/etc/hosts")),
             resources=Resources(oom_score_adj=-997))
    p = s["process"]
    assert p["env"] == ["A=1", "HOSTNAME=mine"] and p["cwd"] == "/w" and p["terminal"] is True
    assert p["user"] == {"uid": 1000, "gid": 2000, "additionalGids": [3000]}
    assert p["noNewPrivileges"] is True and p["oomScoreAdj"] == -997
    assert s["root"]["readonly"] is True
    assert mount_at(s, "/data")["options"] == ["rbind", "rslave", "ro"]
    assert mount_at(s, "/etc/hosts")["source"] == "/my/hosts"  # the container's mount wins


def test_cgroup_namespace_on_v2() -> None:
    assert {"type": "cgroup"} in spec(cgroup_namespace=True)["linux"]["namespaces"]
