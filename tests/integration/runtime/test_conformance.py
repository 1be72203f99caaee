"""The real runtime (runc + conmon) passes the conformance suite the fake passes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pocketkube.runtime import RuntimeService
from pocketkube.runtime import testing as conformance
from pocketkube.runtime.oci.service import OCIRuntime


@pytest.mark.parametrize("check", conformance.CHECKS, ids=lambda c: c.__name__)
async def test_oci_conformance(check: conformance.Check, make_runtime: Callable[[], OCIRuntime],
                               workloads: conformance.Workloads) -> None:
    await check(make_runtime(), workloads)


async def test_oci_readoption(make_runtime: Callable[[], OCIRuntime], workloads: conformance.Workloads) -> None:
    await conformance.check_readoption(make_runtime(), make_runtime, workloads)


def test_oci_is_a_runtime_service(make_runtime: Callable[[], OCIRuntime]) -> None:
    assert isinstance(make_runtime(), RuntimeService)
