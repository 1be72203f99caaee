"""Overlay snapshots of real images: isolation, whiteouts, re-adoption, cleanup."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from pocketkube.images import Image, LocalImageService, OverlaySnapshotter, SnapshotError
from pocketkube.images.overlay import mount_overlay, unmount_all
from tests.integration.images.conftest import mounts_under
from tests.support import requires
from tests.unit.images.builders import add_image, directory, file, make_tar


async def test_two_snapshots_are_isolated_and_the_image_is_untouched(
        images_root: Path, service: LocalImageService, snapshotter: OverlaySnapshotter, busybox: Image) -> None:
    one = await snapshotter.prepare("one", busybox)
    two = await snapshotter.prepare("two", busybox)
    assert one != two
    Path(one, "tmp/hello").write_text("from one")
    Path(one, "etc/passwd").write_text("changed\n")
    assert not Path(two, "tmp/hello").exists()
    assert Path(two, "etc/passwd").read_text().startswith("root:x:0:0:")
    layer = service.store.layer_path(busybox.diff_ids[0])
    assert not (layer / "tmp/hello").exists()
    assert (layer / "etc/passwd").read_text().startswith("root:x:0:0:")
    # the rootfs is a working busybox system
    script = "cat /tmp/hello; echo; echo $PATH; ls /bin | wc -l"
    proc = await asyncio.create_subprocess_exec(requires.binary("chroot"), one, "/bin/sh", "-c", script,
                                                stdout=asyncio.subprocess.PIPE, env={"PATH": "/bin"})
    stdout, _ = await proc.communicate()
    assert proc.returncode == 0
    out = stdout.decode().split()
    assert out[:2] == ["from", "one"] and int(out[3]) > 100
    assert await snapshotter.list() == ["one", "two"]


async def test_whiteout_in_an_upper_layer_hides_the_lower_file(
        service: LocalImageService, snapshotter: OverlaySnapshotter, busybox: Image) -> None:
    base = make_tar([directory("etc"), file("etc/motd", b"hi"), file("etc/keep", b"k"), directory("var/cache"),
                     file("var/cache/old", b"o")])
    top = make_tar([directory("etc"), file("etc/.wh.motd"), directory("var/cache"), file("var/cache/.wh..wh..opq"),
                    file("var/cache/new", b"n")])
    image = add_image(service.store, [base, top], ["layered:1"])
    rootfs = Path(await snapshotter.prepare("layered", image))
    assert sorted(os.listdir(rootfs / "etc")) == ["keep"]
    assert os.listdir(rootfs / "var/cache") == ["new"]
    assert (service.store.layer_path(image.diff_ids[0]) / "etc/motd").read_bytes() == b"hi"


async def test_prepare_again_readopts_and_keeps_writes(
        snapshotter: OverlaySnapshotter, busybox: Image, images_root: Path) -> None:
    rootfs = await snapshotter.prepare("c1", busybox)
    Path(rootfs, "root/note").write_text("kept")
    assert await snapshotter.prepare("c1", busybox) == rootfs
    assert len(mounts_under(images_root)) == 1  # not mounted twice
    unmount_all(rootfs)  # as after a reboot: the mount is gone, the upper dir is not
    again = OverlaySnapshotter(images_root)  # a restarted agent
    assert await again.prepare("c1", busybox) == rootfs
    assert Path(rootfs, "root/note").read_text() == "kept"
    other = Image(id="sha256:" + "0" * 64, digest=busybox.digest, refs=(), diff_ids=busybox.diff_ids)
    with pytest.raises(SnapshotError, match="exists for image"):
        await again.prepare("c1", other)


async def test_remove_unmounts_and_deletes(
        snapshotter: OverlaySnapshotter, busybox: Image, images_root: Path) -> None:
    rootfs = await snapshotter.prepare("gone", busybox)
    # a process whose cwd is inside keeps the mount busy: EBUSY is retried, then detached lazily
    busy = await asyncio.create_subprocess_exec(requires.binary("sleep"), "30", cwd=rootfs)
    try:
        await snapshotter.remove("gone")
    finally:
        busy.kill()
        await busy.wait()
    assert mounts_under(images_root) == []
    assert not (images_root / "snapshots" / "gone").exists()
    assert os.listdir(images_root / "snapshots") == []
    assert await snapshotter.list() == []
    await snapshotter.remove("gone")  # idempotent
    with pytest.raises(SnapshotError, match="invalid snapshot key"):
        await snapshotter.prepare("../escape", busybox)


async def test_removed_image_keeps_layers_while_a_snapshot_uses_them(
        service: LocalImageService, snapshotter: OverlaySnapshotter, busybox: Image) -> None:
    rootfs = await snapshotter.prepare("inuse", busybox)
    for ref in busybox.refs:
        await service.remove(ref)
    assert Path(rootfs, "bin/busybox").exists()
    assert service.store.layer_path(busybox.diff_ids[0]).is_dir()
    await snapshotter.remove("inuse")
    service.store.collect_garbage()
    assert not service.store.layer_path(busybox.diff_ids[0]).exists()


def test_many_layers_go_through_proc_fd_paths(tmp_path: Path, images_root: Path) -> None:
    layers = []
    for i in range(12):
        layer = tmp_path / f"layer-with-a-rather-long-directory-name-{i:03d}"
        layer.mkdir()
        (layer / f"f{i}").write_text(str(i))
        layers.append(str(layer))
    for name in ("upper", "work", "rootfs"):
        (tmp_path / name).mkdir()
    # a limit the plain paths overflow forces the /proc/self/fd form, as 60 real layers would
    mount_overlay(layers, str(tmp_path / "upper"), str(tmp_path / "work"), str(tmp_path / "rootfs"), limit=400)
    try:
        assert sorted(os.listdir(tmp_path / "rootfs")) == sorted(f"f{i}" for i in range(12))
    finally:
        unmount_all(str(tmp_path / "rootfs"))
    assert mounts_under(tmp_path) == []
