from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

import pytest

from pocketkube.network.base import PodNetworkRef
from pocketkube.network.fake import FakeNetworkPlugin, FakeNetworkState
from pocketkube.network.testing import CHECKS, Harness


def _harness() -> Harness:
    state = FakeNetworkState(cidr="10.250.0.0/24")
    counter = itertools.count()

    async def make_netns() -> str:
        return f"/run/netns/fake-{next(counter)}"

    async def drop_netns(path: str) -> None:
        return None

    return Harness(lambda: FakeNetworkPlugin(state), make_netns, drop_netns, state.cidr)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_fake_passes(check: Callable[[Harness], Awaitable[None]]) -> None:
    await check(_harness())


async def test_fake_round_robin_and_exhaustion() -> None:
    plugin = FakeNetworkPlugin(FakeNetworkState(cidr="10.0.0.0/29"))  # 8 addresses: 5 for pods
    pods = [PodNetworkRef("ns", f"p{i}", f"u{i}", f"c{i}") for i in range(6)]
    ips = [(await plugin.setup(p, "/n", [])).pod_ip for p in pods[:5]]
    assert ips == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(Exception, match="no IP addresses available"):
        await plugin.setup(pods[5], "/n", [])
    await plugin.teardown(pods[1], "/n", [])
    assert (await plugin.setup(pods[5], "/n", [])).pod_ip == "10.0.0.3"


async def test_fake_failure_injection() -> None:
    plugin = FakeNetworkPlugin(fail_setup="boom")
    with pytest.raises(Exception, match="boom"):
        await plugin.setup(PodNetworkRef("ns", "p", "u", "c"), "/n", [])
