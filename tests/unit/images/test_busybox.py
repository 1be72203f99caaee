"""The busybox image is deterministic, and what it is made of."""

from __future__ import annotations

import gzip
import io
import sys
import tarfile

import pytest

from pocketkube.images.base import ImageError
from pocketkube.images.busybox import (
    DEFAULT_PATH,
    busybox_blobs,
    busybox_layer,
    gzip_deterministic,
    host_busybox,
    is_static_elf,
    version_tag,
)
from tests.support import requires
from tests.unit.images.builders import sha

FAKE = b"\x7fELF fake busybox"
APPLETS = ["sh", "ls", "busybox", "cat", "["]


def test_layer_and_blobs_are_deterministic() -> None:
    assert busybox_layer(FAKE, APPLETS) == busybox_layer(FAKE, list(reversed(APPLETS)))
    first = busybox_blobs(FAKE, APPLETS, "BusyBox v1.35.0")
    assert sha(first[0]) == sha(busybox_blobs(FAKE, APPLETS, "BusyBox v1.35.0")[0])
    assert sha(first[0]) != sha(busybox_blobs(FAKE + b"!", APPLETS, "BusyBox v1.35.0")[0])
    assert gzip.decompress(first[2]) == busybox_layer(FAKE, APPLETS)
    assert gzip_deterministic(b"x") == gzip_deterministic(b"x")


def test_layer_contents() -> None:
    with tarfile.open(fileobj=io.BytesIO(busybox_layer(FAKE, APPLETS))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert tar.extractfile("bin/busybox").read() == FAKE  # type: ignore[union-attr]
        passwd = tar.extractfile("etc/passwd").read().decode()  # type: ignore[union-attr]
    assert sorted(members) == sorted(["bin", "etc", "home", "root", "tmp", "var", "bin/busybox", "etc/passwd",
                                      "etc/group", "bin/sh", "bin/ls", "bin/cat", "bin/["])
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "busybox"
    assert members["tmp"].mode == 0o1777 and members["bin/busybox"].mode == 0o755
    assert all(m.uid == 0 and m.gid == 0 and m.mtime == 0 for m in members.values())
    assert passwd.startswith("root:x:0:0:") and "nobody:x:65534:65534:" in passwd


def test_config() -> None:
    import json

    _, config, _ = busybox_blobs(FAKE, APPLETS, "BusyBox v1.35.0")
    doc = json.loads(config)
    assert doc["config"] == {"Env": [DEFAULT_PATH], "Cmd": ["sh"]}
    assert doc["rootfs"]["diff_ids"] == [sha(busybox_layer(FAKE, APPLETS))]


@pytest.mark.parametrize(
    ("banner", "tag"),
    [("BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.", "1.35"),
     ("BusyBox v1.36.1 (2023-07-17 12:00:00 UTC) multi-call binary.", "1.36"),
     ("BusyBox v1.4.2", "1.4")],
)
def test_version_tag(banner: str, tag: str) -> None:
    assert version_tag(banner) == tag


def test_version_tag_refuses_garbage() -> None:
    with pytest.raises(ImageError):
        version_tag("toybox 0.8")


def test_static_detection() -> None:
    with open(sys.executable, "rb") as handle:
        assert not is_static_elf(handle.read(65536))  # python is dynamically linked
    assert not is_static_elf(b"#!/bin/sh\n")


def test_host_busybox_builds_the_same_digest_twice() -> None:
    requires.binary("busybox")
    binary, applets, banner = host_busybox()
    assert is_static_elf(binary[:65536])
    assert "sh" in applets
    first = busybox_blobs(binary, applets, banner)
    assert sha(first[0]) == sha(busybox_blobs(*host_busybox())[0])
