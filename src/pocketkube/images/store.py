"""The local content-addressed image store (blocking; `service.py` puts it behind the async seam).

On disk, under one root (default `<data-dir>/images`):

    blobs/sha256/<hex>        manifests, configs and layer blobs as imported, named by their sha256
    layers/sha256/<hex>/      each layer unpacked once, named by its diff_id (uncompressed digest)
    index.json                {"images": {"sha256:<manifest digest>": ["docker.io/library/x:tag", …]}}
    snapshots/<key>/          the overlay snapshotter's (see overlay.py); GC keeps their layers
    tmp/                      private work dirs: blobs and layers are written here, then renamed
    gc.lock, index.lock       flock(2) files, so a CLI import and a running agent can share a root

Everything lands by write-to-temp + fsync + rename, so a crash leaves either the old or the new
state. Imports hold `gc.lock` shared for their whole run and the collector holds it exclusive, so
nothing half-imported is ever collected; `index.lock` serialises the index's read-modify-write.
Blobs and layers are immutable, so parsed images are cached by manifest digest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pocketkube.images.base import (
    DigestMismatch,
    Image,
    ImageConfig,
    ImageError,
    ImageNotFound,
    InvalidReference,
)
from pocketkube.images.reference import id_prefix, parse_reference
from pocketkube.images.unpack import unpack_layer

SNAPSHOTS_DIR = "snapshots"
SNAPSHOT_META = "snapshot.json"
MIN_ID_PREFIX = 12  # a bare hex argument shorter than this is taken as a name, not an id
_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hex(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise ImageError(f"unsupported or malformed digest {digest!r}")
    return hexpart


def lookup(ref: str, index: Mapping[str, Sequence[str]], image_id: Callable[[str], str]) -> tuple[str | None, str]:
    """Which manifest digest of `index` (digest → tagged refs) `ref` names, and how: a `name@digest`
    by its digest ("digest"), else a tag ("ref"), else an image id or a prefix of one ("id",
    `image_id(digest)` gives it). An ambiguous id prefix raises ImageError."""
    try:
        parsed = parse_reference(ref)
    except InvalidReference:
        parsed = None
    if parsed is not None and parsed.digest:
        if parsed.digest in index:
            return parsed.digest, "digest"
    elif parsed is not None:
        for digest, refs in index.items():
            if str(parsed) in refs:
                return digest, "ref"
    prefix = id_prefix(ref)
    if prefix is None or (not ref.startswith("sha256:") and len(prefix) < MIN_ID_PREFIX):
        return None, ""
    matches = [digest for digest in index if image_id(digest).removeprefix("sha256:").startswith(prefix)]
    if len(matches) > 1:
        raise ImageError(f"image id prefix {ref!r} is ambiguous")
    return (matches[0], "id") if matches else (None, "")


def snapshot_layers(root: Path) -> set[str]:
    """diff_ids that the prepared snapshots under `root` mount: never collected while a container may use them."""
    in_use: set[str] = set()
    for meta in (root / SNAPSHOTS_DIR).glob(f"*/{SNAPSHOT_META}"):
        with contextlib.suppress(OSError, ValueError):
            in_use.update(json.loads(meta.read_bytes()).get("diff_ids", ()))
    return in_use


def canonical_json(doc: Any) -> bytes:
    """Deterministic JSON: the bytes, and so the digest, depend only on the content."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def image_config(doc: dict[str, Any]) -> ImageConfig:
    """The runtime fields of an OCI/Docker image config document."""
    cfg = doc.get("config") or {}
    return ImageConfig(
        entrypoint=tuple(cfg.get("Entrypoint") or ()),
        cmd=tuple(cfg.get("Cmd") or ()),
        env=tuple(cfg.get("Env") or ()),
        working_dir=cfg.get("WorkingDir") or "",
        user=cfg.get("User") or "",
        exposed_ports=tuple(sorted(cfg.get("ExposedPorts") or {})),
    )


class ContentStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs" / "sha256"
        self.layers = self.root / "layers" / "sha256"
        self.tmp = self.root / "tmp"
        self.index_path = self.root / "index.json"
        for directory in (self.blobs, self.layers, self.tmp, self.root / SNAPSHOTS_DIR):
            directory.mkdir(parents=True, exist_ok=True)
        self._parsed: dict[str, tuple[str, tuple[str, ...], ImageConfig, int, list[dict[str, Any]]]] = {}

    # locks ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _flock(self, name: str, exclusive: bool) -> Iterator[None]:
        # A fresh open file description per holder: flock then also excludes threads of this process.
        with open(self.root / name, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield

    def importing(self) -> contextlib.AbstractContextManager[None]:
        """Held (shared) while content is added or used, so the collector leaves it alone."""
        return self._flock("gc.lock", exclusive=False)

    # blobs ---------------------------------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        return self.blobs / _hex(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    def read_blob(self, digest: str) -> bytes:
        try:
            return self.blob_path(digest).read_bytes()
        except FileNotFoundError:
            raise ImageError(f"blob {digest} missing from the store") from None

    def put_blob(self, data: bytes, expected: str | None = None) -> str:
        return self.put_blob_stream(io.BytesIO(data), expected)[0]

    def put_blob_stream(self, source: IO[bytes], expected: str | None = None) -> tuple[str, int]:
        """Copy `source` into the store; return (digest, size). Verifies `expected` when given."""
        if expected is not None and self.has_blob(expected):
            return expected, self.blob_path(expected).stat().st_size
        sha, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    sha.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = "sha256:" + sha.hexdigest()
            if expected is not None and digest != expected:
                raise DigestMismatch(f"blob content is {digest}, expected {expected}")
            os.chmod(tmp_name, 0o644)
            os.rename(tmp_name, self.blob_path(digest))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        return digest, size

    # layers --------------------------------------------------------------------------------------
    def layer_path(self, diff_id: str) -> Path:
        return self.layers / _hex(diff_id)

    def ensure_layer(self, blob_digest: str, diff_id: str) -> Path:
        """The unpacked layer dir of `diff_id`, unpacking the blob first if no one has yet."""
        final = self.layer_path(diff_id)
        if final.is_dir():
            return final
        work = Path(tempfile.mkdtemp(dir=self.tmp, prefix="layer-"))
        try:
            work.chmod(0o755)  # the container's "/" unless the layer carries a "./" entry
            unpack_layer(self.blob_path(blob_digest), work, diff_id)
            try:
                os.rename(work, final)
            except OSError:
                if not final.is_dir():  # lost a race to an identical unpack otherwise
                    raise
        finally:
            if work.exists():
                shutil.rmtree(work)
        return final

    # images --------------------------------------------------------------------------------------
    def _parse(self, manifest_digest: str) -> tuple[str, tuple[str, ...], ImageConfig, int, list[dict[str, Any]]]:
        cached = self._parsed.get(manifest_digest)
        if cached is not None:
            return cached
        manifest_bytes = self.read_blob(manifest_digest)
        manifest = json.loads(manifest_bytes)
        config_digest = manifest["config"]["digest"]
        config_bytes = self.read_blob(config_digest)
        config = json.loads(config_bytes)
        diff_ids = tuple(config.get("rootfs", {}).get("diff_ids") or ())
        layers = list(manifest.get("layers") or ())
        if len(layers) != len(diff_ids):
            raise ImageError(f"manifest {manifest_digest} has {len(layers)} layers, config {len(diff_ids)} diff_ids")
        size = len(manifest_bytes) + len(config_bytes) + sum(int(layer.get("size", 0)) for layer in layers)
        parsed = (config_digest, diff_ids, image_config(config), size, layers)
        self._parsed[manifest_digest] = parsed
        return parsed

    def image(self, manifest_digest: str, refs: Iterable[str]) -> Image:
        config_digest, diff_ids, config, size, _ = self._parse(manifest_digest)
        return Image(id=config_digest, digest=manifest_digest, refs=tuple(sorted(refs)), diff_ids=diff_ids,
                     config=config, size=size)

    def _load_index(self) -> dict[str, list[str]]:
        try:
            doc = json.loads(self.index_path.read_bytes())
        except FileNotFoundError:
            return {}
        return {digest: list(refs) for digest, refs in doc.get("images", {}).items()}

    def _save_index(self, images: dict[str, list[str]]) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".index-")
        with os.fdopen(fd, "wb") as out:
            out.write(json.dumps({"images": images}, sort_keys=True, indent=1).encode())
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o644)
        os.rename(tmp_name, self.index_path)
        _fsync_dir(self.root)

    def add_image(self, manifest_digest: str, refs: Iterable[str]) -> Image:
        """Record an image whose manifest, config and layer blobs are stored; unpack its layers.

        A ref that named another image moves here (that image stays, possibly untagged).
        """
        names = {str(parse_reference(ref)) for ref in refs}
        _, diff_ids, _, _, layers = self._parse(manifest_digest)
        for layer, diff_id in zip(layers, diff_ids, strict=True):
            self.ensure_layer(layer["digest"], diff_id)
        with self._flock("index.lock", exclusive=True):
            images = self._load_index()
            for digest, tagged in images.items():
                if digest != manifest_digest:
                    tagged[:] = [ref for ref in tagged if ref not in names]
            current = images.setdefault(manifest_digest, [])
            if not names.issubset(current) or not self.index_path.exists():
                images[manifest_digest] = sorted(names.union(current))
                self._save_index(images)
            return self.image(manifest_digest, images[manifest_digest])

    def list_images(self) -> list[Image]:
        images = [self.image(digest, refs) for digest, refs in self._load_index().items()]
        return sorted(images, key=lambda image: (image.refs[:1] or ("~",), image.id))

    def find(self, ref: str) -> tuple[Image | None, str]:
        """The image `ref` names and how: "ref" (a tag), "digest" (name@digest) or "id"."""
        index = self._load_index()
        images: dict[str, Image] = {}  # only an id lookup reads manifests, each once

        def image(digest: str) -> Image:
            if digest not in images:
                images[digest] = self.image(digest, index[digest])
            return images[digest]

        digest, how = lookup(ref, index, lambda d: image(d).id)
        return (image(digest), how) if digest is not None else (None, "")

    def remove(self, ref: str) -> None:
        image, how = self.find(ref)
        if image is None:
            raise ImageNotFound(ref)
        with self._flock("index.lock", exclusive=True):
            images = self._load_index()
            refs = images.get(image.digest, [])
            if how == "ref":
                refs.remove(str(parse_reference(ref)))
            if how != "ref" or not refs:
                images.pop(image.digest, None)
            self._save_index(images)
        self.collect_garbage()

    # garbage -------------------------------------------------------------------------------------
    def collect_garbage(self) -> None:
        """Delete blobs and layers no image (and no snapshot) refers to, and stale temp files."""
        with self._flock("gc.lock", exclusive=True):
            blobs: set[str] = set()
            layers = snapshot_layers(self.root)
            for digest in self._load_index():
                config_digest, diff_ids, _, _, manifest_layers = self._parse(digest)
                blobs.update([digest, config_digest, *(layer["digest"] for layer in manifest_layers)])
                layers.update(diff_ids)
            keep_blobs = {_hex(digest) for digest in blobs}
            keep_layers = {_hex(diff_id) for diff_id in layers}
            for path in self.blobs.iterdir():
                if path.name not in keep_blobs:
                    path.unlink()
            for path in self.layers.iterdir():
                if path.name not in keep_layers:
                    shutil.rmtree(path)
            for path in self.tmp.iterdir():  # no import runs while we hold the lock exclusive
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            self._parsed = {digest: parsed for digest, parsed in self._parsed.items() if _hex(digest) in keep_blobs}
