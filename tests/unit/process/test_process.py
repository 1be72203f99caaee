"""pocketkube.process under both event loops the project runs: stdlib asyncio and uvloop."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop

from pocketkube import process
from tests.support.wait import until

LOOPS: dict[str, Callable[[Awaitable[Any]], Any]] = {
    "asyncio": lambda coro: asyncio.run(coro),  # type: ignore[arg-type]
    "uvloop": lambda coro: uvloop.run(coro),  # type: ignore[arg-type]
}


@pytest.fixture(params=sorted(LOOPS))
def run_in(request: pytest.FixtureRequest) -> Callable[[Awaitable[Any]], Any]:
    return LOOPS[request.param]


def test_collects_stdout_stderr_and_exit_code(run_in: Callable[[Awaitable[Any]], Any]) -> None:
    done = run_in(process.run([sys.executable, "-c",
                               "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"]))
    assert done == process.Completed(3, b"out\n", b"err\n")


def test_output_larger_than_a_pipe_buffer(run_in: Callable[[Awaitable[Any]], Any]) -> None:
    done = run_in(process.run([sys.executable, "-c", "import sys; sys.stdout.write('x' * 1_000_000)"]))
    assert done.returncode == 0 and len(done.stdout) == 1_000_000


def test_input_through_a_pipe_and_a_file(run_in: Callable[[Awaitable[Any]], Any]) -> None:
    cat = [sys.executable, "-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"]
    assert run_in(process.run(cat, input=b"y" * 300_000)).stdout == b"y" * 300_000
    with tempfile.TemporaryFile() as f:
        f.write(b"from a file")
        f.seek(0)
        assert run_in(process.run(cat, stdin=f)).stdout == b"from a file"


def test_input_the_child_never_reads_is_not_an_error(run_in: Callable[[Awaitable[Any]], Any]) -> None:
    assert run_in(process.run(["true"], input=b"z" * 1_000_000)).returncode == 0


def test_env_cwd_and_passed_fds(run_in: Callable[[Awaitable[Any]], Any], tmp_path: Any) -> None:
    read_fd, write_fd = os.pipe()
    try:
        done = run_in(process.run(
            [sys.executable, "-c", "import os; print(os.getcwd()); print(os.environ['GREETING']); "
             f"os.write({write_fd}, b'via-fd\\n')"],
            env={"PATH": os.environ["PATH"], "GREETING": "hello"}, cwd=str(tmp_path), pass_fds=(write_fd,)))
        os.close(write_fd)
        write_fd = -1
        assert done.stdout.decode().splitlines() == [str(tmp_path), "hello"]
        assert os.read(read_fd, 100) == b"via-fd\n"
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)


def test_spawn_and_wait_for_a_background_child(run_in: Callable[[Awaitable[Any]], Any]) -> None:
    async def go() -> tuple[int, int]:
        proc = process.spawn(["sh", "-c", "sleep 0.2; exit 7"], start_new_session=True)
        return await process.wait(proc), os.getsid(0)

    code, _sid = run_in(go())
    assert code == 7


def test_a_missing_binary_raises(run_in: Callable[[Awaitable[Any]], Any]) -> None:
    with pytest.raises(FileNotFoundError):
        run_in(process.run(["/nonexistent/binary"]))


def test_the_loop_keeps_running_while_children_run(run_in: Callable[[Awaitable[Any]], Any]) -> None:
    async def go() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        await asyncio.gather(*(process.run(["sleep", "0.3"]) for _ in range(3)))
        task.cancel()
        return ticks

    assert run_in(go()) >= 10


def test_cancelling_kills_the_child(run_in: Callable[[Awaitable[Any]], Any], tmp_path: Any) -> None:
    pidfile = tmp_path / "pid"

    async def go() -> None:
        task = asyncio.create_task(process.run(["sh", "-c", f"echo $$ > {pidfile}; exec sleep 30"]))
        await until(lambda: pidfile.exists() and pidfile.read_text().strip())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run_in(go())
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_which_searches_path_then_the_sbin_and_libexec_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert process.which("sh") in ("/usr/bin/sh", "/bin/sh")  # found although PATH lacks it
    assert process.which("surely-no-such-binary-here") is None
