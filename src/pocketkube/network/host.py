"""Host-side helpers around the CNI plugins: readiness of the pod's links, reading addresses back
from a netns, and removing what the plugins leave behind on purpose (the bridge, portmap's shared
chains) once no pod uses them.

Readiness is polled from sysfs rather than waited for by time: a veth's host end reports
operstate "up" only when its peer (the pod's eth0) is up too, and its bridge port state 3 means
forwarding, so both together say the first ARP to the pod will be answered without a retry.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from pathlib import Path
from typing import Any

import orjson

from pocketkube import process
from pocketkube.network.base import NetworkError

SYS_NET = Path("/sys/class/net")
_FORWARDING = "3"  # BR_STATE_FORWARDING
_PORTMAP_CHAINS = ("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK")


async def run(*argv: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    done = await process.run(argv, input=stdin)
    return done.returncode, done.stdout, done.stderr


def link_exists(name: str) -> bool:
    return (SYS_NET / name).exists()


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def link_ready(name: str) -> bool:
    """Up with carrier (for a veth: the peer is up too) and, if it is a bridge port, forwarding."""
    if _read(SYS_NET / name / "operstate") != "up":
        return False
    port_state = SYS_NET / name / "brport" / "state"
    return not port_state.exists() or _read(port_state) == _FORWARDING


async def wait_links_ready(names: list[str], timeout: float = 2.0) -> None:
    """Return once every link in `names` is ready; NetworkError when one is not within `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        pending = [n for n in names if not link_ready(n)]
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise NetworkError(f"links not up after {timeout:.1f}s: {', '.join(pending)}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.02)


async def netns_addresses(netns_path: str, ifname: str = "eth0") -> list[str]:
    """The global addresses ("10.244.0.5/24") on `ifname` inside the netns at `netns_path`."""
    rc, out, _ = await run("nsenter", f"--net={netns_path}", "ip", "-j", "addr", "show", "dev", ifname)
    if rc != 0:
        return []
    links: list[dict[str, Any]] = orjson.loads(out or b"[]")
    return [
        f"{a['local']}/{a['prefixlen']}"
        for link in links
        for a in link.get("addr_info", [])
        if a.get("scope") == "global" and a.get("local")
    ]


async def cleanup_bridge(name: str) -> bool:
    """Delete the bridge `name` (the agent does so at shutdown with no pods left); False if absent."""
    if not link_exists(name):
        return False
    rc, _, err = await run("ip", "link", "del", name)
    if rc != 0 and link_exists(name):
        raise NetworkError(f"deleting bridge {name}: {err.decode(errors='replace').strip()}")
    return True


async def cleanup_portmap_chains() -> bool:
    """Remove portmap's shared nat chains and their jumps when no pod's mapping is left in them.

    portmap deletes each pod's own chain on DEL but keeps the shared ones for the next pod; with
    several agents on one host another one may still use them, hence the emptiness check.
    """
    removed = False
    for tool in ("iptables", "ip6tables"):
        rc, out, _ = await run(tool, "-w", "-t", "nat", "-S", "CNI-HOSTPORT-DNAT")
        if rc != 0:
            continue  # no such chain (or no such table): nothing to do
        if any(line.startswith("-A ") for line in out.decode().splitlines()):
            continue
        rc, out, _ = await run(tool, "-w", "-t", "nat", "-S")
        jumps = [
            shlex.split(line)
            for line in out.decode().splitlines()
            if line.startswith("-A ") and any(f"-j {c}" in line for c in _PORTMAP_CHAINS)
            and not line.split()[1].startswith("CNI-")
        ]
        for rule in jumps:
            await run(tool, "-w", "-t", "nat", "-D", *rule[1:])
        for chain in _PORTMAP_CHAINS:
            await run(tool, "-w", "-t", "nat", "-F", chain)
        for chain in _PORTMAP_CHAINS:
            rc, _, _ = await run(tool, "-w", "-t", "nat", "-X", chain)
            removed = removed or rc == 0
    return removed

