"""Fixtures: a private image root per test whose mounts are always taken down, even on failure."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketkube.images import Image, LocalImageService, OverlaySnapshotter, build_busybox_image
from pocketkube.images.mounts import MNT_DETACH, parse_mountinfo, umount
from tests.support import requires


def mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve())
    with open("/proc/self/mountinfo") as handle:
        return [p for p in parse_mountinfo(handle.read()) if p == prefix or p.startswith(prefix + "/")]


@pytest.fixture()
def images_root(tmp_path: Path) -> Iterator[Path]:
    requires.root()
    root = tmp_path / "images"
    try:
        yield root
    finally:
        for point in reversed(mounts_under(tmp_path)):
            umount(point, MNT_DETACH)
        shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture()
def service(images_root: Path) -> LocalImageService:
    return LocalImageService(images_root)


@pytest.fixture()
def snapshotter(images_root: Path) -> OverlaySnapshotter:
    return OverlaySnapshotter(images_root)


@pytest.fixture()
async def busybox(service: LocalImageService) -> Image:
    requires.binary("busybox")
    return await build_busybox_image(service)
