"""A thin async wrapper over the runc command line (the OCI runtime).

Each call is one `runc --root ROOT <verb>`; errors carry runc's own message, which is what users
need to see ("exec: \"nope\": executable file not found in $PATH"). The state dir (`--root`)
defaults to /run/pocketkube/runc, where the host's before-stop hook looks for leftovers.
"""

from __future__ import annotations

from typing import Any

import orjson

from pocketkube import process

DEFAULT_RUNC_ROOT = "/run/pocketkube/runc"


class RuncError(Exception):
    def __init__(self, verb: str, returncode: int, message: str) -> None:
        super().__init__(f"runc {verb} failed ({returncode}): {message}")
        self.verb = verb
        self.returncode = returncode
        self.message = message


def runc_message(stderr: str) -> str:
    """The human part of runc's stderr: the last `msg="..."` of its logfmt lines, or the text."""
    text = stderr.strip()
    for line in reversed(text.splitlines()):
        marker = line.find('msg="')
        if marker >= 0:
            return line[marker + 5:].rsplit('"', 1)[0].replace('\\"', '"')
    return text


class Runc:
    def __init__(self, binary: str, root: str = DEFAULT_RUNC_ROOT) -> None:
        self.binary = binary
        self.root = root

    async def _run(self, verb: str, *args: str, check: bool = True) -> tuple[int, bytes, str]:
        done = await process.run([self.binary, "--root", self.root, verb, *args])
        err = done.stderr.decode(errors="replace")
        if check and done.returncode != 0:
            raise RuncError(verb, done.returncode, runc_message(err))
        return done.returncode, done.stdout, err

    async def start(self, container_id: str) -> None:
        await self._run("start", container_id)

    async def kill(self, container_id: str, signal: str = "TERM") -> None:
        """Signal the container's init. A container already stopped is not an error."""
        rc, _out, err = await self._run("kill", container_id, signal, check=False)
        if rc != 0 and not _gone(err):
            raise RuncError("kill", rc, runc_message(err))

    async def delete(self, container_id: str) -> None:
        """`runc delete --force`: kills what is left, removes state and container cgroups."""
        rc, _out, err = await self._run("delete", "--force", container_id, check=False)
        if rc != 0 and not _gone(err):
            raise RuncError("delete", rc, runc_message(err))

    async def state(self, container_id: str) -> dict[str, Any] | None:
        """runc's view (`status`: created/running/stopped, `pid`), or None when runc has none."""
        rc, out, err = await self._run("state", container_id, check=False)
        if rc != 0:
            if _gone(err):
                return None
            raise RuncError("state", rc, runc_message(err))
        state: dict[str, Any] = orjson.loads(out)
        return state

    async def list(self) -> list[dict[str, Any]]:
        _rc, out, _err = await self._run("list", "--format", "json")
        items: list[dict[str, Any]] | None = orjson.loads(out or b"null")
        return items or []


def _gone(stderr: str) -> bool:
    lowered = stderr.lower()
    return "does not exist" in lowered or "not exist" in lowered or "container not running" in lowered \
        or "process already finished" in lowered
