"""The fake runtime passes the same conformance suite as the real one."""

from __future__ import annotations

import pytest

from pocketkube.runtime import ContainerState, RuntimeService
from pocketkube.runtime import testing as conformance
from pocketkube.runtime.fake import FakeHost, FakeRuntime

WORKLOADS = conformance.Workloads(
    rootfs="/fake/rootfs",
    sleep=("sleep", "1000"),
    exit_with=lambda code: ("fake-exit", str(code)),
    trap_term=lambda code: ("fake-trap-term", str(code)),
    ignore_term=("fake-ignore-term",),
    oom=("fake-oom",),
    missing=("fake-missing",),
)


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
async def test_fake_conformance(check: conformance.Check) -> None:
    await check(FakeRuntime(), WORKLOADS)


async def test_fake_readoption() -> None:
    host = FakeHost()
    await conformance.check_readoption(FakeRuntime(host), lambda: FakeRuntime(host), WORKLOADS)


async def test_fake_is_a_runtime_service() -> None:
    assert isinstance(FakeRuntime(), RuntimeService)


async def test_exit_container_control_and_call_log() -> None:
    fake = FakeRuntime()
    sandbox = await fake.run_pod_sandbox(conformance.sandbox_config("web"))
    cid = await fake.create_container(sandbox.id, conformance.container_config(WORKLOADS, "app", ("sh",)))
    await fake.start_container(cid)
    fake.exit_container(cid, 137, oom=True)
    status = await fake.container_status(cid)
    assert (status.state, status.exit_code, status.reason) == (ContainerState.EXITED, 137, "OOMKilled")
    assert [name for name, _ in fake.calls] == ["run_pod_sandbox", "create_container", "start_container"]
