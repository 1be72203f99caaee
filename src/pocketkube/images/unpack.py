"""Safe layer unpacking: one tar stream (plain or gzip) into one layer directory, in overlay form.

Every member is handled explicitly (never `extractall`): names are cleaned and refused when absolute
or holding `..`; parent directories are resolved inside the layer root one component at a time,
following a symlink only as the container would see it (absolute targets restart at the layer root)
and refusing one that climbs above it; the last component is never followed (an existing entry is
replaced, not written through). Hard links must point inside the root. Device nodes are skipped
except 0/0 character devices, which are overlay whiteouts already.

OCI whiteouts become overlayfs ones: `.wh.NAME` → a 0/0 character device `NAME` (needs CAP_MKNOD),
`.wh..wh..opq` → the directory gets `trusted.overlay.opaque=y`. A directory created over a whiteout
in the same layer (deleted, then re-created) is made opaque so the lower one stays hidden.

The uncompressed stream is hashed while it is read, so the layer's diff_id is checked without a
second pass; the caller unpacks into a private temporary directory and renames it into place only
when the digest matched.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import stat
import tarfile
import zlib
from pathlib import Path
from typing import BinaryIO

from pocketkube.images.base import DigestMismatch, ImageError, UnsafeLayerError

log = logging.getLogger(__name__)

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
XATTR_PAX_PREFIX = "SCHILY.xattr."
MAX_SYMLINK_HOPS = 40
_CHUNK = 1 << 20


class _HashingReader:
    """A read-only file that hashes what passes through it (the tar module only calls read)."""

    def __init__(self, inner: BinaryIO | gzip.GzipFile) -> None:
        self.inner = inner
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.sha.update(data)
        return data

    def drain(self) -> str:
        while self.read(_CHUNK):
            pass
        return "sha256:" + self.sha.hexdigest()


def open_decompressed(raw: BinaryIO) -> BinaryIO | gzip.GzipFile:
    """The uncompressed stream of a layer blob, by its magic bytes (gzip or plain tar)."""
    magic = raw.read(4)
    raw.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if magic == b"\x28\xb5\x2f\xfd":
        raise ImageError("zstd-compressed layers are not supported")
    return raw


def clean_parts(name: str) -> list[str]:
    """The path components of a member name; refuse absolute names and `..`."""
    if name.startswith("/"):
        raise UnsafeLayerError(f"absolute path in layer: {name!r}")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeLayerError(f"path with '..' in layer: {name!r}")
    return parts


def resolve_in_root(root: str, parts: list[str], create: bool) -> str:
    """The real directory `parts` names inside `root`, following symlinks as the container would.

    Missing directories are created (0755) when `create`; a symlink that climbs above the root is
    refused, an absolute one restarts at the root.
    """
    current: list[str] = []
    pending = list(parts)
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not current:
                raise UnsafeLayerError(f"path escapes the layer root through a symlink: {'/'.join(parts)!r}")
            current.pop()
            continue
        path = os.path.join(root, *current, part)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            if not create:
                raise UnsafeLayerError(f"link target missing in layer: {'/'.join(parts)!r}") from None
            os.mkdir(path, 0o755)
            current.append(part)
            continue
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                raise UnsafeLayerError(f"too many symlinks resolving {'/'.join(parts)!r}")
            target = os.readlink(path)
            if target.startswith("/"):
                current = []
            pending = target.split("/") + pending
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeLayerError(f"parent is not a directory: {'/'.join([*current, part])!r}")
        current.append(part)
    return os.path.join(root, *current)


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _remove(path: str) -> os.stat_result | None:
    """Remove whatever is at `path` (never following it); return what was there."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)
    return st


def _make_whiteout(path: str) -> None:
    _remove(path)
    try:
        os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
    except PermissionError as err:
        raise ImageError(f"creating an overlay whiteout needs CAP_MKNOD: {err}") from err


class _Unpacker:
    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.chown = os.geteuid() == 0
        self.dirs: list[tuple[str, tarfile.TarInfo]] = []  # metadata applied last: children change it

    def member(self, tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        parts = clean_parts(info.name)
        if not parts:
            if info.isdir():
                self.dirs.append((self.root, info))
            return
        base = parts[-1]
        parent = resolve_in_root(self.root, parts[:-1], create=True)
        if base == OPAQUE_MARKER:
            os.setxattr(parent, OPAQUE_XATTR, b"y")
            return
        if base.startswith(WHITEOUT_PREFIX):
            hidden = base[len(WHITEOUT_PREFIX) :]
            if hidden.startswith(WHITEOUT_PREFIX):
                return  # aufs bookkeeping (.wh..wh.plnk …), meaningless for overlay
            _make_whiteout(os.path.join(parent, hidden))
            return
        target = os.path.join(parent, base)
        if info.ischr() or info.isblk():
            if info.ischr() and info.devmajor == 0 and info.devminor == 0:
                _make_whiteout(target)
            else:
                log.debug("skipping device node %s in layer", info.name)
            return
        existing = os.lstat(target) if os.path.lexists(target) else None
        if info.isdir():
            if existing is None or not stat.S_ISDIR(existing.st_mode):
                _remove(target)
                os.mkdir(target, 0o700)
                if existing is not None and _is_whiteout(existing):
                    os.setxattr(target, OPAQUE_XATTR, b"y")
            self._owner_and_xattrs(target, info)
            self.dirs.append((target, info))
            return
        if existing is not None:
            _remove(target)
        if info.isreg():
            self._write_file(tar, info, target)
        elif info.issym():
            os.symlink(info.linkname, target)
        elif info.islnk():
            link_parts = clean_parts(info.linkname)
            if not link_parts:
                raise UnsafeLayerError(f"hard link to the layer root: {info.name!r}")
            source = os.path.join(resolve_in_root(self.root, link_parts[:-1], create=False), link_parts[-1])
            if not os.path.lexists(source) or os.path.isdir(source) and not os.path.islink(source):
                raise UnsafeLayerError(f"hard link {info.name!r} to a missing entry or directory {info.linkname!r}")
            os.link(source, target, follow_symlinks=False)
            return  # a hard link shares its source's inode and metadata
        elif info.isfifo():
            os.mkfifo(target, 0o600)
        else:
            log.debug("skipping unsupported tar member type %r: %s", info.type, info.name)
            return
        self._owner_and_xattrs(target, info)
        if not info.issym():
            os.chmod(target, info.mode & 0o7777)
        os.utime(target, (info.mtime, info.mtime), follow_symlinks=False)

    def _write_file(self, tar: tarfile.TarFile, info: tarfile.TarInfo, target: str) -> None:
        source = tar.extractfile(info)
        if source is None:
            raise ImageError(f"unreadable member {info.name!r}")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, _CHUNK)

    def _owner_and_xattrs(self, target: str, info: tarfile.TarInfo) -> None:
        # chown before chmod: chown clears set-id bits.
        if self.chown:
            os.lchown(target, info.uid, info.gid)
        for key, value in info.pax_headers.items():
            if key.startswith(XATTR_PAX_PREFIX):
                try:
                    os.setxattr(target, key[len(XATTR_PAX_PREFIX) :], value.encode("utf-8", "surrogateescape"),
                                follow_symlinks=False)
                except OSError as err:  # e.g. security.* without privilege: the file is still usable
                    log.debug("dropping xattr %s on %s: %s", key, info.name, err)

    def finish(self) -> None:
        for path, info in sorted(self.dirs, key=lambda item: item[0].count("/"), reverse=True):
            os.chmod(path, info.mode & 0o7777)
            os.utime(path, (info.mtime, info.mtime))


def unpack_layer(blob: Path, dest: Path, diff_id: str | None = None) -> str:
    """Unpack the layer blob into the existing empty directory `dest`; return its diff_id.

    Raises DigestMismatch when `diff_id` is given and the uncompressed stream does not match it,
    UnsafeLayerError for an entry that would land outside `dest`.
    """
    unpacker = _Unpacker(dest)
    with open(blob, "rb") as raw:
        reader = _HashingReader(open_decompressed(raw))
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
                for info in tar:
                    unpacker.member(tar, info)
            actual = reader.drain()
        except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as err:
            raise ImageError(f"corrupt layer {blob.name}: {err}") from err
    if diff_id is not None and actual != diff_id:
        raise DigestMismatch(f"layer {blob.name}: uncompressed digest {actual} != diff_id {diff_id}")
    unpacker.finish()
    return actual
