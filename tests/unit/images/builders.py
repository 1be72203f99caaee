"""Build synthetic layers, images and archives in memory for the image tests.

Tar entries of any kind (`make_tar`) and images put straight into a store (`add_image`) live here;
digests, gzip, manifests and the docker/OCI archive writers are the conformance suite's
(`pocketkube.images.testing.archives`), re-exported under their short names."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from typing import Any

from pocketkube.images.busybox import gzip_deterministic as gz
from pocketkube.images.store import ContentStore
from pocketkube.images.store import sha256_bytes as sha
from pocketkube.images.testing.archives import docker_archive, manifest_blob, oci_archive

__all__ = ["Entry", "add_image", "config_blob", "directory", "docker_archive", "file", "gz", "hardlink", "make_tar",
           "oci_archive", "sha", "symlink"]


@dataclass
class Entry:
    name: str
    kind: bytes = tarfile.REGTYPE
    data: bytes = b""
    mode: int = 0o644
    link: str = ""
    mtime: int = 1_600_000_000
    uid: int = 0
    gid: int = 0
    devmajor: int = 0
    devminor: int = 0


def file(name: str, data: bytes = b"", mode: int = 0o644, **kw: Any) -> Entry:
    return Entry(name, tarfile.REGTYPE, data, mode, **kw)


def directory(name: str, mode: int = 0o755, **kw: Any) -> Entry:
    return Entry(name, tarfile.DIRTYPE, mode=mode, **kw)


def symlink(name: str, target: str) -> Entry:
    return Entry(name, tarfile.SYMTYPE, mode=0o777, link=target)


def hardlink(name: str, target: str) -> Entry:
    return Entry(name, tarfile.LNKTYPE, link=target)


def make_tar(entries: list[Entry]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type, info.mode, info.linkname, info.mtime = entry.kind, entry.mode, entry.link, entry.mtime
            info.uid, info.gid, info.size = entry.uid, entry.gid, len(entry.data)
            info.devmajor, info.devminor = entry.devmajor, entry.devminor
            tar.addfile(info, io.BytesIO(entry.data) if entry.data else None)
    return buffer.getvalue()


def config_blob(diff_ids: list[str], cmd: list[str] | None = None, **extra: Any) -> bytes:
    config = {"Cmd": cmd or ["sh"], **extra}
    return json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


def add_image(store: ContentStore, layer_tars: list[bytes], refs: list[str], **config: Any) -> Any:
    """Store an image made of the given uncompressed layer tars (gzipped here) and tag it."""
    layers = [gz(tar) for tar in layer_tars]
    config_bytes = config_blob([sha(tar) for tar in layer_tars], **config)
    manifest = manifest_blob(config_bytes, layers)
    with store.importing():
        for blob in [*layers, config_bytes, manifest]:
            store.put_blob(blob)
        return store.add_image(sha(manifest), refs)
