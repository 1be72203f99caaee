"""Container logs in the CRI format conmon writes, read back the way `kubectl logs` asks.

Each line is `<RFC3339Nano time> <stdout|stderr> <P|F> <text>`; `P` marks a partial line that the
next entry continues. Files live where the kubelet puts them:
`<logs root>/<namespace>_<pod>_<uid>/<container>/<restart count>.log`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    previous: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: datetime | None = None
    timestamps: bool = False
    limit_bytes: int | None = None


def pod_log_dir(root: Path, namespace: str, name: str, uid: str) -> Path:
    return root / f"{namespace}_{name}_{uid}"


def container_log_path(root: Path, namespace: str, name: str, uid: str, container: str, attempt: int) -> Path:
    return pod_log_dir(root, namespace, name, uid) / container / f"{attempt}.log"


@dataclass(frozen=True)
class LogLine:
    time: str
    stream: str
    text: str  # with its newline when the line was complete


def parse_lines(data: bytes, carry: str = "") -> tuple[list[LogLine], str]:
    """Parse complete CRI entries; returns the lines and the unparsed rest (a torn last entry)."""
    out: list[LogLine] = []
    text = carry + data.decode("utf-8", errors="replace")
    *entries, rest = text.split("\n")
    partial: list[str] = []
    for entry in entries:
        parts = entry.split(" ", 3)
        if len(parts) < 3:
            continue
        timestamp, stream, tag = parts[0], parts[1], parts[2]
        body = parts[3] if len(parts) == 4 else ""
        partial.append(body)
        if tag == "P":
            continue
        out.append(LogLine(timestamp, stream, "".join(partial) + "\n"))
        partial = []
    if partial:  # a partial line still waiting for its end stays in the carry
        rest = "\n".join(entries[-len(partial):]) + "\n" + rest
    return out, rest


def _parse_time(value: str) -> datetime:
    # Python's fromisoformat takes at most microseconds: cut nanoseconds.
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{frac[:6].ljust(6, '0')}+00:00" if frac else f"{head}+00:00")


def select(lines: list[LogLine], opts: LogOptions, now: datetime) -> list[LogLine]:
    if opts.since_seconds is not None or opts.since_time is not None:
        cutoff = opts.since_time
        if opts.since_seconds is not None:
            cutoff = datetime.fromtimestamp(now.timestamp() - opts.since_seconds, tz=now.tzinfo)
        assert cutoff is not None
        lines = [line for line in lines if _parse_time(line.time) >= cutoff]
    if opts.tail_lines is not None:
        lines = lines[-opts.tail_lines:] if opts.tail_lines > 0 else []
    return lines


def render(line: LogLine, timestamps: bool) -> bytes:
    return (f"{line.time} {line.text}" if timestamps else line.text).encode()


async def stream_log(path: Path, opts: LogOptions, now: datetime, still_running: asyncio.Event | None = None,
                     poll: float = 0.1) -> AsyncIterator[bytes]:
    """Yield the selected log output; with `follow`, keep yielding until `still_running` is cleared."""
    sent = 0
    limit = opts.limit_bytes

    def budget(chunk: bytes) -> bytes:
        nonlocal sent
        if limit is not None:
            chunk = chunk[: max(0, limit - sent)]
        sent += len(chunk)
        return chunk

    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        data = b""
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            data += chunk
        lines, carry = parse_lines(data)
        out = b"".join(render(line, opts.timestamps) for line in select(lines, opts, now))
        if out:
            yield budget(out)
        if not opts.follow:
            return
        while limit is None or sent < limit:
            chunk = os.read(fd, 1 << 20)
            if chunk:
                lines, carry = parse_lines(chunk, carry)
                out = b"".join(render(line, opts.timestamps) for line in lines)
                if out:
                    yield budget(out)
                continue
            if still_running is not None and not still_running.is_set():
                return
            await asyncio.sleep(poll)
    finally:
        os.close(fd)
