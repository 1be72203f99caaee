"""Service ClusterIPs and NodePorts, allocated by the API server on create as kube-apiserver does.

What is in use is read from the stored Services themselves, under one lock, so an address is free
again as soon as its Service is gone and nothing can drift out of step with the store.
"""

from __future__ import annotations

import asyncio
import ipaddress

import orjson

from pocketkube.api import errors
from pocketkube.api.obj import Obj
from pocketkube.storage import Store

SERVICES_PREFIX = "/registry/core/services/"
NODE_PORT_RANGE = range(30000, 32768)


class ServiceAllocator:
    def __init__(self, store: Store, service_cidr: str = "10.96.0.0/12"):
        self.store = store
        self.network = ipaddress.ip_network(service_cidr)
        self.lock = asyncio.Lock()

    async def _in_use(self) -> tuple[set[str], set[int]]:
        ips: set[str] = set()
        ports: set[int] = set()
        listing = await self.store.list(SERVICES_PREFIX)
        for kv in listing.items:
            spec = orjson.loads(kv.value).get("spec") or {}
            ips.update(ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None")
            ports.update(int(p["nodePort"]) for p in spec.get("ports") or [] if p.get("nodePort"))
        return ips, ports

    async def allocate(self, service: Obj) -> None:
        """Fill spec.clusterIP(s) and nodePorts in place (call under `lock` until stored)."""
        spec = service.setdefault("spec", {})
        name = (service.get("metadata") or {}).get("name", "")
        used_ips, used_ports = await self._in_use()
        if spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
            ip = spec.get("clusterIP") or ""
            if ip:
                self._check_requested(name, ip, used_ips)
            else:
                ip = self._next_ip(name, used_ips)
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for index, port in enumerate(spec.get("ports") or []):
                wanted = port.get("nodePort")
                if wanted:
                    if int(wanted) in used_ports:
                        raise errors.invalid("", "Service", name, [errors.invalid_value(
                            f"spec.ports[{index}].nodePort", wanted, "provided port is already allocated")])
                    used_ports.add(int(wanted))
                    continue
                free = next((p for p in NODE_PORT_RANGE if p not in used_ports), None)
                if free is None:
                    raise errors.service_unavailable("no node ports are left in range 30000-32767")
                port["nodePort"] = free
                used_ports.add(free)

    def _check_requested(self, name: str, ip: str, used: set[str]) -> None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            raise errors.invalid("", "Service", name, [errors.invalid_value(
                "spec.clusterIPs[0]", ip, "must be a valid IP address")]) from None
        if address not in self.network:
            raise errors.invalid("", "Service", name, [errors.invalid_value(
                "spec.clusterIPs[0]", ip, f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the "
                f"valid range. The range of valid IPs is {self.network}")])
        if ip in used:
            raise errors.invalid("", "Service", name, [errors.invalid_value(
                "spec.clusterIPs[0]", ip, f"failed to allocate IP {ip}: provided IP is already allocated")])

    def _next_ip(self, name: str, used: set[str]) -> str:
        # .1 is the `kubernetes` Service's address in every cluster: never hand it out.
        for offset in range(2, min(self.network.num_addresses - 1, 1 << 20)):
            candidate = str(self.network.network_address + offset)
            if candidate not in used:
                return candidate
        raise errors.StatusError(500, "InternalError",
                                 "Internal error occurred: failed to allocate a serviceIP: range is full")
