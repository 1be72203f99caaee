"""Build synthetic layers, images and archives in memory for the image tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pocketkube.images.store import ContentStore


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


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


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def config_blob(diff_ids: list[str], cmd: list[str] | None = None, **extra: Any) -> bytes:
    config = {"Cmd": cmd or ["sh"], **extra}
    return json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()


def manifest_blob(config: bytes, layers: list[bytes]) -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(layer), "size": len(layer)}
                   for layer in layers],
    }).encode()


def add_image(store: ContentStore, layer_tars: list[bytes], refs: list[str], **config: Any) -> Any:
    """Store an image made of the given uncompressed layer tars (gzipped here) and tag it."""
    layers = [gz(tar) for tar in layer_tars]
    config_bytes = config_blob([sha(tar) for tar in layer_tars], **config)
    manifest = manifest_blob(config_bytes, layers)
    with store.importing():
        for blob in [*layers, config_bytes, manifest]:
            store.put_blob(blob)
        return store.add_image(sha(manifest), refs)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def docker_archive(path: Path, layer_tars: list[bytes], repo_tags: list[str], config: bytes) -> None:
    """A `docker save` archive: <id>/layer.tar per layer, <config hex>.json, manifest.json."""
    with tarfile.open(path, "w") as tar:
        layer_paths = []
        for layer in layer_tars:
            name = f"{sha(layer)[7:]}/layer.tar"
            _add_bytes(tar, name, layer)
            layer_paths.append(name)
        config_name = f"{sha(config)[7:]}.json"
        _add_bytes(tar, config_name, config)
        _add_bytes(tar, "manifest.json", json.dumps(
            [{"Config": config_name, "RepoTags": repo_tags, "Layers": layer_paths}]).encode())


def oci_archive(path: Path, layer_tars: list[bytes], config: bytes, ref_name: str, nested: bool = True) -> str:
    """An OCI image layout tar (gzip layers); with `nested`, the manifest sits behind a platform index.

    Returns the manifest digest.
    """
    layers = [gz(layer) for layer in layer_tars]
    manifest = manifest_blob(config, layers)
    other = manifest_blob(config_blob([], cmd=["other-arch"]), [])
    blobs = [*layers, config, manifest, other, config_blob([], cmd=["other-arch"])]
    top: dict[str, Any] = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest),
                           "size": len(manifest)}
    if nested:
        import platform

        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
        index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(other), "size": len(other),
             "platform": {"os": "linux", "architecture": "s390x" if arch != "s390x" else "ppc64le"}},
            {**top, "platform": {"os": "linux", "architecture": arch}},
        ]}).encode()
        blobs.append(index)
        top = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(index), "size": len(index)}
    top["annotations"] = {"org.opencontainers.image.ref.name": ref_name}
    with tarfile.open(path, "w") as tar:
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add_bytes(tar, "index.json", json.dumps({"schemaVersion": 2, "manifests": [top]}).encode())
        for blob in blobs:
            _add_bytes(tar, f"blobs/sha256/{sha(blob)[7:]}", blob)
    return sha(manifest)
