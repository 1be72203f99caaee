"""The NetworkPlugin seam: what the node agent asks of pod networking.

A pod's sandbox owns one network namespace; `setup` wires it to the node's pod network and returns
the addresses that go into `status.podIP`/`podIPs`, `teardown` undoes it and must succeed however
much is already gone (the agent retries it after crashes, and after the netns was deleted), and
`status` re-reads what an earlier agent process set up so a restarted agent can re-adopt running
pods without a second ADD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class PodNetworkRef:
    """Which pod a sandbox belongs to; `container_id` is the sandbox id (CNI_CONTAINERID)."""

    namespace: str
    name: str
    uid: str
    container_id: str


@dataclass(frozen=True)
class PortMapping:
    """One container port published on the node (`hostPort`), as the pod spec declares it."""

    host_port: int
    container_port: int
    protocol: str = "TCP"  # TCP | UDP | SCTP, as in the pod spec
    host_ip: str = ""  # "" binds every node address


@dataclass(frozen=True)
class PodNetworkStatus:
    """The pod's addresses: `ips` are bare addresses (no prefix), the first is `status.podIP`."""

    ips: tuple[str, ...]
    interface: str = "eth0"
    gateway: str | None = None
    # The same addresses with their prefix length ("10.244.0.5/24"), in the order of `ips`.
    cidrs: tuple[str, ...] = field(default=())

    @property
    def pod_ip(self) -> str:
        return self.ips[0]


class NetworkError(Exception):
    """Setting up or tearing down a pod's network failed; the message says why."""


class NetworkPlugin(Protocol):
    async def setup(
        self, pod: PodNetworkRef, netns_path: str, port_mappings: list[PortMapping]
    ) -> PodNetworkStatus:
        """Attach the netns to the pod network; calling it again for a set-up pod returns its status."""
        ...

    async def teardown(self, pod: PodNetworkRef, netns_path: str, port_mappings: list[PortMapping]) -> None:
        """Detach and release the IP; succeeds when already torn down or the netns is gone."""
        ...

    async def status(self, pod: PodNetworkRef, netns_path: str) -> PodNetworkStatus | None:
        """The addresses of a pod set up earlier (maybe by another agent process), or None."""
        ...

    async def close(self) -> None: ...
