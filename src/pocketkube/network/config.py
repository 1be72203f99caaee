"""The CNI network configuration pocketkube generates (pure; table-tested).

One node's pod network is a conflist: `bridge` (the host bridge is the pods' gateway; no masquerade,
so pod traffic never leaves the node NATed behind it) with `host-local` IPAM over the node's pod
CIDR, then `portmap` for `hostPort`. `loopback` is a separate single-plugin network invoked for
`lo`, as kubelet and CRI-O do. Every name and path is a field of `NetworkOptions`, so two agents on
one machine (tests, several nodes) use different bridges, CIDRs and state dirs.

On-disk layout under `state_dir`:
  ipam/<network>/<ip>        host-local allocations (one file per IP holding the container id)
  cache/results/<network>-<container id>-<ifname>   cached ADD results (libcni's cache format)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CNI_VERSION = "1.0.0"
DEFAULT_BIN_DIRS = ("/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni")
# Linux caps interface names at 15 bytes (IFNAMSIZ - 1).
MAX_IFNAME = 15


@dataclass(frozen=True)
class NetworkOptions:
    network_name: str = "pocketkube"
    bridge: str = "pk0"
    pod_cidr: str = "10.244.0.0/24"  # this node's share; the bridge holds its first address
    cluster_cidr: str = "10.244.0.0/16"  # every node's pod CIDR lies inside it
    state_dir: Path = Path("/var/lib/pocketkube/network")
    bin_dirs: tuple[str, ...] = DEFAULT_BIN_DIRS
    mtu: int | None = None
    hairpin_mode: bool = True
    snat: bool = True  # portmap masquerades hairpin and localhost traffic to a hostPort
    ip_masq: bool = False  # masquerade pod traffic leaving the node; off unless pods must reach out
    cni_version: str = CNI_VERSION

    @property
    def ipam_dir(self) -> Path:
        return self.state_dir / "ipam"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"


def gateway_for(pod_cidr: str) -> str:
    """The first usable address of the pod CIDR: the bridge's address and the pods' default route."""
    net = ipaddress.ip_network(pod_cidr, strict=True)
    return str(net.network_address + 1)


def validate(opts: NetworkOptions) -> list[str]:
    """Problems with `opts`, as sentences; empty when it is usable."""
    problems: list[str] = []
    if not opts.bridge or len(opts.bridge.encode()) > MAX_IFNAME or "/" in opts.bridge or " " in opts.bridge:
        problems.append(f"bridge name {opts.bridge!r} must be 1-{MAX_IFNAME} bytes without '/' or spaces")
    if not opts.network_name or "/" in opts.network_name:
        problems.append(f"network name {opts.network_name!r} must be non-empty without '/'")
    try:
        pod = ipaddress.ip_network(opts.pod_cidr, strict=True)
    except ValueError as e:
        return [*problems, f"pod CIDR {opts.pod_cidr!r} is invalid: {e}"]
    try:
        cluster = ipaddress.ip_network(opts.cluster_cidr, strict=True)
    except ValueError as e:
        return [*problems, f"cluster CIDR {opts.cluster_cidr!r} is invalid: {e}"]
    if pod.version != cluster.version or not pod.subnet_of(cluster):  # type: ignore[arg-type]
        problems.append(f"pod CIDR {opts.pod_cidr} is not inside cluster CIDR {opts.cluster_cidr}")
    # The network address, the gateway, the broadcast address and at least one pod.
    if pod.num_addresses < 4:
        problems.append(f"pod CIDR {opts.pod_cidr} is too small for a gateway and a pod")
    if opts.mtu is not None and not 576 <= opts.mtu <= 65535:
        problems.append(f"mtu {opts.mtu} is out of range 576-65535")
    return problems


def build_conflist(opts: NetworkOptions) -> dict[str, Any]:
    """The node's pod network as a CNI network configuration list."""
    bridge: dict[str, Any] = {
        "type": "bridge",
        "bridge": opts.bridge,
        "isGateway": True,
        "ipMasq": opts.ip_masq,
        "hairpinMode": opts.hairpin_mode,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": opts.pod_cidr, "gateway": gateway_for(opts.pod_cidr)}]],
            # A default route via the bridge: the way to other nodes and, later, service VIPs.
            "routes": [{"dst": "0.0.0.0/0" if ipaddress.ip_network(opts.pod_cidr).version == 4 else "::/0"}],
            "dataDir": str(opts.ipam_dir),
        },
    }
    if opts.mtu is not None:
        bridge["mtu"] = opts.mtu
    portmap: dict[str, Any] = {"type": "portmap", "capabilities": {"portMappings": True}, "snat": opts.snat}
    return {"cniVersion": opts.cni_version, "name": opts.network_name, "plugins": [bridge, portmap]}


def build_loopback(opts: NetworkOptions) -> dict[str, Any]:
    """The single-plugin network that brings `lo` up in each pod."""
    return {
        "cniVersion": opts.cni_version,
        "name": f"{opts.network_name}-loopback",
        "plugins": [{"type": "loopback"}],
    }
