"""Importing image archives: docker-archive (`docker save`) and OCI image layout archives.

A docker-archive has `manifest.json`: a list of {Config, RepoTags, Layers} with paths inside the
tar (layers usually uncompressed, sometimes symlinks to a shared copy). It carries no registry
manifest, so one is written here (OCI media types, canonical JSON): the image id (config digest)
and diff_ids are the same as Docker's, the manifest digest is ours.

An OCI archive has `oci-layout` and `index.json`, whose descriptors point into `blobs/<alg>/<hex>`;
those blobs are copied as they are (digests verified), so manifest digests stay the registry's. A
nested index (multi-platform) resolves to the manifest for this host's platform. The name comes
from `io.containerd.image.name` (Docker and containerd write it) or from
`org.opencontainers.image.ref.name` when that is a full reference (has `/` or `:`); a bare tag such
as `1.35` names no repository, so such an image is imported untagged.

Docker ≥ 25 writes both layouts in one tar; `manifest.json` wins because it has the RepoTags.
"""

from __future__ import annotations

import json
import platform
import tarfile
from pathlib import Path
from typing import Any

from pocketkube.images.base import DigestMismatch, Image, ImageError, InvalidReference
from pocketkube.images.reference import normalize
from pocketkube.images.store import ContentStore, canonical_json, sha256_bytes

MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = {MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST}
INDEX_TYPES = {MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST}
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_CONTAINERD_NAME = "io.containerd.image.name"

_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
           "s390x": "s390x", "riscv64": "riscv64"}


def host_platform() -> tuple[str, str]:
    """(os, architecture) in OCI/Go spelling, e.g. ("linux", "amd64")."""
    machine = platform.machine()
    return "linux", _GOARCH.get(machine, machine)


def descriptor_refs(descriptor: dict[str, Any]) -> list[str]:
    """The normalised references an index descriptor's annotations name (see module docstring)."""
    annotations = descriptor.get("annotations") or {}
    for key in (ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME):
        name = annotations.get(key, "")
        if name and ("/" in name or ":" in name):
            try:
                return [normalize(name)]
            except InvalidReference:
                continue
    return []


def select_platform(manifests: list[dict[str, Any]], wanted: tuple[str, str]) -> list[dict[str, Any]]:
    """The entries of a nested index to import: those for `wanted`, or all if none says its platform."""
    with_platform = [m for m in manifests if m.get("platform")]
    if not with_platform:
        return manifests
    matching = [m for m in with_platform if (m["platform"].get("os"), m["platform"].get("architecture")) == wanted]
    if not matching:
        raise ImageError(f"no manifest for platform {wanted[0]}/{wanted[1]} in the archive's index")
    return matching[:1]


class _Archive:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members = {m.name.removeprefix("./"): m for m in tar.getmembers()}

    def has(self, name: str) -> bool:
        return name in self.members

    def open(self, name: str) -> Any:
        member = self.members.get(name.removeprefix("./"))
        handle = self.tar.extractfile(member) if member is not None else None
        if handle is None:
            raise ImageError(f"archive has no file {name!r}")
        return handle

    def read(self, name: str) -> bytes:
        with self.open(name) as handle:
            data: bytes = handle.read()
        return data

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except ValueError as err:
            raise ImageError(f"archive file {name!r} is not JSON: {err}") from err


def _import_docker(archive: _Archive, store: ContentStore) -> list[Image]:
    images = []
    for entry in archive.json("manifest.json"):
        config_digest = store.put_blob(archive.read(entry["Config"]))
        layers = []
        for name in entry.get("Layers") or ():
            with archive.open(name) as handle:
                gzipped = handle.read(2) == b"\x1f\x8b"
            with archive.open(name) as handle:
                digest, size = store.put_blob_stream(handle)
            layers.append({"mediaType": MEDIA_OCI_LAYER_GZIP if gzipped else MEDIA_OCI_LAYER,
                           "digest": digest, "size": size})
        config_size = store.blob_path(config_digest).stat().st_size
        manifest = {"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
                    "config": {"mediaType": MEDIA_OCI_CONFIG, "digest": config_digest, "size": config_size},
                    "layers": layers}
        manifest_digest = store.put_blob(canonical_json(manifest))
        refs = [normalize(tag) for tag in entry.get("RepoTags") or ()]
        images.append(store.add_image(manifest_digest, refs))
    return images


def _copy_blob(archive: _Archive, store: ContentStore, descriptor: dict[str, Any]) -> str:
    digest = str(descriptor["digest"])
    algorithm, _, hexpart = digest.partition(":")
    with archive.open(f"blobs/{algorithm}/{hexpart}") as handle:
        store.put_blob_stream(handle, expected=digest)
    return digest


def _import_oci_descriptor(archive: _Archive, store: ContentStore, descriptor: dict[str, Any],
                           refs: list[str], depth: int = 0) -> list[Image]:
    media_type = descriptor.get("mediaType", "")
    if media_type in INDEX_TYPES:
        if depth > 4:
            raise ImageError("OCI index nesting too deep")
        raw = archive.read(f"blobs/{descriptor['digest'].replace(':', '/', 1)}")
        if sha256_bytes(raw) != descriptor["digest"]:
            raise DigestMismatch(f"nested index content is not {descriptor['digest']}")
        index = json.loads(raw)
        images = []
        for child in select_platform(list(index.get("manifests") or ()), host_platform()):
            images += _import_oci_descriptor(archive, store, child, refs or descriptor_refs(child), depth + 1)
        return images
    if media_type not in MANIFEST_TYPES:
        raise ImageError(f"unsupported descriptor media type {media_type!r} in OCI archive")
    manifest_digest = _copy_blob(archive, store, descriptor)
    manifest = json.loads(store.read_blob(manifest_digest))
    _copy_blob(archive, store, manifest["config"])
    for layer in manifest.get("layers") or ():
        _copy_blob(archive, store, layer)
    return [store.add_image(manifest_digest, refs)]


def _import_oci(archive: _Archive, store: ContentStore) -> list[Image]:
    images = []
    for descriptor in archive.json("index.json").get("manifests") or ():
        images += _import_oci_descriptor(archive, store, descriptor, descriptor_refs(descriptor))
    return images


def import_archive(store: ContentStore, path: Path | str) -> list[Image]:
    """Import every image of the archive at `path` into `store` (blocking)."""
    try:
        tar = tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as err:
        raise ImageError(f"cannot read image archive {path}: {err}") from err
    try:
        with tar, store.importing():
            archive = _Archive(tar)
            if archive.has("manifest.json"):
                return _import_docker(archive, store)
            if archive.has("index.json") and archive.has("oci-layout"):
                return _import_oci(archive, store)
    except (ImageError, KeyError, TypeError, ValueError) as err:
        store.collect_garbage()  # blobs and layers stored before the failure belong to no image
        if isinstance(err, ImageError):
            raise
        raise ImageError(f"{path}: malformed image archive: {err!r}") from err
    raise ImageError(f"{path}: neither a docker-archive (manifest.json) nor an OCI archive (oci-layout)")
