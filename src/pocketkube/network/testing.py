"""The NetworkPlugin conformance suite: FakeNetworkPlugin and CNIPlugin both pass every check.

Each `check_*` is an async function taking a `Harness` and raising AssertionError on a violation.
A harness makes plugins that share one persistent state (a second `make_plugin()` is "the agent
after a restart"), and network namespaces (real ones for CNI, any path for the fake). Checks use
fresh pod identities and tear down what they set up, so they can share one harness.
Run them all with `CHECKS`, e.g. `@pytest.mark.parametrize("check", CHECKS)`.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pocketkube.network.base import NetworkPlugin, PodNetworkRef, PortMapping


@dataclass
class Harness:
    make_plugin: Callable[[], NetworkPlugin]
    make_netns: Callable[[], Awaitable[str]]
    drop_netns: Callable[[str], Awaitable[None]]
    subnet: str


def new_pod(name: str = "p") -> PodNetworkRef:
    suffix = uuid.uuid4().hex
    return PodNetworkRef("default", f"{name}-{suffix[:6]}", str(uuid.uuid4()), suffix + suffix[:32])


async def check_setup_assigns_distinct_ips_in_subnet(h: Harness) -> None:
    plugin = h.make_plugin()
    subnet = ipaddress.ip_network(h.subnet)
    pods = [new_pod("a"), new_pod("b")]
    paths = [await h.make_netns() for _ in pods]
    try:
        statuses = [await plugin.setup(p, path, []) for p, path in zip(pods, paths, strict=True)]
        ips = [s.pod_ip for s in statuses]
        assert ips[0] != ips[1], f"two pods got the same IP {ips[0]}"
        for s in statuses:
            assert ipaddress.ip_address(s.pod_ip) in subnet, f"{s.pod_ip} not in {subnet}"
            assert s.interface == "eth0"
            assert s.gateway == str(subnet.network_address + 1), s.gateway
            assert s.pod_ip != s.gateway
            assert s.cidrs and s.cidrs[0] == f"{s.pod_ip}/{subnet.prefixlen}", s.cidrs
        for p, path, s in zip(pods, paths, statuses, strict=True):
            assert await plugin.status(p, path) == s
    finally:
        for p, path in zip(pods, paths, strict=True):
            await plugin.teardown(p, path, [])
            await h.drop_netns(path)
        await plugin.close()


async def check_setup_twice_returns_the_same_ip(h: Harness) -> None:
    plugin = h.make_plugin()
    pod, path = new_pod(), await h.make_netns()
    try:
        first = await plugin.setup(pod, path, [])
        again = await plugin.setup(pod, path, [])
        assert again == first, (first, again)
    finally:
        await plugin.teardown(pod, path, [])
        await h.drop_netns(path)
        await plugin.close()


async def check_teardown_is_idempotent(h: Harness) -> None:
    plugin = h.make_plugin()
    pod, path = new_pod(), await h.make_netns()
    try:
        await plugin.teardown(new_pod("never"), path, [])  # never set up
        await plugin.setup(pod, path, [])
        await plugin.teardown(pod, path, [])
        assert await plugin.status(pod, path) is None
        await plugin.teardown(pod, path, [])
    finally:
        await h.drop_netns(path)
        await plugin.close()


async def check_teardown_after_netns_is_gone(h: Harness) -> None:
    plugin = h.make_plugin()
    pod, path = new_pod(), await h.make_netns()
    try:
        await plugin.setup(pod, path, [])
    finally:
        await h.drop_netns(path)
    try:
        await plugin.teardown(pod, path, [])
        await plugin.teardown(pod, path, [])
        assert await plugin.status(pod, path) is None
    finally:
        await plugin.close()


async def check_status_survives_restart(h: Harness) -> None:
    before = h.make_plugin()
    pod, path = new_pod(), await h.make_netns()
    try:
        created = await before.setup(pod, path, [])
        await before.close()
        after = h.make_plugin()
        assert await after.status(pod, path) == created
        # The restarted agent can still tear it down, and then the pod is gone.
        await after.teardown(pod, path, [])
        assert await after.status(pod, path) is None
        await after.close()
    finally:
        await h.drop_netns(path)


async def check_unknown_pod_has_no_status(h: Harness) -> None:
    plugin = h.make_plugin()
    path = await h.make_netns()
    try:
        assert await plugin.status(new_pod(), path) is None
    finally:
        await h.drop_netns(path)
        await plugin.close()


async def check_port_mappings_set_up_and_torn_down(h: Harness) -> None:
    plugin = h.make_plugin()
    pod, path = new_pod(), await h.make_netns()
    ports = [PortMapping(host_port=31080, container_port=80), PortMapping(31053, 53, "UDP")]
    try:
        status = await plugin.setup(pod, path, ports)
        assert await plugin.status(pod, path) == status
        await plugin.teardown(pod, path, ports)
        assert await plugin.status(pod, path) is None
    finally:
        await plugin.teardown(pod, path, ports)
        await h.drop_netns(path)
        await plugin.close()


CHECKS: list[Callable[[Harness], Awaitable[None]]] = [
    check_setup_assigns_distinct_ips_in_subnet,
    check_setup_twice_returns_the_same_ip,
    check_teardown_is_idempotent,
    check_teardown_after_netns_is_gone,
    check_status_survives_restart,
    check_unknown_pod_has_no_status,
    check_port_mappings_set_up_and_torn_down,
]
