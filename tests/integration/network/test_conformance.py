from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

import pytest

from pocketkube.network.cni import CNIPlugin
from pocketkube.network.config import NetworkOptions
from pocketkube.network.netns import create_netns, delete_netns
from pocketkube.network.testing import CHECKS, Harness
from tests.integration.network.conftest import netns_name


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_cni_passes(check: Callable[[Harness], Awaitable[None]], net_opts: NetworkOptions) -> None:
    counter = itertools.count()

    async def make_netns() -> str:
        return await create_netns(netns_name(net_opts, str(next(counter))))

    async def drop_netns(path: str) -> None:
        await delete_netns(path.rsplit("/", 1)[-1])

    await check(Harness(lambda: CNIPlugin(net_opts), make_netns, drop_netns, net_opts.pod_cidr))
