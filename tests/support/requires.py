"""What a test needs from the host (root, a binary, a CNI plugin, a file), decided in one place.

Locally a missing prerequisite skips the test with the reason, so a machine without runc still runs
everything else. In CI (`CI=true`) it is a failure: the CI machine is root and has every tool, so a
skip there means a broken install step, which must never turn the suite green by shrinking it.

Tests call the helpers (`requires.root()`, `requires.binary("runc")`, ...) at their start or in a
fixture. The two report hooks below, which tests/conftest.py installs, back them up: in CI any skip,
however it was raised (a bare `pytest.skip`, a `skipif` mark, an `importorskip`), is reported as a
failure with its reason, so a skip added later without these helpers cannot pass quietly either.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import NoReturn

import pytest

from pocketkube import process
from pocketkube.network.config import DEFAULT_BIN_DIRS

CNI_DIRS = DEFAULT_BIN_DIRS  # where the agent looks for CNI plugins by default


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def unavailable(reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it in CI."""
    if in_ci():
        pytest.fail(f"test prerequisite missing in CI: {reason}")
    pytest.skip(reason)


def root(why: str = "needs root") -> None:
    if os.geteuid() != 0:
        unavailable(why)


def binary(name: str) -> str:
    """The path of a host binary, found as the runtime finds it (PATH, then sbin and libexec dirs)."""
    found = process.which(name)
    if not found:
        unavailable(f"{name} not found")
    return found


def cni_plugin(name: str) -> str:
    for directory in CNI_DIRS:
        path = Path(directory) / name
        if path.exists():
            return str(path)
    unavailable(f"CNI plugin {name} not found in {', '.join(CNI_DIRS)}")


def path(where: Path, what: str) -> Path:
    """A file the test reads (a pinned kubectl, say), described by `what`."""
    if not where.exists():
        unavailable(f"needs {what} at {where}")
    return where


# -- the guard: in CI a skip is a failure ------------------------------------------------------------

def _reason(longrepr: object) -> str:
    # a skip's longrepr is (path, line, "Skipped: reason")
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and in_ci():
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {_reason(report.longrepr)}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[
        None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if report.skipped and in_ci():
        report.outcome = "failed"
        report.longrepr = f"module skipped in CI, where every test must run: {_reason(report.longrepr)}"
    return report
