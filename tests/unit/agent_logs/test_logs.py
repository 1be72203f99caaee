from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from pocketkube.agent.logs import LogOptions, parse_lines, select, stream_log

LOG = (b"2026-01-01T00:00:00.100000000Z stdout F one\n"
       b"2026-01-01T00:00:01.000000000Z stderr P tw\n"
       b"2026-01-01T00:00:01.500000000Z stderr F o\n"
       b"2026-01-01T00:00:05.000000000Z stdout F three\n")
NOW = datetime(2026, 1, 1, 0, 0, 6, tzinfo=UTC)


def test_partial_lines_join_and_torn_entries_wait() -> None:
    lines, rest = parse_lines(LOG + b"2026-01-01T00:00:06Z stdout F fo")
    assert [line.text for line in lines] == ["one\n", "two\n", "three\n"]
    assert rest.endswith("F fo")
    more, rest = parse_lines(b"ur\n", rest)
    assert [line.text for line in more] == ["four\n"] and rest == ""


def test_tail_since_and_timestamps() -> None:
    lines, _ = parse_lines(LOG)
    assert [line.text for line in select(lines, LogOptions(tail_lines=1), NOW)] == ["three\n"]
    assert [line.text for line in select(lines, LogOptions(tail_lines=0), NOW)] == []
    assert [line.text for line in select(lines, LogOptions(since_seconds=3), NOW)] == ["three\n"]


async def test_follow_streams_appended_lines(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(LOG)
    running = asyncio.Event()
    running.set()
    got: list[bytes] = []

    async def reader() -> None:
        async for chunk in stream_log(path, LogOptions(follow=True, timestamps=True), NOW, running, poll=0.01):
            got.append(chunk)

    task = asyncio.create_task(reader())
    await asyncio.sleep(0.05)
    with path.open("ab") as f:
        f.write(b"2026-01-01T00:00:07Z stdout F four\n")
    await asyncio.sleep(0.05)
    running.clear()
    await asyncio.wait_for(task, 1)
    text = b"".join(got).decode()
    assert text.startswith("2026-01-01T00:00:00.100000000Z one\n")
    assert text.endswith("2026-01-01T00:00:07Z four\n")


async def test_limit_bytes(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(LOG)
    chunks = [c async for c in stream_log(path, LogOptions(limit_bytes=5), NOW)]
    assert b"".join(chunks) == b"one\nt"
