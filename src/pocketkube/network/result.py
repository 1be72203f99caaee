"""Pure translations between pocketkube's types and CNI's JSON (results, runtimeConfig, CNI_ARGS)."""

from __future__ import annotations

from typing import Any

from pocketkube.network.base import PodNetworkRef, PodNetworkStatus, PortMapping


def cni_args(pod: PodNetworkRef) -> tuple[tuple[str, str], ...]:
    """CNI_ARGS as kubelet passes them; IgnoreUnknown keeps host-local from rejecting the K8S_ keys."""
    return (
        ("IgnoreUnknown", "1"),
        ("K8S_POD_NAMESPACE", pod.namespace),
        ("K8S_POD_NAME", pod.name),
        ("K8S_POD_INFRA_CONTAINER_ID", pod.container_id),
        ("K8S_POD_UID", pod.uid),
    )


def port_mappings_config(mappings: list[PortMapping]) -> list[dict[str, Any]]:
    """The `portMappings` runtimeConfig portmap reads (protocol in lower case, hostIP only when set)."""
    out: list[dict[str, Any]] = []
    for m in mappings:
        entry: dict[str, Any] = {
            "hostPort": m.host_port,
            "containerPort": m.container_port,
            "protocol": (m.protocol or "TCP").lower(),
        }
        if m.host_ip:
            entry["hostIP"] = m.host_ip
        out.append(entry)
    return out


def runtime_config(capabilities: dict[str, Any], available: dict[str, Any]) -> dict[str, Any]:
    """Only the runtime arguments a plugin declared it understands (libcni does the same)."""
    return {k: v for k, v in available.items() if capabilities.get(k) is True}


def status_from_result(result: dict[str, Any], ifname: str = "eth0") -> PodNetworkStatus | None:
    """The pod's addresses on `ifname` from a CNI 1.0 (or 0.3/0.4) result; None without any."""
    interfaces = result.get("interfaces") or []
    ips: list[str] = []
    cidrs: list[str] = []
    gateway: str | None = None
    for entry in result.get("ips") or []:
        index = entry.get("interface")
        if isinstance(index, int) and 0 <= index < len(interfaces):
            iface = interfaces[index]
            # Host-side interfaces (bridge, veth) have no sandbox; the pod's own has one.
            if iface.get("name") != ifname or not iface.get("sandbox"):
                continue
        address = str(entry.get("address", ""))
        if not address:
            continue
        cidrs.append(address)
        ips.append(address.split("/", 1)[0])
        if gateway is None and entry.get("gateway"):
            gateway = str(entry["gateway"])
    if not ips:
        return None
    # IPv4 first, as status.podIP is the first address and kubelet prefers the IPv4 one.
    order = sorted(range(len(ips)), key=lambda i: ":" in ips[i])
    return PodNetworkStatus(
        ips=tuple(ips[i] for i in order), interface=ifname, gateway=gateway, cidrs=tuple(cidrs[i] for i in order)
    )


def host_interfaces(result: dict[str, Any], bridge: str) -> list[str]:
    """The host ends of the pod's veths in `result` (the interfaces without a sandbox, but the bridge)."""
    return [
        str(i["name"])
        for i in result.get("interfaces") or []
        if i.get("name") and not i.get("sandbox") and i.get("name") != bridge
    ]
