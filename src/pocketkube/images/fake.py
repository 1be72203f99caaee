"""Fakes of the image seam for tests without root: `FakeImageService` and `FakeSnapshotter`.

Both take the same root (a temporary directory) and keep real files there; nothing is mounted, so
code that reads `<rootfs>/etc/passwd` works unprivileged. The layout is the real store's where the
two overlap, so a `FakeSnapshotter` also works over a `LocalImageService`'s root:

    layers/sha256/<hex>/     one directory per layer, named by its diff_id
    fake-images.json         the fake service's index: {manifest digest: image record}
    snapshots/<key>/         snapshot.json ({"key", "image", "diff_ids"}) and rootfs/
    tmp/                     layers are built here, then renamed into place

Usage (what the node agent's component tests need):

    images = FakeImageService(tmp_path / "images")
    snapshots = FakeSnapshotter(tmp_path / "images")   # the same root: it reads the layers there
    image = images.add("busybox", config=ImageConfig(cmd=("sh",)),
                       files={"etc/passwd": b"root:x:0:0::/:/bin/sh\n", "tmp/": b""})

`add(ref, config=..., files=...)` (plain, not async, so fixtures can call it) stores one layer
holding `files` (path → content; a path ending in "/" is an empty directory; parents are made);
ids and digests are sha256 of the content, so the same files and config give the same image and
a second ref only tags it, while a ref already on another image moves, as in the real store.
`import_archive` reads real docker-archive and OCI archives with the real parser into a scratch
store and takes over its unpacked layers, so ids match the real store's for the same archive.
Lookups, ordering and removal follow `LocalImageService`; `testing.CHECKS` pins that.

`FakeSnapshotter.prepare` copies the image's layers, bottom first, into the key's rootfs, honouring
overlay whiteouts and opaque directories as a mount would; the copy keeps writes private to the
key, and a prepared key is returned as it is. All work is done inline: test images are small.
Do not share a root between a `FakeImageService` and a `LocalImageService`: each collects layers
that its own index does not name.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pocketkube.images.archive import import_archive
from pocketkube.images.base import (
    Image,
    ImageConfig,
    ImageError,
    ImageNotFound,
    SnapshotError,
)
from pocketkube.images.busybox import GROUP, PASSWD
from pocketkube.images.overlay import existing_snapshot, list_snapshots, snapshot_dir
from pocketkube.images.reference import normalize
from pocketkube.images.store import (
    SNAPSHOT_META,
    SNAPSHOTS_DIR,
    ContentStore,
    canonical_json,
    lookup,
    sha256_bytes,
    snapshot_layers,
)
from pocketkube.images.unpack import OPAQUE_XATTR, clean_parts

INDEX = "fake-images.json"
DEFAULT_FILES: Mapping[str, bytes] = MappingProxyType(
    {"etc/passwd": PASSWD.encode(), "etc/group": GROUP.encode(), "tmp/": b""})
DEFAULT_CONFIG = ImageConfig()


def layer_path(root: Path, diff_id: str) -> Path:
    return root / "layers" / "sha256" / diff_id.removeprefix("sha256:")


def image_files(files: Mapping[str, bytes]) -> dict[str, bytes | None]:
    """`files` as clean relative paths → content, None for a directory (a path ending in "/")."""
    entries: dict[str, bytes | None] = {}
    for name, data in files.items():
        parts = clean_parts(name.lstrip("/"))  # refuses ".."
        if not parts:
            raise ImageError(f"image file {name!r} names the root")
        entries["/".join(parts)] = None if name.endswith("/") else bytes(data)
    return entries


def _rmtree(path: Path) -> None:
    # Unprivileged, a directory without write permission (0555 in an image) cannot be emptied.
    if os.geteuid() != 0:
        for directory, _, _ in os.walk(path):
            os.chmod(directory, 0o700)
    shutil.rmtree(path)


def _image_to_json(image: Image) -> dict[str, Any]:
    return {"id": image.id, "refs": list(image.refs), "diff_ids": list(image.diff_ids), "size": image.size,
            "config": dataclasses.asdict(image.config)}


def _image_from_json(digest: str, doc: dict[str, Any]) -> Image:
    c = doc["config"]
    config = ImageConfig(entrypoint=tuple(c["entrypoint"]), cmd=tuple(c["cmd"]), env=tuple(c["env"]),
                         working_dir=c["working_dir"], user=c["user"], exposed_ports=tuple(c["exposed_ports"]))
    return Image(id=doc["id"], digest=digest, refs=tuple(doc["refs"]), diff_ids=tuple(doc["diff_ids"]),
                 config=config, size=doc["size"])


class FakeImageService:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        for directory in (self.root / "layers" / "sha256", self.tmp, self.root / SNAPSHOTS_DIR):
            directory.mkdir(parents=True, exist_ok=True)

    # the index -----------------------------------------------------------------------------------
    def _load(self) -> dict[str, Image]:
        try:
            doc = json.loads((self.root / INDEX).read_bytes())
        except FileNotFoundError:
            return {}
        return {digest: _image_from_json(digest, record) for digest, record in doc.items()}

    def _save(self, index: dict[str, Image]) -> None:
        staging = self.root / f".{INDEX}.{uuid.uuid4().hex[:8]}"
        staging.write_text(json.dumps({digest: _image_to_json(image) for digest, image in index.items()}))
        os.rename(staging, self.root / INDEX)

    def _tag(self, image: Image, refs: Iterable[str]) -> Image:
        """Record `image` with `refs` added; a ref that named another image moves here."""
        names = {normalize(ref) for ref in refs}
        index = self._load()
        for digest, other in index.items():
            if digest != image.digest and names.intersection(other.refs):
                index[digest] = dataclasses.replace(other, refs=tuple(r for r in other.refs if r not in names))
        current = index.get(image.digest, image)
        index[image.digest] = dataclasses.replace(image, refs=tuple(sorted(names.union(current.refs))))
        self._save(index)
        return index[image.digest]

    def _find(self, index: dict[str, Image], ref: str) -> tuple[Image | None, str]:
        """As the real store (the same `lookup`): a `name@digest` by digest, else a tag, else an id (prefix)."""
        digest, how = lookup(ref, {d: image.refs for d, image in index.items()}, lambda d: index[d].id)
        return (index[digest], how) if digest is not None else (None, "")

    def _collect_garbage(self) -> None:
        """Delete layers that no image and no snapshot names (the real collector's rule)."""
        keep = {diff_id for image in self._load().values() for diff_id in image.diff_ids}
        keep |= snapshot_layers(self.root)
        keep_hex = {diff_id.removeprefix("sha256:") for diff_id in keep}
        for path in (self.root / "layers" / "sha256").iterdir():
            if path.name not in keep_hex:
                _rmtree(path)

    # adding images -------------------------------------------------------------------------------
    def _write_layer(self, diff_id: str, entries: dict[str, bytes | None]) -> None:
        final = layer_path(self.root, diff_id)
        if final.is_dir():
            return
        work = Path(tempfile.mkdtemp(dir=self.tmp, prefix="layer-"))
        try:
            work.chmod(0o755)
            for name, data in sorted(entries.items()):
                target = work / name
                target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
                if data is None:
                    target.mkdir(mode=0o755, exist_ok=True)
                else:
                    target.write_bytes(data)
                    target.chmod(0o644)
            os.rename(work, final)
        except OSError as err:  # e.g. "a" given as a file and as the parent of "a/b"
            raise ImageError(f"cannot lay out the image files: {err}") from err
        finally:
            if work.exists():
                _rmtree(work)

    def add(self, ref: str, config: ImageConfig = DEFAULT_CONFIG,
            files: Mapping[str, bytes] = DEFAULT_FILES) -> Image:
        """Store an image of one layer holding `files` (none: no layer), tagged `ref`; see the module docstring."""
        normalize(ref)  # an invalid reference stores nothing
        entries = image_files(files)
        diff_ids: tuple[str, ...] = ()
        if entries:
            listing = [[name, "dir" if data is None else sha256_bytes(data)]
                       for name, data in sorted(entries.items())]
            diff_ids = (sha256_bytes(canonical_json(listing)),)
            self._write_layer(diff_ids[0], entries)
        config_blob = canonical_json({"config": dataclasses.asdict(config), "diff_ids": list(diff_ids)})
        manifest_blob = canonical_json({"config": sha256_bytes(config_blob), "layers": list(diff_ids)})
        size = len(config_blob) + len(manifest_blob) + sum(len(data or b"") for data in entries.values())
        image = Image(id=sha256_bytes(config_blob), digest=sha256_bytes(manifest_blob), refs=(), diff_ids=diff_ids,
                      config=config, size=size)
        return self._tag(image, [ref])

    def _import(self, path: Path | str) -> builtins.list[Image]:
        scratch = Path(tempfile.mkdtemp(dir=self.tmp, prefix="import-"))
        try:
            store = ContentStore(scratch)
            imported = import_archive(store, path)
            for image in imported:
                for diff_id in image.diff_ids:
                    if not layer_path(self.root, diff_id).is_dir():
                        os.rename(store.layer_path(diff_id), layer_path(self.root, diff_id))
            return [self._tag(dataclasses.replace(image, refs=()), image.refs) for image in imported]
        finally:
            _rmtree(scratch)

    # the ImageService protocol -------------------------------------------------------------------
    async def list(self) -> builtins.list[Image]:
        return sorted(self._load().values(), key=lambda image: (image.refs[:1] or ("~",), image.id))

    async def get(self, ref: str) -> Image | None:
        return self._find(self._load(), ref)[0]

    async def import_archive(self, path: Path | str) -> builtins.list[Image]:
        return self._import(path)

    async def remove(self, ref: str) -> None:
        index = self._load()
        image, how = self._find(index, ref)
        if image is None:
            raise ImageNotFound(ref)
        refs = tuple(r for r in image.refs if r != normalize(ref)) if how == "ref" else ()
        if refs:  # untagging one of several refs keeps the image
            index[image.digest] = dataclasses.replace(image, refs=refs)
        else:
            del index[image.digest]
        self._save(index)
        self._collect_garbage()


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:  # no such xattr, or trusted.* unreadable without privilege
        return False


def _remove(path: Path, dirs: dict[Path, os.stat_result]) -> None:
    """Delete whatever is at `path` (never following it), and forget the metadata of what was under it."""
    if path.is_dir() and not path.is_symlink():
        _rmtree(path)
        for gone in [d for d in dirs if d == path or d.is_relative_to(path)]:
            del dirs[gone]
    elif path.is_symlink() or path.exists():
        path.unlink()


def _set_owner_and_mode(st: os.stat_result, path: Path) -> None:
    # chown before chmod: chown clears set-id bits.
    if os.geteuid() == 0:
        os.lchown(path, st.st_uid, st.st_gid)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(path, stat.S_IMODE(st.st_mode))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def merge_layer(layer: Path, target: Path, dirs: dict[Path, os.stat_result]) -> None:
    """Copy the unpacked `layer` over `target` as overlayfs shows an upper layer over a lower one.

    A 0/0 character device (whiteout) deletes the entry below; an opaque directory hides what was
    below it. Directory metadata goes into `dirs` and is applied last, after every layer: a
    read-only directory must still take its children.
    """
    for entry in os.scandir(layer):
        dest = target / entry.name
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            _remove(dest, dirs)
        elif stat.S_ISDIR(st.st_mode):
            if _is_opaque(entry.path) or dest.is_symlink() or not dest.is_dir():
                _remove(dest, dirs)
                dest.mkdir(mode=0o755)
            merge_layer(Path(entry.path), dest, dirs)
            dirs[dest] = st
        else:
            _remove(dest, dirs)
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(entry.path), dest)
            elif stat.S_ISREG(st.st_mode):
                shutil.copyfile(entry.path, dest, follow_symlinks=False)
            elif stat.S_ISFIFO(st.st_mode):
                os.mkfifo(dest)
            else:
                continue  # device nodes: the runtime provides /dev
            _set_owner_and_mode(st, dest)


class FakeSnapshotter:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.snapshots = self.root / SNAPSHOTS_DIR
        self.snapshots.mkdir(parents=True, exist_ok=True)

    def _prepare(self, key: str, image: Image) -> str:
        directory = snapshot_dir(self.snapshots, key)
        if existing_snapshot(directory, key, image) is not None:
            return str(directory / "rootfs")
        layers = [layer_path(self.root, diff_id) for diff_id in image.diff_ids]
        missing = [str(path) for path in layers if not path.is_dir()]
        if missing:
            raise SnapshotError(f"image {image.id} has layers missing from the store: {missing}")
        staging = self.snapshots / f".new-{key}-{uuid.uuid4().hex[:8]}"
        try:
            (staging / "rootfs").mkdir(mode=0o755, parents=True)
            dirs: dict[Path, os.stat_result] = {}
            for layer in layers:
                merge_layer(layer, staging / "rootfs", dirs)
                dirs[staging / "rootfs"] = os.stat(layer)
            for path, st in sorted(dirs.items(), key=lambda item: len(item[0].parts), reverse=True):
                _set_owner_and_mode(st, path)
            meta = {"key": key, "image": image.id, "diff_ids": list(image.diff_ids)}
            (staging / SNAPSHOT_META).write_text(json.dumps(meta))
            os.rename(staging, directory)
        finally:
            if staging.exists():
                _rmtree(staging)
        return str(directory / "rootfs")

    def _remove(self, key: str) -> None:
        directory = snapshot_dir(self.snapshots, key)
        if directory.exists():
            doomed = self.snapshots / f".rm-{key}-{uuid.uuid4().hex[:8]}"
            os.rename(directory, doomed)
            _rmtree(doomed)

    # the Snapshotter protocol --------------------------------------------------------------------
    async def prepare(self, key: str, image: Image) -> str:
        return self._prepare(key, image)

    async def remove(self, key: str) -> None:
        self._remove(key)

    async def list(self) -> builtins.list[str]:
        return list_snapshots(self.snapshots)

    async def cleanup(self) -> None:
        """Delete what an interrupted prepare or remove left behind, as `OverlaySnapshotter.cleanup`."""
        for path in self.snapshots.glob(".*"):
            _rmtree(path)
