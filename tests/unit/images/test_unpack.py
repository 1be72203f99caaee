"""Safe unpacking of synthetic layers: what lands where, and what is refused."""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path

import pytest

from pocketkube.images.base import DigestMismatch, ImageError, UnsafeLayerError
from pocketkube.images.unpack import OPAQUE_XATTR, clean_parts, unpack_layer
from tests.support import requires
from tests.unit.images.builders import Entry, directory, file, gz, hardlink, make_tar, sha, symlink


def unpack(tmp_path: Path, entries: list[Entry], compress: bool = False) -> Path:
    tar = make_tar(entries)
    blob = tmp_path / "layer.blob"
    blob.write_bytes(gz(tar) if compress else tar)
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    assert unpack_layer(blob, root, sha(tar)) == sha(tar)
    return root


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_files_dirs_links_keep_modes_and_mtimes(tmp_path: Path, compress: bool) -> None:
    root = unpack(tmp_path, [
        directory("usr", mode=0o750, mtime=1000),
        directory("usr/bin", mtime=2000),
        file("usr/bin/tool", b"#!/bin/sh\n", mode=0o4755, mtime=3000),
        symlink("usr/bin/alias", "tool"),
        hardlink("usr/bin/same", "usr/bin/tool"),
        file("./etc/conf", b"x=1"),  # parents created on demand, "./" dropped
    ], compress)
    tool = root / "usr/bin/tool"
    assert tool.read_bytes() == b"#!/bin/sh\n"
    assert stat.S_IMODE(tool.stat().st_mode) == 0o4755
    assert tool.stat().st_mtime == 3000
    assert os.readlink(root / "usr/bin/alias") == "tool"
    assert (root / "usr/bin/same").stat().st_ino == tool.stat().st_ino
    assert stat.S_IMODE((root / "usr").stat().st_mode) == 0o750
    assert (root / "usr").stat().st_mtime == 1000  # set after its children were written
    assert (root / "usr/bin").stat().st_mtime == 2000
    assert (root / "etc/conf").read_bytes() == b"x=1"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([file("/etc/passwd", b"x")], "absolute"),
        ([file("../evil", b"x")], "'..'"),
        ([file("a/../../evil", b"x")], "'..'"),
        ([symlink("up", ".."), file("up/evil", b"x")], "escapes"),
        ([directory("d"), symlink("d/up", "../.."), file("d/up/evil", b"x")], "escapes"),
        ([hardlink("h", "../outside")], "'..'"),
        ([hardlink("h", "/etc/passwd")], "absolute"),
        ([file("f", b"x"), file("f/g", b"y")], "not a directory"),
    ],
)
def test_refuses_escapes(tmp_path: Path, entries: list[Entry], message: str) -> None:
    (tmp_path / "outside").write_text("keep")
    with pytest.raises(UnsafeLayerError, match=message):
        unpack(tmp_path, entries)
    assert not (tmp_path / "evil").exists()
    assert (tmp_path / "outside").read_text() == "keep"


def test_absolute_symlink_parent_resolves_inside_root(tmp_path: Path) -> None:
    outside = tmp_path / "etc"
    outside.mkdir()
    root = unpack(tmp_path, [directory("etc"), symlink("link", str(outside)), file("link/x", b"in")])
    # the target is read as the container would: from the layer root, not the host's
    assert not (outside / "x").exists()
    assert (root / str(outside).lstrip("/") / "x").read_bytes() == b"in"


def test_relative_symlink_parent_inside_root(tmp_path: Path) -> None:
    root = unpack(tmp_path, [directory("usr/lib"), symlink("lib", "usr/lib"), file("lib/libc.so", b"c")])
    assert (root / "usr/lib/libc.so").read_bytes() == b"c"
    assert os.path.islink(root / "lib")


def test_final_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    root = unpack(tmp_path, [symlink("a", str(victim)), file("a", b"new")])
    assert victim.read_text() == "keep"
    assert not os.path.islink(root / "a")
    assert (root / "a").read_bytes() == b"new"


def test_device_nodes_skipped(tmp_path: Path) -> None:
    root = unpack(tmp_path, [Entry("dev/sda", tarfile.BLKTYPE, devmajor=8), Entry("dev/mem", tarfile.CHRTYPE,
                                                                                   devmajor=1, devminor=1),
                             file("ok", b"")])
    assert not (root / "dev/sda").exists() and not (root / "dev/mem").exists()
    assert (root / "ok").exists()


def test_diff_id_is_verified(tmp_path: Path) -> None:
    blob = tmp_path / "layer"
    blob.write_bytes(make_tar([file("a", b"1")]))
    (tmp_path / "root").mkdir()
    with pytest.raises(DigestMismatch):
        unpack_layer(blob, tmp_path / "root", "sha256:" + "0" * 64)


def test_corrupt_layer(tmp_path: Path) -> None:
    blob = tmp_path / "layer"
    blob.write_bytes(gz(make_tar([file("a", os.urandom(5000))]))[:3000])
    (tmp_path / "root").mkdir()
    with pytest.raises(ImageError):
        unpack_layer(blob, tmp_path / "root")


def _is_whiteout(path: Path) -> bool:
    st = os.lstat(path)
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def test_whiteouts_become_overlay_whiteouts(tmp_path: Path) -> None:
    requires.root("whiteouts are 0/0 char devices: mknod needs root")
    root = unpack(tmp_path, [
        directory("etc"),
        file("etc/.wh.passwd"),
        directory("var/cache"),
        file("var/cache/.wh..wh..opq"),
        file("var/cache/new", b"n"),
        file(".wh.gone"),
        file("keep/.wh..wh.plnk"),  # aufs bookkeeping: ignored
        Entry("native", tarfile.CHRTYPE),  # already an overlay whiteout (0/0)
        file(".wh.redo"), directory("redo"), file("redo/x", b"x"),  # deleted then re-created in one layer
    ])
    assert _is_whiteout(root / "etc/passwd")
    assert _is_whiteout(root / "gone")
    assert _is_whiteout(root / "native")
    assert os.getxattr(root / "var/cache", OPAQUE_XATTR) == b"y"
    assert (root / "var/cache/new").read_bytes() == b"n"
    assert os.listdir(root / "keep") == []
    assert os.getxattr(root / "redo", OPAQUE_XATTR) == b"y"
    with pytest.raises(OSError):
        os.getxattr(root / "etc", OPAQUE_XATTR)


def test_ownership_preserved(tmp_path: Path) -> None:
    requires.root("chown needs root")
    root = unpack(tmp_path, [file("owned", b"x", uid=1000, gid=2000), symlink("l", "owned")])
    assert (os.lstat(root / "owned").st_uid, os.lstat(root / "owned").st_gid) == (1000, 2000)


@pytest.mark.parametrize(("name", "parts"), [("a/b", ["a", "b"]), ("./a//b/", ["a", "b"]), ("./", []), (".", [])])
def test_clean_parts(name: str, parts: list[str]) -> None:
    assert clean_parts(name) == parts
