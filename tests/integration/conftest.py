"""Integration tests: real runc, conmon, CNI plugins and overlayfs, as root.

What a test needs from the host is checked by tests/support/requires.py: locally a missing binary or
missing root skips the test with the reason; in CI (`CI=true`) it is a failure.
"""

from __future__ import annotations

import pytest

from tests.support import requires

# the names these helpers had before they moved to tests/support/requires.py
require_root, require_binary, require_cni_plugin = requires.root, requires.binary, requires.cni_plugin


@pytest.fixture()
def root() -> None:
    requires.root()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
