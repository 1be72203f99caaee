"""An image built from the host's static busybox, for offline use, the README's first pod and tests.

One layer: `/bin/busybox`, a symlink per applet (`busybox --list`) in `/bin`, `/etc/passwd` and
`/etc/group` (root, nobody), and the usual empty dirs. Only a statically linked busybox works in an
empty root filesystem (Debian's `busybox-static`); a dynamic one is refused rather than shipped
broken. The default ref is `busybox:<major.minor>` of the host busybox, a real Docker Hub tag, so the
same manifests run unchanged on a real cluster.

Deterministic on purpose: sorted entries, uid/gid 0, fixed mtimes, gzip without name or time, and
canonical JSON, so the same host busybox always gives the same digests and a rebuild is a no-op.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import re
import shutil
import struct
import subprocess
import tarfile
from pathlib import Path

from pocketkube.images.archive import (
    MEDIA_OCI_CONFIG,
    MEDIA_OCI_LAYER_GZIP,
    MEDIA_OCI_MANIFEST,
    host_platform,
)
from pocketkube.images.base import Image, ImageError
from pocketkube.images.service import LocalImageService
from pocketkube.images.store import ContentStore, canonical_json, sha256_bytes

EPOCH = "1970-01-01T00:00:00Z"
FIXED_MTIME = 0
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
GROUP = "root:x:0:\nnobody:x:65534:\n"
DIRS = {"bin": 0o755, "etc": 0o755, "home": 0o755, "root": 0o700, "tmp": 0o1777, "var": 0o755}
_VERSION = re.compile(r"BusyBox v(\d+)\.(\d+)")
_PT_INTERP = 3


def is_static_elf(header: bytes) -> bool:
    """True for an ELF executable without a program interpreter (PT_INTERP), i.e. statically linked."""
    if header[:4] != b"\x7fELF":
        return False
    is64, endian = header[4] == 2, "<" if header[5] == 1 else ">"
    if is64:
        phoff, = struct.unpack_from(endian + "Q", header, 0x20)
        phentsize, phnum = struct.unpack_from(endian + "HH", header, 0x36)
    else:
        phoff, = struct.unpack_from(endian + "I", header, 0x1C)
        phentsize, phnum = struct.unpack_from(endian + "HH", header, 0x2A)
    for i in range(phnum):
        offset = phoff + i * phentsize
        if offset + 4 > len(header):
            raise ImageError("truncated ELF program headers")
        p_type, = struct.unpack_from(endian + "I", header, offset)
        if p_type == _PT_INTERP:
            return False
    return True


def version_tag(banner: str) -> str:
    """`BusyBox v1.35.0 (Debian …) multi-call binary.` → `1.35`."""
    match = _VERSION.search(banner)
    if not match:
        raise ImageError(f"cannot read the busybox version from {banner[:80]!r}")
    return f"{match.group(1)}.{match.group(2)}"


def find_busybox() -> Path:
    found = shutil.which("busybox")
    if not found:
        raise ImageError("busybox not found on PATH (install Debian's busybox-static)")
    path = Path(found).resolve()
    with open(path, "rb") as handle:
        header = handle.read(65536)
    if not is_static_elf(header):
        raise ImageError(f"{path} is not a statically linked busybox (install Debian's busybox-static)")
    return path


def _add(tar: tarfile.TarFile, name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, FIXED_MTIME, link
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)


def busybox_layer(binary: bytes, applets: list[str]) -> bytes:
    """The uncompressed layer tar, byte-for-byte the same for the same binary and applets."""
    entries: list[tuple[str, bytes, int, bytes, str]] = [(d, tarfile.DIRTYPE, m, b"", "") for d, m in DIRS.items()]
    entries += [("bin/busybox", tarfile.REGTYPE, 0o755, binary, ""),
                ("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode(), ""),
                ("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode(), "")]
    for applet in sorted(set(applets) - {"busybox"}):
        if applet and "/" not in applet:
            entries.append((f"bin/{applet}", tarfile.SYMTYPE, 0o777, b"", "busybox"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, mode, data, link in sorted(entries):
            _add(tar, name, kind, mode, data, link)
    return buffer.getvalue()


def gzip_deterministic(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as out:
        out.write(data)
    return buffer.getvalue()


def busybox_blobs(binary: bytes, applets: list[str], banner: str) -> tuple[bytes, bytes, bytes]:
    """(manifest, config, compressed layer) of the busybox image."""
    layer = busybox_layer(binary, applets)
    compressed = gzip_deterministic(layer)
    os_name, arch = host_platform()
    config = canonical_json({
        "architecture": arch, "os": os_name, "created": EPOCH,
        "config": {"Env": [DEFAULT_PATH], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256_bytes(layer)]},
        "history": [{"created": EPOCH, "created_by": f"pocketkube image busybox ({banner.strip()})"}],
    })
    manifest = canonical_json({
        "schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
        "config": {"mediaType": MEDIA_OCI_CONFIG, "digest": sha256_bytes(config), "size": len(config)},
        "layers": [{"mediaType": MEDIA_OCI_LAYER_GZIP, "digest": sha256_bytes(compressed), "size": len(compressed)}],
    })
    return manifest, config, compressed


def host_busybox() -> tuple[bytes, list[str], str]:
    """(binary, applet names, version banner) of the host's static busybox."""
    path = find_busybox()
    banner = subprocess.run([str(path)], capture_output=True, text=True, check=False).stdout.splitlines()
    listing = subprocess.run([str(path), "--list"], capture_output=True, text=True, check=True).stdout
    return path.read_bytes(), listing.split(), banner[0] if banner else ""


def build_busybox(store: ContentStore, ref: str | None = None) -> Image:
    """Build (or find, as the build is deterministic) the busybox image and tag it `ref` (blocking)."""
    binary, applets, banner = host_busybox()
    manifest, config, layer = busybox_blobs(binary, applets, banner)
    with store.importing():
        for blob in (layer, config, manifest):
            store.put_blob(blob, expected=sha256_bytes(blob))
        return store.add_image(sha256_bytes(manifest), [ref or f"busybox:{version_tag(banner)}"])


async def build_busybox_image(images: LocalImageService, ref: str | None = None) -> Image:
    """Build the host busybox image into `images`, tagged `ref` (default `busybox:<major.minor>`)."""
    return await asyncio.to_thread(build_busybox, images.store, ref)
