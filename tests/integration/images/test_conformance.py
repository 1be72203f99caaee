"""The image seam's conformance suite on the real store and overlayfs (root), leaving no mount behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketkube.images import LocalImageService, OverlaySnapshotter
from pocketkube.images.testing import CHECKS, Check, Harness, import_with_archive
from tests.integration.images.conftest import mounts_under


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_local_store_and_overlay_pass(check: Check, images_root: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    service, snapshots = LocalImageService(images_root), OverlaySnapshotter(images_root)
    harness = Harness(service, snapshots, import_with_archive(service, scratch),
                      lambda: (LocalImageService(images_root), OverlaySnapshotter(images_root)), scratch)
    await check(harness)
    # every check removes what it prepared: nothing stays mounted (the fixture unmounts on failure)
    assert mounts_under(images_root) == []
    assert await snapshots.list() == []
