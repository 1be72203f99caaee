"""Fixtures for the CNI integration tests: one test-only bridge, CIDR and state dir per test.

Names carry a random tag so parallel runs (and a later node agent on the same host) never share a
bridge, a subnet or IPAM state; every fixture removes what it made, even when a test fails.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketkube.network.cni import CNIPlugin
from pocketkube.network.config import NetworkOptions
from pocketkube.network.host import cleanup_bridge, cleanup_portmap_chains
from tests.support import requires

PLUGINS = ("bridge", "host-local", "portmap", "loopback")


def _free_subnet() -> str:
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    for _ in range(50):
        n = random.randint(1, 254)
        if f"10.250.{n}." not in routes:
            return f"10.250.{n}.0/24"
    raise RuntimeError("no free 10.250.N.0/24 test subnet")


@pytest.fixture()
def net_opts(tmp_path: Path) -> Iterator[NetworkOptions]:
    requires.root()
    for tool in ("ip", "iptables", "nsenter", "busybox"):
        requires.binary(tool)
    bin_dirs = tuple(sorted({str(Path(requires.cni_plugin(p)).parent) for p in PLUGINS}))
    tag = uuid.uuid4().hex[:6]
    opts = NetworkOptions(
        network_name=f"pktest-{tag}",
        bridge=f"pkt{tag}",
        pod_cidr=_free_subnet(),
        cluster_cidr="10.250.0.0/16",
        state_dir=tmp_path / "network",
        bin_dirs=bin_dirs,
    )
    try:
        yield opts
    finally:
        for line in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            if name.startswith(f"pkt{tag}-"):
                subprocess.run(["ip", "netns", "del", name], check=False)
        # A test that failed half-way leaves attachments: DEL them (releases IPs, portmap rules).
        asyncio.run(_teardown_cached(opts))
        asyncio.run(cleanup_bridge(opts.bridge))
        asyncio.run(cleanup_portmap_chains())


async def _teardown_cached(opts: NetworkOptions) -> None:
    plugin = CNIPlugin(opts)
    for pod in plugin.attachments():
        await plugin.teardown(pod, "/nonexistent", [])


def netns_name(opts: NetworkOptions, suffix: str) -> str:
    return f"{opts.bridge}-{suffix}"
