"""Starting a container's monitor (conmon) the way CRI-O does.

conmon is launched in its own session with `_OCI_SYNCPIPE` naming an inherited pipe. It forks
itself into the background (the process we started exits at once), runs `runc create`, and
writes `{"data": PID}` — or `{"data": -1, "message": ...}` on failure — to the pipe. The caller
then runs `runc start`. conmon stays the container's parent: it holds the stdio, writes the CRI
log file and, when the container exits, the exit code to `EXIT_DIR/<id>`. None of this depends on
the agent staying alive, which is what lets a restarted agent re-adopt running containers.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import orjson

from pocketkube import process

SYNC_TIMEOUT_S = 30.0


class ConmonError(Exception):
    pass


@dataclass(frozen=True)
class ConmonPaths:
    bundle: str
    exit_dir: str
    socket_dir: str
    log_path: str

    @property
    def pidfile(self) -> str:
        return os.path.join(self.bundle, "pidfile")

    @property
    def conmon_pidfile(self) -> str:
        return os.path.join(self.bundle, "conmon.pid")


def conmon_args(conmon: str, runc: str, runc_root: str, container_id: str, paths: ConmonPaths,
                terminal: bool = False, stdin: bool = False, stdin_once: bool = False) -> list[str]:
    """conmon's argv for one container (pure; the order follows CRI-O's)."""
    args = [
        conmon, "--api-version", "1",
        "-c", container_id, "-u", container_id, "-r", runc,
        "-b", paths.bundle, "-p", paths.pidfile, "-n", container_id,
        "--exit-dir", paths.exit_dir, "--socket-dir-path", paths.socket_dir,
        "-l", f"k8s-file:{paths.log_path}", "--log-level", "warning",
        "--runtime-arg", "--root", "--runtime-arg", runc_root,
        "--conmon-pidfile", paths.conmon_pidfile,
    ]
    if terminal:
        args.append("-t")
    if stdin:
        args.append("-i")
        if stdin_once:
            args.append("--stdin-once")
    return args


def parse_sync_message(data: bytes) -> tuple[int, str] | None:
    """(pid, message) from the first complete JSON object on the sync pipe, None if incomplete."""
    text = data.strip()
    if not text:
        return None
    end = text.find(b"}")
    if end < 0:
        return None
    try:
        message = orjson.loads(text[: end + 1])
    except orjson.JSONDecodeError:
        return None
    return int(message.get("data", -1)), str(message.get("message", ""))


async def _read_sync(read_fd: int) -> tuple[int, str]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0))
    try:
        data = b""
        while True:
            chunk = await reader.read(4096)
            data += chunk
            parsed = parse_sync_message(data)
            if parsed is not None:
                return parsed
            if not chunk:
                return -1, data.decode(errors="replace") or "conmon exited without reporting a pid"
    finally:
        transport.close()


async def start_conmon(args: list[str], bundle: str) -> int:
    """Run conmon (which runs `runc create`) in the bundle dir — it writes its `oom` marker file
    into its working directory, as under CRI-O; the container's pid, or ConmonError with runc's
    message."""
    read_fd, write_fd = os.pipe()
    try:
        proc = process.spawn(args, pass_fds=(write_fd,), start_new_session=True, cwd=bundle,
                             env={**os.environ, "_OCI_SYNCPIPE": str(write_fd)})
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    try:
        pid, message = await asyncio.wait_for(_read_sync(read_fd), SYNC_TIMEOUT_S)
    finally:
        # The launcher exits right after forking the monitor; reap it so no zombie is left.
        await process.wait(proc)
    if pid <= 0:
        raise ConmonError(message.strip() or "runc create failed")
    return pid


def read_pidfile(path: str) -> int:
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0
