"""Conformance suite for RuntimeService implementations: every `check_*` passes for the fake and
for the real OCI runtime (tests/unit/runtime runs it on the fake, tests/integration/runtime on
runc + conmon).

A check takes the runtime and a `Workloads`: the argv for each behaviour the suite needs, in the
implementation's own terms (busybox shell for the real runtime, `fake-*` programs for the fake).
Checks clean up after themselves (remove_pod_sandbox in `finally`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from pocketkube.runtime.base import (
    REASON_COMPLETED,
    REASON_ERROR,
    REASON_OOM_KILLED,
    REASON_START_ERROR,
    START_ERROR_EXIT_CODE,
    ContainerConfig,
    ContainerNotFoundError,
    ContainerStartError,
    ContainerState,
    ContainerStatus,
    InvalidStateError,
    Resources,
    RuntimeService,
    SandboxConfig,
    SandboxNotFoundError,
    SandboxState,
)


@dataclass(frozen=True)
class Workloads:
    rootfs: str
    sleep: tuple[str, ...]  # runs until killed
    exit_with: Callable[[int], tuple[str, ...]]
    trap_term: Callable[[int], tuple[str, ...]]  # exits with the code on SIGTERM
    ignore_term: tuple[str, ...]
    oom: tuple[str, ...]  # exceeds a 32 MiB memory limit
    missing: tuple[str, ...]  # an executable that is not in the rootfs
    env: tuple[str, ...] = ("PATH=/bin:/usr/bin",)
    log_dir: str = ""
    wait_s: float = 10.0  # how long a check waits for an exit to be observed
    extra: dict[str, str] = field(default_factory=dict)


def sandbox_config(name: str = "") -> SandboxConfig:
    name = name or f"conf-{uuid.uuid4().hex[:8]}"
    return SandboxConfig(name=name, namespace="default", uid=str(uuid.uuid4()),
                         hosts="127.0.0.1\tlocalhost\n", resolv_conf="nameserver 127.0.0.1\n")


def container_config(w: Workloads, name: str, args: Sequence[str], **kwargs: object) -> ContainerConfig:
    log_path = f"{w.log_dir}/{name}-{uuid.uuid4().hex[:6]}.log" if w.log_dir else ""
    fields: dict[str, object] = {"env": w.env, "log_path": log_path, **kwargs}
    return ContainerConfig(name=name, rootfs=w.rootfs, args=tuple(args), **fields)  # type: ignore[arg-type]


async def wait_exited(rt: RuntimeService, container_id: str, timeout: float) -> ContainerStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = await rt.container_status(container_id)
        if status.state == ContainerState.EXITED or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.02)


async def _run(rt: RuntimeService, sandbox_id: str, w: Workloads, name: str, args: Sequence[str],
               **kwargs: object) -> str:
    container_id = await rt.create_container(sandbox_id, container_config(w, name, args, **kwargs))
    await rt.start_container(container_id)
    return container_id


async def check_sandbox_lifecycle(rt: RuntimeService, w: Workloads) -> None:
    config = sandbox_config()
    sandbox = await rt.run_pod_sandbox(config)
    try:
        assert sandbox.state == SandboxState.READY and sandbox.netns_path
        assert sandbox.config == config
        assert [s.id for s in await rt.list_pod_sandboxes() if s.id == sandbox.id] == [sandbox.id]
        assert (await rt.pod_sandbox_status(sandbox.id)).state == SandboxState.READY
        await rt.stop_pod_sandbox(sandbox.id)
        await rt.stop_pod_sandbox(sandbox.id)  # idempotent
        assert (await rt.pod_sandbox_status(sandbox.id)).state == SandboxState.NOTREADY
        try:
            await rt.create_container(sandbox.id, container_config(w, "late", w.sleep))
            raise AssertionError("create_container in a stopped sandbox must fail")
        except InvalidStateError:
            pass
    finally:
        await rt.remove_pod_sandbox(sandbox.id)
    assert sandbox.id not in {s.id for s in await rt.list_pod_sandboxes()}
    await rt.remove_pod_sandbox(sandbox.id)  # idempotent


async def check_container_lifecycle(rt: RuntimeService, w: Workloads) -> None:
    sandbox = await rt.run_pod_sandbox(sandbox_config())
    try:
        cid = await rt.create_container(sandbox.id, container_config(w, "main", w.sleep, attempt=2,
                                                                     labels={"a": "b"}))
        created = await rt.container_status(cid)
        assert created.state == ContainerState.CREATED and created.name == "main", created
        assert created.attempt == 2 and created.labels == {"a": "b"} and created.exit_code is None
        await rt.start_container(cid)
        running = await rt.container_status(cid)
        assert running.state == ContainerState.RUNNING and running.pid > 0 and running.started_at > 0, running
        try:
            await rt.start_container(cid)
            raise AssertionError("starting a running container must fail")
        except InvalidStateError:
            pass
        assert [c.id for c in await rt.list_containers(sandbox.id)] == [cid]
        await rt.stop_container(cid, 0)
        stopped = await rt.container_status(cid)
        assert stopped.state == ContainerState.EXITED and stopped.exit_code == 137, stopped
        assert stopped.reason == REASON_ERROR and stopped.finished_at >= stopped.started_at
        await rt.stop_container(cid, 0)  # idempotent on an exited container
        await rt.remove_container(cid)
        await rt.remove_container(cid)  # idempotent
        assert cid not in {c.id for c in await rt.list_containers()}
    finally:
        await rt.remove_pod_sandbox(sandbox.id)


async def check_exit_codes(rt: RuntimeService, w: Workloads) -> None:
    sandbox = await rt.run_pod_sandbox(sandbox_config())
    try:
        ok = await _run(rt, sandbox.id, w, "ok", w.exit_with(0))
        bad = await _run(rt, sandbox.id, w, "bad", w.exit_with(3))
        ok_status, bad_status = await wait_exited(rt, ok, w.wait_s), await wait_exited(rt, bad, w.wait_s)
        assert (ok_status.exit_code, ok_status.reason) == (0, REASON_COMPLETED), ok_status
        assert (bad_status.exit_code, bad_status.reason) == (3, REASON_ERROR), bad_status
    finally:
        await rt.remove_pod_sandbox(sandbox.id)


async def check_graceful_stop(rt: RuntimeService, w: Workloads) -> None:
    """SIGTERM that the container handles ends it with its own code, well before the timeout."""
    sandbox = await rt.run_pod_sandbox(sandbox_config())
    try:
        cid = await _run(rt, sandbox.id, w, "trap", w.trap_term(0))
        began = time.monotonic()
        await rt.stop_container(cid, 10.0)
        status = await rt.container_status(cid)
        assert (status.state, status.exit_code, status.reason) == (ContainerState.EXITED, 0, REASON_COMPLETED), status
        assert time.monotonic() - began < 5.0
    finally:
        await rt.remove_pod_sandbox(sandbox.id)


async def check_kill_after_timeout(rt: RuntimeService, w: Workloads) -> None:
    sandbox = await rt.run_pod_sandbox(sandbox_config())
    try:
        cid = await _run(rt, sandbox.id, w, "stubborn", w.ignore_term)
        began = time.monotonic()
        await rt.stop_container(cid, 0.5)
        elapsed = time.monotonic() - began
        status = await rt.container_status(cid)
        assert (status.exit_code, status.reason) == (137, REASON_ERROR), status
        assert 0.5 <= elapsed < 5.0, elapsed
    finally:
        await rt.remove_pod_sandbox(sandbox.id)


async def check_oom_killed(rt: RuntimeService, w: Workloads) -> None:
    sandbox = await rt.run_pod_sandbox(sandbox_config())
    try:
        cid = await _run(rt, sandbox.id, w, "hog", w.oom, resources=Resources(memory_limit_bytes=32 * 1024 * 1024))
        status = await wait_exited(rt, cid, w.wait_s)
        assert (status.state, status.reason) == (ContainerState.EXITED, REASON_OOM_KILLED), status
        assert status.exit_code == 137, status
    finally:
        await rt.remove_pod_sandbox(sandbox.id)


async def check_start_error(rt: RuntimeService, w: Workloads) -> None:
    sandbox = await rt.run_pod_sandbox(sandbox_config())
    try:
        cid = await rt.create_container(sandbox.id, container_config(w, "broken", w.missing))
        try:
            await rt.start_container(cid)
            raise AssertionError("starting a missing executable must fail")
        except ContainerStartError as err:
            assert w.missing[0] in str(err), err
        status = await rt.container_status(cid)
        assert (status.state, status.reason, status.exit_code) == (
            ContainerState.EXITED, REASON_START_ERROR, START_ERROR_EXIT_CODE), status
        assert w.missing[0] in status.message
        ok = await _run(rt, sandbox.id, w, "after", w.exit_with(0))  # the sandbox still works
        assert (await wait_exited(rt, ok, w.wait_s)).exit_code == 0
    finally:
        await rt.remove_pod_sandbox(sandbox.id)


async def check_stop_and_remove_sandbox_with_containers(rt: RuntimeService, w: Workloads) -> None:
    sandbox = await rt.run_pod_sandbox(sandbox_config())
    other = await rt.run_pod_sandbox(sandbox_config())
    try:
        a = await _run(rt, sandbox.id, w, "a", w.sleep)
        b = await _run(rt, sandbox.id, w, "b", w.ignore_term)
        c = await rt.create_container(other.id, container_config(w, "c", w.sleep))
        assert {s.id for s in await rt.list_containers(sandbox.id)} == {a, b}
        assert {s.id for s in await rt.list_containers(other.id)} == {c}
        await rt.stop_pod_sandbox(sandbox.id)
        for cid in (a, b):
            assert (await rt.container_status(cid)).state == ContainerState.EXITED
        await rt.remove_pod_sandbox(sandbox.id)
        for cid in (a, b):
            try:
                await rt.container_status(cid)
                raise AssertionError("containers of a removed sandbox must be gone")
            except ContainerNotFoundError:
                pass
        assert (await rt.container_status(c)).state == ContainerState.CREATED
    finally:
        await rt.remove_pod_sandbox(sandbox.id)
        await rt.remove_pod_sandbox(other.id)


async def check_unknown_ids(rt: RuntimeService, w: Workloads) -> None:
    calls: list[tuple[Callable[[], Awaitable[object]], type[Exception]]] = [
        (lambda: rt.container_status("nope"), ContainerNotFoundError),
        (lambda: rt.start_container("nope"), ContainerNotFoundError),
        (lambda: rt.stop_container("nope", 1), ContainerNotFoundError),
        (lambda: rt.pod_sandbox_status("nope"), SandboxNotFoundError),
        (lambda: rt.stop_pod_sandbox("nope"), SandboxNotFoundError),
        (lambda: rt.create_container("nope", container_config(w, "x", w.sleep)), SandboxNotFoundError),
    ]
    for call, error in calls:
        try:
            await call()
            raise AssertionError(f"expected {error.__name__}")
        except error:
            pass
    await rt.remove_container("nope")
    await rt.remove_pod_sandbox("nope")


async def check_readoption(rt: RuntimeService, reopen: Callable[[], RuntimeService], w: Workloads) -> None:
    """A new instance over the same host state sees the same sandboxes and containers."""
    sandbox = await rt.run_pod_sandbox(sandbox_config())
    try:
        running = await _run(rt, sandbox.id, w, "running", w.sleep)
        done = await _run(rt, sandbox.id, w, "done", w.exit_with(4))
        await wait_exited(rt, done, w.wait_s)
        pid = (await rt.container_status(running)).pid
        fresh = reopen()
        assert sandbox.id in {s.id for s in await fresh.list_pod_sandboxes()}
        statuses = {s.id: s for s in await fresh.list_containers(sandbox.id)}
        assert statuses[running].state == ContainerState.RUNNING and statuses[running].pid == pid, statuses
        assert (statuses[done].state, statuses[done].exit_code) == (ContainerState.EXITED, 4), statuses
        await fresh.stop_container(running, 0)
        assert (await fresh.container_status(running)).exit_code == 137
        await fresh.remove_pod_sandbox(sandbox.id)
        assert sandbox.id not in {s.id for s in await fresh.list_pod_sandboxes()}
    finally:
        await rt.remove_pod_sandbox(sandbox.id)


Check = Callable[[RuntimeService, Workloads], Awaitable[None]]

CHECKS: tuple[Check, ...] = (
    check_sandbox_lifecycle, check_container_lifecycle, check_exit_codes, check_graceful_stop,
    check_kill_after_timeout, check_oom_killed, check_start_error,
    check_stop_and_remove_sandbox_with_containers, check_unknown_ids,
)
