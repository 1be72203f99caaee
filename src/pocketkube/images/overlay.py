"""The overlay snapshotter: one overlayfs mount per key over an image's unpacked layers.

    snapshots/<key>/snapshot.json   {"key", "image", "diff_ids"}: what to remount; keeps layers from GC
    snapshots/<key>/upper/          this key's writes (survive restarts and reboots: under the data dir)
    snapshots/<key>/work/           overlayfs work dir
    snapshots/<key>/rootfs/         the mount point returned by prepare()

`lowerdir` lists the layer dirs top layer first (the image lists them bottom first). mount(2) takes
its options in one page, so ~40 layers of `/var/lib/pocketkube/images/layers/sha256/<64 hex>` would
not fit: when the options would overflow a page, or a path holds a `,` `:` or `\\` that overlayfs
would misread, each dir is opened O_PATH and passed as `/proc/self/fd/N` (~17 bytes a layer, so
~200 layers fit), which needs neither a process-wide chdir (unsafe with threads) nor helper links.

prepare() on an existing key returns its mount, remounting it if it is gone (after a reboot) with
its upper dir intact. remove() unmounts (EBUSY is retried briefly, then the mount is detached
lazily), renames the dir aside and deletes it, so a crash mid-way leaves no half snapshot listed.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from pocketkube.images.base import Image, SnapshotError
from pocketkube.images.mounts import MNT_DETACH, is_not_mounted, mount, mount_count, umount
from pocketkube.images.store import SNAPSHOT_META, SNAPSHOTS_DIR, ContentStore

KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def snapshot_dir(snapshots: Path, key: str) -> Path:
    """The directory of snapshot `key` under `snapshots`; a key that is no plain name is refused."""
    if not KEY.fullmatch(key):
        raise SnapshotError(f"invalid snapshot key {key!r}: want [A-Za-z0-9][A-Za-z0-9_.-]{{0,127}}")
    return snapshots / key


def existing_snapshot(directory: Path, key: str, image: Image) -> dict[str, Any] | None:
    """The record of snapshot `key` if it exists (prepared for `image`; one prepared for another
    image is refused), else None."""
    meta_path = directory / SNAPSHOT_META
    if not meta_path.exists():
        return None
    meta: dict[str, Any] = json.loads(meta_path.read_bytes())
    if meta.get("image") != image.id:
        raise SnapshotError(f"snapshot {key!r} exists for image {meta.get('image')}, not {image.id}")
    return meta


def list_snapshots(snapshots: Path) -> list[str]:
    return sorted(p.name for p in snapshots.iterdir() if KEY.fullmatch(p.name) and p.is_dir())
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_UNSAFE_IN_OPTIONS = re.compile(r"[,:\\]")
UMOUNT_RETRIES = 20
UMOUNT_RETRY_DELAY = 0.025


def overlay_options(lowers: list[str], upper: str, work: str) -> str:
    """The overlayfs mount data for `lowers` (top first)."""
    return f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work}"


def fits(lowers: list[str], upper: str, work: str, limit: int = PAGE_SIZE) -> bool:
    """Whether the plain-path options can be passed as they are (fit a page, nothing to escape)."""
    paths = [*lowers, upper, work]
    return len(overlay_options(lowers, upper, work)) < limit and not any(_UNSAFE_IN_OPTIONS.search(p) for p in paths)


def mount_overlay(lowers: list[str], upper: str, work: str, target: str, limit: int = PAGE_SIZE) -> None:
    if fits(lowers, upper, work, limit):
        mount("overlay", target, "overlay", 0, overlay_options(lowers, upper, work))
        return
    fds: list[int] = []
    try:
        for path in [*lowers, upper, work]:
            fds.append(os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
        names = [f"/proc/self/fd/{fd}" for fd in fds]
        options = overlay_options(names[:-2], names[-2], names[-1])
        if len(options) >= limit:
            raise SnapshotError(f"too many layers for one overlay mount ({len(lowers)})")
        mount("overlay", target, "overlay", 0, options)
    finally:
        for fd in fds:
            os.close(fd)


def unmount_all(target: str) -> None:
    """Unmount everything stacked on `target`: retry EBUSY briefly, then detach lazily."""
    while mount_count(target):
        for _ in range(UMOUNT_RETRIES):
            try:
                umount(target)
                break
            except OSError as err:
                if is_not_mounted(err):
                    return
                if err.errno != errno.EBUSY:
                    raise
                time.sleep(UMOUNT_RETRY_DELAY)
        else:
            umount(target, MNT_DETACH)


class OverlaySnapshotter:
    def __init__(self, root: Path | str) -> None:
        self.store = ContentStore(root)
        self.snapshots = self.store.root / SNAPSHOTS_DIR
        self._locks: dict[str, asyncio.Lock] = {}

    def _prepare(self, key: str, image: Image) -> str:
        directory = snapshot_dir(self.snapshots, key)
        rootfs = directory / "rootfs"
        with self.store.importing():  # the collector must not take layers between check and mount
            meta = existing_snapshot(directory, key, image)
            if meta is not None:
                if mount_count(str(rootfs)):
                    return str(rootfs)
                diff_ids = list(meta.get("diff_ids", []))
            else:
                diff_ids = list(image.diff_ids)
            lowers = [str(self.store.layer_path(diff_id)) for diff_id in reversed(diff_ids)]
            missing = [path for path in lowers if not os.path.isdir(path)]
            if missing:  # checked before creating: a failed prepare leaves no snapshot behind
                raise SnapshotError(f"image {image.id} has layers missing from the store: {missing}")
            if meta is None:
                self._create(directory, {"key": key, "image": image.id, "diff_ids": diff_ids})
            if not lowers:  # overlayfs needs one lower dir; an image without layers is empty
                (directory / "empty").mkdir(exist_ok=True)
                lowers = [str(directory / "empty")]
            mount_overlay(lowers, str(directory / "upper"), str(directory / "work"), str(rootfs))
        return str(rootfs)

    def _create(self, directory: Path, meta: dict[str, object]) -> None:
        staging = self.snapshots / f".new-{directory.name}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(mode=0o711)
        for sub in ("upper", "work", "rootfs"):
            (staging / sub).mkdir(mode=0o755)
        (staging / SNAPSHOT_META).write_text(json.dumps(meta))
        os.rename(staging, directory)

    def _remove(self, key: str) -> None:
        directory = snapshot_dir(self.snapshots, key)
        if not directory.exists():
            return
        unmount_all(str(directory / "rootfs"))
        doomed = self.snapshots / f".rm-{key}-{uuid.uuid4().hex[:8]}"
        os.rename(directory, doomed)
        shutil.rmtree(doomed)

    def _list(self) -> builtins.list[str]:
        return list_snapshots(self.snapshots)

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def prepare(self, key: str, image: Image) -> str:
        async with self._lock(key):
            return await asyncio.to_thread(self._prepare, key, image)

    async def remove(self, key: str) -> None:
        async with self._lock(key):
            await asyncio.to_thread(self._remove, key)

    async def list(self) -> builtins.list[str]:
        return await asyncio.to_thread(self._list)

    async def cleanup(self) -> None:
        """Delete what an interrupted create or remove left behind (call on start)."""
        def sweep() -> None:
            for path in self.snapshots.glob(".*"):
                with contextlib.suppress(OSError):
                    unmount_all(str(path / "rootfs"))
                    shutil.rmtree(path)
        await asyncio.to_thread(sweep)
