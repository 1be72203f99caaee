"""The fake snapshotter shows layered images as overlayfs does: whiteouts, opaque dirs, owners, modes."""

from __future__ import annotations

import os
from pathlib import Path

from pocketkube.images import FakeSnapshotter, LocalImageService, OverlaySnapshotter
from tests.unit.images.builders import add_image, directory, file, make_tar, symlink


def tree(root: Path) -> dict[str, tuple[int, int, int, bytes | str | None]]:
    """path → (mode, uid, gid, content or link target) of everything under `root`."""
    out: dict[str, tuple[int, int, int, bytes | str | None]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            st = path.lstat()
            content: bytes | str | None = None
            if path.is_symlink():
                content = os.readlink(path)
            elif path.is_file():
                content = path.read_bytes()
            out[str(path.relative_to(root))] = (st.st_mode, st.st_uid, st.st_gid, content)
    return out


async def test_fake_and_overlay_show_the_same_rootfs(service: LocalImageService, images_root: Path) -> None:
    base = make_tar([directory("etc"), file("etc/motd", b"hi"), file("etc/keep", b"k", uid=7, gid=8),
                     directory("var/cache", mode=0o750), file("var/cache/old", b"o"), directory("opt"),
                     file("opt/x", b"x"), symlink("lib", "usr/lib"), directory("ro", mode=0o555),
                     file("ro/f", b"r", mode=0o400)])
    top = make_tar([directory("etc"), file("etc/.wh.motd"), directory("var/cache", mode=0o700),
                    file("var/cache/.wh..wh..opq"), file("var/cache/new", b"n", mode=0o600),
                    file("opt", b"now a file"),
                    directory("lib"), file("lib/a.so", b"so"), directory("ro", mode=0o555), file("ro/g", b"g")])
    image = add_image(service.store, [base, top], ["layered:1"])
    overlay = Path(await OverlaySnapshotter(images_root).prepare("real", image))
    fake = Path(await FakeSnapshotter(images_root).prepare("fake", image))
    assert sorted(tree(fake)) == sorted(tree(overlay))
    assert tree(fake) == tree(overlay)
    assert oct(fake.stat().st_mode) == oct(overlay.stat().st_mode)
    assert (fake / "var/cache/new").read_bytes() == b"n" and not (fake / "etc/motd").exists()
    await OverlaySnapshotter(images_root).remove("real")
    await FakeSnapshotter(images_root).remove("fake")
