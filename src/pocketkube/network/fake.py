"""FakeNetworkPlugin: an in-memory NetworkPlugin for component tests of the agent.

It hands out addresses from a CIDR the way host-local does (the first host is the gateway, the
next free one goes to the pod, a released one is reused only after the rest), and keeps its
allocations in a `FakeNetworkState` that can outlive the plugin, so a test can "restart the agent"
by building a second plugin over the same state and expect `status` to re-adopt the pod.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pocketkube.network.base import NetworkError, PodNetworkRef, PodNetworkStatus, PortMapping


@dataclass
class FakeNetworkState:
    cidr: str = "10.244.0.0/24"
    allocated: dict[str, str] = field(default_factory=dict)  # container id -> address
    port_mappings: dict[str, list[PortMapping]] = field(default_factory=dict)
    last: int = 1  # offset of the last address handed out (1 is the gateway)


class FakeNetworkPlugin:
    def __init__(self, state: FakeNetworkState | None = None, *, fail_setup: str | None = None) -> None:
        self.state = state or FakeNetworkState()
        self.net = ipaddress.ip_network(self.state.cidr)
        self.gateway = str(self.net.network_address + 1)
        self.fail_setup = fail_setup  # when set, setup raises NetworkError with this message
        self.closed = False

    def _status(self, address: str) -> PodNetworkStatus:
        return PodNetworkStatus(
            ips=(address,), interface="eth0", gateway=self.gateway, cidrs=(f"{address}/{self.net.prefixlen}",)
        )

    def _allocate(self) -> str:
        used = set(self.state.allocated.values())
        # Offsets 2 .. size-2: everything but the network address, the gateway and broadcast.
        count = self.net.num_addresses - 3
        # Round robin after the last one handed out, as host-local does.
        for step in range(1, count + 1):
            offset = (self.state.last - 2 + step) % count + 2
            address = str(self.net.network_address + offset)
            if address not in used:
                self.state.last = offset
                return address
        raise NetworkError(f"no IP addresses available in range set: {self.state.cidr}")

    async def setup(
        self, pod: PodNetworkRef, netns_path: str, port_mappings: list[PortMapping]
    ) -> PodNetworkStatus:
        if self.closed:
            raise NetworkError("network plugin is closed")
        if self.fail_setup:
            raise NetworkError(self.fail_setup)
        address = self.state.allocated.get(pod.container_id)
        if address is None:
            address = self._allocate()
            self.state.allocated[pod.container_id] = address
            self.state.port_mappings[pod.container_id] = list(port_mappings)
        return self._status(address)

    async def teardown(self, pod: PodNetworkRef, netns_path: str, port_mappings: list[PortMapping]) -> None:
        self.state.allocated.pop(pod.container_id, None)
        self.state.port_mappings.pop(pod.container_id, None)

    async def status(self, pod: PodNetworkRef, netns_path: str) -> PodNetworkStatus | None:
        address = self.state.allocated.get(pod.container_id)
        return self._status(address) if address else None

    async def close(self) -> None:
        self.closed = True
