"""Named network namespaces, as `ip netns add` makes them (a bind mount under /run/netns).

The runtime's sandbox will own its pod's netns; these helpers serve tests and benchmarks, which
need a namespace without a runtime, and are thin on purpose: `ip` already does the bind-mount dance.
"""

from __future__ import annotations

from pathlib import Path

from pocketkube.network.base import NetworkError
from pocketkube.network.host import run

NETNS_DIR = Path("/run/netns")


def netns_path(name: str) -> str:
    return str(NETNS_DIR / name)


async def create_netns(name: str) -> str:
    """Create the named netns and return its path."""
    rc, _, err = await run("ip", "netns", "add", name)
    if rc != 0:
        raise NetworkError(f"ip netns add {name}: {err.decode(errors='replace').strip()}")
    return netns_path(name)


async def delete_netns(name: str) -> None:
    """Delete the named netns; nothing to do when it is already gone."""
    if not Path(netns_path(name)).exists():
        return
    rc, _, err = await run("ip", "netns", "del", name)
    if rc != 0 and Path(netns_path(name)).exists():
        raise NetworkError(f"ip netns del {name}: {err.decode(errors='replace').strip()}")


async def exec_in_netns(name: str, *argv: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run `argv` inside the named netns; returns (exit status, stdout, stderr)."""
    return await run("ip", "netns", "exec", name, *argv, stdin=stdin)
