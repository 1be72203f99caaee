"""The image seam's conformance suite on the fakes, and on the real store under the fake snapshotter."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from pocketkube.images import (
    FakeImageService,
    FakeSnapshotter,
    Image,
    ImageConfig,
    ImageError,
    LocalImageService,
    UnsafeLayerError,
)
from pocketkube.images.testing import CHECKS, Check, Harness, import_with_archive


def fake_harness(tmp_path: Path) -> Harness:
    root, scratch = tmp_path / "images", tmp_path / "scratch"
    scratch.mkdir()
    service = FakeImageService(root)

    async def add(ref: str, files: Mapping[str, bytes], config: ImageConfig) -> Image:
        return service.add(ref, config=config, files=files)

    return Harness(service, FakeSnapshotter(root), add, lambda: (FakeImageService(root), FakeSnapshotter(root)),
                   scratch)


def local_store_harness(tmp_path: Path) -> Harness:
    """The real store (no root needed without whiteouts) under the fake snapshotter: the layouts agree."""
    root, scratch = tmp_path / "images", tmp_path / "scratch"
    scratch.mkdir()
    service = LocalImageService(root)
    return Harness(service, FakeSnapshotter(root), import_with_archive(service, scratch),
                   lambda: (LocalImageService(root), FakeSnapshotter(root)), scratch)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_fakes_pass(check: Check, tmp_path: Path) -> None:
    await check(fake_harness(tmp_path))


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_fake_snapshotter_over_the_local_store_passes(check: Check, tmp_path: Path) -> None:
    await check(local_store_harness(tmp_path))


def test_add_is_deterministic_and_defaults_to_a_minimal_root(tmp_path: Path) -> None:
    one = FakeImageService(tmp_path / "one").add("busybox")
    two = FakeImageService(tmp_path / "two").add("busybox")
    assert one == two
    assert one.refs == ("docker.io/library/busybox:latest",) and len(one.diff_ids) == 1
    layer = tmp_path / "one" / "layers" / "sha256" / one.diff_ids[0].removeprefix("sha256:")
    assert (layer / "etc/passwd").read_text().startswith("root:x:0:0:")
    assert (layer / "tmp").is_dir()
    assert FakeImageService(tmp_path / "one").add("busybox", files={"etc/passwd": b"other\n"}).id != one.id


async def test_add_refuses_files_it_cannot_lay_out(tmp_path: Path) -> None:
    images = FakeImageService(tmp_path)
    with pytest.raises(UnsafeLayerError):
        images.add("app", files={"../escape": b""})
    with pytest.raises(ImageError):
        images.add("app", files={"/": b""})
    with pytest.raises(ImageError, match="cannot lay out"):
        images.add("app", files={"a": b"", "a/b": b""})
    assert list((tmp_path / "tmp").iterdir()) == [] and await images.list() == []
    absolute = images.add("app", files={"/etc/motd": b"hi"})
    assert absolute.diff_ids == images.add("app", files={"etc/motd": b"hi"}).diff_ids


async def test_prepared_rootfs_follows_the_layers_files_and_modes(tmp_path: Path) -> None:
    images, snapshots = FakeImageService(tmp_path), FakeSnapshotter(tmp_path)
    image = images.add("app", files={"bin/tool": b"#!/bin/sh\n", "etc/": b""})
    rootfs = Path(await snapshots.prepare("c1", image))
    assert (rootfs / "bin/tool").read_bytes() == b"#!/bin/sh\n"
    assert oct((rootfs / "bin/tool").stat().st_mode & 0o777) == oct(0o644)
    assert oct(rootfs.stat().st_mode & 0o777) == oct(0o755)
    await snapshots.remove("c1")
    assert list((tmp_path / "snapshots").iterdir()) == []


async def test_cleanup_sweeps_interrupted_work(tmp_path: Path) -> None:
    snapshots = FakeSnapshotter(tmp_path)
    (tmp_path / "snapshots" / ".new-c1-1234abcd" / "rootfs").mkdir(parents=True)
    assert await snapshots.list() == []
    await snapshots.cleanup()
    assert list((tmp_path / "snapshots").iterdir()) == []
