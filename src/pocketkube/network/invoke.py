"""Run one CNI plugin binary exactly as the CNI spec says, as an asyncio subprocess.

The network configuration goes in on stdin, the runtime parameters in CNI_* environment variables,
the result comes back on stdout; a failing plugin exits non-zero and prints a JSON error
`{"code", "msg", "details"}` which becomes a `CNIError` carrying the plugin's own message.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from pocketkube import process
from pocketkube.network.base import NetworkError

# Plugins shell out to iptables and friends, which live in sbin directories.
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


class CNIError(NetworkError):
    """A CNI plugin reported an error (or produced output that is not a CNI result)."""

    def __init__(self, plugin: str, command: str, code: int, msg: str, details: str = "") -> None:
        self.plugin = plugin
        self.command = command
        self.code = code
        self.msg = msg
        self.details = details
        text = f"CNI {plugin} {command} failed (code {code}): {msg}"
        super().__init__(f"{text}: {details}" if details else text)


@dataclass(frozen=True)
class Invocation:
    """The CNI_* runtime parameters of one call (everything but the command and the config)."""

    container_id: str
    netns: str  # "" is allowed for DEL when the namespace is already gone
    ifname: str
    args: tuple[tuple[str, str], ...] = ()
    path: tuple[str, ...] = ()


def find_plugin(plugin_type: str, bin_dirs: tuple[str, ...]) -> str:
    """The path of plugin `plugin_type` in the first of `bin_dirs` that has it."""
    if not plugin_type or "/" in plugin_type:
        raise NetworkError(f"invalid CNI plugin type {plugin_type!r}")
    for directory in bin_dirs:
        candidate = Path(directory) / plugin_type
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise NetworkError(f"CNI plugin {plugin_type!r} not found in {':'.join(bin_dirs)}")


def cni_env(command: str, inv: Invocation) -> dict[str, str]:
    env = dict(os.environ)
    path = env.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep)
    env["PATH"] = os.pathsep.join([*path, *(d for d in _SBIN if d not in path)])
    env.update(
        CNI_COMMAND=command,
        CNI_CONTAINERID=inv.container_id,
        CNI_NETNS=inv.netns,
        CNI_IFNAME=inv.ifname,
        CNI_PATH=os.pathsep.join(inv.path),
        CNI_ARGS=";".join(f"{k}={v}" for k, v in inv.args),
    )
    return env


async def invoke(binary: str, command: str, config: dict[str, Any], inv: Invocation) -> dict[str, Any] | None:
    """Run `binary` with CNI_COMMAND=`command`; returns the parsed stdout (None when it printed nothing)."""
    plugin = Path(binary).name
    # The configuration goes in through a file, not a pipe: a plugin may exit without reading
    # stdin (VERSION), and a write to its closed pipe would fail the call.
    with tempfile.TemporaryFile() as stdin:
        stdin.write(orjson.dumps(config))
        stdin.seek(0)
        done = await process.run([binary], stdin=stdin, env=cni_env(command, inv))
    out, err = done.stdout, done.stderr
    parsed: Any = None
    if out.strip():
        try:
            parsed = orjson.loads(out)
        except orjson.JSONDecodeError:
            parsed = None
    if done.returncode != 0:
        if isinstance(parsed, dict) and "msg" in parsed:
            raise CNIError(plugin, command, int(parsed.get("code", 999)), str(parsed["msg"]),
                           str(parsed.get("details", "")))
        text = (err or out).decode(errors="replace").strip()
        raise CNIError(plugin, command, 999, f"exit status {done.returncode}", text)
    if not out.strip():
        return None
    if not isinstance(parsed, dict):
        raise CNIError(plugin, command, 999, "output is not a JSON object", out.decode(errors="replace")[:200])
    return parsed


async def supported_versions(binary: str) -> list[str]:
    """The CNI spec versions `binary` speaks (CNI_COMMAND=VERSION)."""
    result = await invoke(binary, "VERSION", {"cniVersion": "1.0.0"}, Invocation("", "", ""))
    versions = (result or {}).get("supportedVersions")
    if not isinstance(versions, list):
        raise CNIError(Path(binary).name, "VERSION", 999, "no supportedVersions in the answer")
    return [str(v) for v in versions]
