"""Integration tests: real runc, conmon, CNI plugins and overlayfs, as root.

Locally a missing binary or missing root skips the test with the reason; in CI (`CI=true`) it is
a failure, so a broken install step can never turn the suite green by skipping it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CNI_DIRS = ("/usr/lib/cni", "/opt/cni/bin", "/usr/libexec/cni")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"integration prerequisite missing in CI: {reason}")
    pytest.skip(reason)


def require_root() -> None:
    if os.geteuid() != 0:
        _unavailable("needs root")


def require_binary(name: str) -> str:
    """The path of a host binary (searched on PATH and sbin dirs), or skip/fail."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
    found = shutil.which(name, path=search)
    if not found:
        _unavailable(f"{name} not found")
    return str(found)


def require_cni_plugin(name: str) -> str:
    for directory in CNI_DIRS:
        path = Path(directory) / name
        if path.exists():
            return str(path)
    _unavailable(f"CNI plugin {name} not found in {', '.join(CNI_DIRS)}")
    return ""


@pytest.fixture()
def root() -> None:
    require_root()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
