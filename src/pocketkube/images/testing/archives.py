"""Image archives built in memory, for the conformance suite and the image tests.

Layers are deterministic tars (`layer_tar` from a `path → bytes` mapping, as `FakeImageService.add`
takes them); `config_document` is an image config in Docker's field names; `docker_archive` and
`oci_archive` write what `docker save` and an OCI image layout export would, from layer tars and a
config blob. Digests are the store's own (`sha256_bytes`), gzip is the busybox builder's
deterministic one, so the same input always gives the same image id and manifest digest.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pocketkube.images.archive import (
    MEDIA_OCI_CONFIG,
    MEDIA_OCI_LAYER_GZIP,
    MEDIA_OCI_MANIFEST,
    host_platform,
)
from pocketkube.images.base import ImageConfig
from pocketkube.images.busybox import gzip_deterministic
from pocketkube.images.fake import image_files
from pocketkube.images.store import canonical_json, sha256_bytes

MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def layer_tar(files: Mapping[str, bytes]) -> bytes:
    """A deterministic uncompressed layer of `files` (as `FakeImageService.add` takes them) and their parents."""
    entries = image_files(files)
    for name in list(entries):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            entries.setdefault("/".join(parts[:depth]), None)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(entries.items()):
            info = tarfile.TarInfo(name)
            info.type, info.mode = (tarfile.DIRTYPE, 0o755) if data is None else (tarfile.REGTYPE, 0o644)
            info.mtime = 0
            info.size = len(data or b"")
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def config_document(config: ImageConfig, diff_ids: Sequence[str]) -> bytes:
    """An image config document in Docker's field names (empty fields left out, as Docker does)."""
    fields: dict[str, Any] = {"Entrypoint": list(config.entrypoint), "Cmd": list(config.cmd),
                              "Env": list(config.env), "WorkingDir": config.working_dir, "User": config.user,
                              "ExposedPorts": {port: {} for port in config.exposed_ports}}
    os_name, arch = host_platform()
    return canonical_json({"architecture": arch, "os": os_name, "config": {k: v for k, v in fields.items() if v},
                           "rootfs": {"type": "layers", "diff_ids": list(diff_ids)}})


def manifest_blob(config: bytes, compressed_layers: Sequence[bytes]) -> bytes:
    """An OCI image manifest for a config blob and gzip layers."""
    return canonical_json({
        "schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
        "config": {"mediaType": MEDIA_OCI_CONFIG, "digest": sha256_bytes(config), "size": len(config)},
        "layers": [{"mediaType": MEDIA_OCI_LAYER_GZIP, "digest": sha256_bytes(layer), "size": len(layer)}
                   for layer in compressed_layers],
    })


def add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def docker_archive(path: Path, layer_tars: Sequence[bytes], repo_tags: Sequence[str], config: bytes) -> None:
    """A `docker save` archive: <id>/layer.tar per layer, <config hex>.json, manifest.json."""
    with tarfile.open(path, "w") as tar:
        layer_paths = []
        for layer in layer_tars:
            layer_paths.append(f"{sha256_bytes(layer)[7:]}/layer.tar")
            add_member(tar, layer_paths[-1], layer)
        config_name = f"{sha256_bytes(config)[7:]}.json"
        add_member(tar, config_name, config)
        add_member(tar, "manifest.json", json.dumps(
            [{"Config": config_name, "RepoTags": list(repo_tags), "Layers": layer_paths}]).encode())


def oci_archive(path: Path, layer_tars: Sequence[bytes], config: bytes, ref_name: str, nested: bool = True) -> str:
    """An OCI image layout tar (gzip layers) whose image is named `ref_name`; with `nested`, the
    manifest sits behind a platform index next to one for another architecture. Returns the
    manifest digest."""
    layers = [gzip_deterministic(layer) for layer in layer_tars]
    manifest = manifest_blob(config, layers)
    blobs = [*layers, config, manifest]
    top: dict[str, Any] = {"mediaType": MEDIA_OCI_MANIFEST, "digest": sha256_bytes(manifest), "size": len(manifest)}
    if nested:
        _, arch = host_platform()
        other_config = canonical_json({"architecture": "other", "os": "linux", "config": {"Cmd": ["other-arch"]},
                                       "rootfs": {"type": "layers", "diff_ids": []}})
        other = manifest_blob(other_config, [])
        index = canonical_json({"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": [
            {"mediaType": MEDIA_OCI_MANIFEST, "digest": sha256_bytes(other), "size": len(other),
             "platform": {"os": "linux", "architecture": "s390x" if arch != "s390x" else "ppc64le"}},
            {**top, "platform": {"os": "linux", "architecture": arch}},
        ]})
        blobs += [other_config, other, index]
        top = {"mediaType": MEDIA_OCI_INDEX, "digest": sha256_bytes(index), "size": len(index)}
    top["annotations"] = {"org.opencontainers.image.ref.name": ref_name}
    with tarfile.open(path, "w") as tar:
        add_member(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        add_member(tar, "index.json", json.dumps({"schemaVersion": 2, "manifests": [top]}).encode())
        for blob in blobs:
            add_member(tar, f"blobs/sha256/{sha256_bytes(blob)[7:]}", blob)
    return sha256_bytes(manifest)
