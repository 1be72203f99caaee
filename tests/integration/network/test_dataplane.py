"""Real traffic over the CNI-built pod network: pod to pod, host to pod, a hostPort through
portmap; and teardown leaving nothing behind (IPAM files, veths, iptables rules, the bridge)."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import time
import uuid

from pocketkube.network.base import PodNetworkRef, PortMapping
from pocketkube.network.cni import CNIPlugin
from pocketkube.network.config import NetworkOptions
from pocketkube.network.host import cleanup_bridge, cleanup_portmap_chains, link_exists, run
from pocketkube.network.netns import create_netns, delete_netns, exec_in_netns
from pocketkube.network.result import host_interfaces
from tests.integration.network.conftest import netns_name
from tests.support.wait import until


def pod(name: str) -> PodNetworkRef:
    return PodNetworkRef("default", name, str(uuid.uuid4()), uuid.uuid4().hex * 2)


def iptables_rules() -> set[str]:
    """Chain declarations and rules of both families (built-in chains and counters left out)."""
    rules: set[str] = set()
    for tool in ("iptables-save", "ip6tables-save"):
        out = subprocess.run([tool], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("-A ") or (line.startswith(":") and line.split()[1] == "-"):
                rules.add(f"{tool}: {line.split(' [')[0] if line.startswith(':') else line}")
    return rules


async def test_pods_reach_each_other_and_the_host_reaches_them(net_opts: NetworkOptions) -> None:
    plugin = CNIPlugin(net_opts)
    names = [netns_name(net_opts, s) for s in ("a", "b")]
    pods = [pod("a"), pod("b")]
    paths = [await create_netns(n) for n in names]
    statuses = [await plugin.setup(p, path, []) for p, path in zip(pods, paths, strict=True)]
    a_ip, b_ip = (s.pod_ip for s in statuses)
    assert a_ip != b_ip
    # No sleep between setup and traffic: setup waits for the links, so the first ping answers.
    rc, out, err = await exec_in_netns(names[0], "busybox", "ping", "-c1", "-W1", b_ip)
    assert rc == 0, out + err
    rc, out, err = await exec_in_netns(names[1], "busybox", "ping", "-c1", "-W1", a_ip)
    assert rc == 0, out + err
    rc, out, err = await run("busybox", "ping", "-c1", "-W1", a_ip)  # from the host, via the bridge
    assert rc == 0, out + err
    # lo is up in the pod (loopback plugin).
    rc, out, err = await exec_in_netns(names[0], "busybox", "ping", "-c1", "-W1", "127.0.0.1")
    assert rc == 0, out + err
    for p, path in zip(pods, paths, strict=True):
        await plugin.teardown(p, path, [])
    for n in names:
        await delete_netns(n)


async def test_host_port_through_portmap_and_clean_teardown(net_opts: NetworkOptions) -> None:
    before = iptables_rules()
    plugin = CNIPlugin(net_opts)
    name = netns_name(net_opts, "web")
    path = await create_netns(name)
    web = pod("web")
    ports = [PortMapping(host_port=31234, container_port=8080)]
    status = await plugin.setup(web, path, ports)
    cached = plugin.cache.load(net_opts.network_name, web.container_id, "eth0")
    assert cached is not None
    veths = host_interfaces(cached.result, net_opts.bridge)
    assert veths and all(link_exists(v) for v in veths)
    ipam_file = net_opts.ipam_dir / net_opts.network_name / status.pod_ip
    assert ipam_file.read_text().startswith(web.container_id)
    assert any("--dport 31234" in r for r in iptables_rules() - before)

    site = net_opts.state_dir / "www"
    site.mkdir()
    (site / "index.html").write_text("hello from the pod\n")
    server = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", name, "busybox", "httpd", "-f", "-p", "8080", "-h", str(site),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert status.gateway is not None
        # Wait for httpd to listen (the pod's own address, no NAT), then go through the hostPort.
        await wait_listening(status.pod_ip, 8080)
        body = await http_get(status.gateway, 31234)
        assert body.endswith("hello from the pod\n"), body
        # The pod's own IP:containerPort works too, straight over the bridge.
        assert (await http_get(status.pod_ip, 8080)).endswith("hello from the pod\n")
    finally:
        server.kill()
        await server.wait()

    await plugin.teardown(web, path, ports)
    assert not ipam_file.exists(), "teardown left the host-local allocation"
    assert not any(link_exists(v) for v in veths), "teardown left the veth"
    assert not (net_opts.cache_dir / "results" / f"{net_opts.network_name}-{web.container_id}-eth0").exists()
    await delete_netns(name)
    assert await cleanup_portmap_chains() or not (iptables_rules() - before)
    assert iptables_rules() == before
    assert await cleanup_bridge(net_opts.bridge)
    assert not link_exists(net_opts.bridge)
    assert not await cleanup_bridge(net_opts.bridge)


async def wait_listening(host: str, port: int, within: float = 3.0) -> None:
    async def accepts() -> bool:
        _, writer = await asyncio.open_connection(host, port)
        writer.close()
        return True

    await until(accepts, within=within, interval=0.01)


async def http_get(host: str, port: int) -> str:
    """One HTTP/1.0 GET with a deadline, so a broken DNAT fails the test instead of hanging it."""
    async with asyncio.timeout(3):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n")
        await writer.drain()
        data = await reader.read()
        writer.close()
    return data.decode()


async def test_teardown_after_netns_deleted_frees_everything(net_opts: NetworkOptions) -> None:
    plugin = CNIPlugin(net_opts)
    name = netns_name(net_opts, "gone")
    path = await create_netns(name)
    p = pod("gone")
    status = await plugin.setup(p, path, [])
    cached = plugin.cache.load(net_opts.network_name, p.container_id, "eth0")
    assert cached is not None
    await delete_netns(name)  # the veth pair dies with the netns; the IP is still allocated
    ipam_file = net_opts.ipam_dir / net_opts.network_name / status.pod_ip
    assert ipam_file.exists()
    await plugin.teardown(p, path, [])
    assert not ipam_file.exists()
    assert await plugin.status(p, path) is None


async def test_status_read_from_the_netns_without_cache(net_opts: NetworkOptions) -> None:
    plugin = CNIPlugin(net_opts)
    name = netns_name(net_opts, "nocache")
    path = await create_netns(name)
    p = pod("nocache")
    status = await plugin.setup(p, path, [])
    await plugin.check(p, path)  # CNI CHECK agrees with the cached result
    plugin.cache.delete(net_opts.network_name, p.container_id, "eth0")
    recovered = await plugin.status(p, path)
    assert recovered is not None and recovered.ips == status.ips and recovered.cidrs == status.cidrs
    await plugin.teardown(p, path, [])
    await delete_netns(name)


async def test_add_and_del_times(net_opts: NetworkOptions) -> None:
    """Timed: netns add + ADD, then DEL + netns del, and the reverse teardown order (netns del, then
    DEL with the netns gone, which spares bridge DEL the veth deletion). FACTS: ~22 ms for the ADD."""
    plugin = CNIPlugin(net_opts)
    adds: list[float] = []
    dels: list[float] = []
    dels_netns_first: list[float] = []
    for i in range(16):
        name = netns_name(net_opts, f"t{i}")
        p = pod(f"t{i}")
        start = time.perf_counter()
        path = await create_netns(name)
        await plugin.setup(p, path, [])
        adds.append(time.perf_counter() - start)
        start = time.perf_counter()
        if i % 2:
            await delete_netns(name)
            await plugin.teardown(p, path, [])
            dels_netns_first.append(time.perf_counter() - start)
        else:
            await plugin.teardown(p, path, [])
            await delete_netns(name)
            dels.append(time.perf_counter() - start)
    # The first ADD creates the bridge: leave it out.
    add_ms = statistics.median(adds[1:]) * 1000
    del_ms, del2_ms = statistics.median(dels) * 1000, statistics.median(dels_netns_first) * 1000
    print(f"\nnetns add + CNI ADD: median {add_ms:.1f} ms; CNI DEL + netns del: median {del_ms:.1f} ms; "
          f"netns del + CNI DEL: median {del2_ms:.1f} ms")
    assert add_ms < 1000 and del_ms < 1000 and del2_ms < 1000
    assert not list((net_opts.ipam_dir / net_opts.network_name).glob("10.*")), "an IP leaked"
    assert plugin.attachments() == []
