"""The image seam: what the node agent asks of images and root filesystems.

Two protocols, one for each half of the job. `ImageService` answers "which images are here" by
Docker-style reference (`busybox` means `docker.io/library/busybox:latest`) and brings new ones in
from archives; `Snapshotter` turns an image into a mounted, writable root filesystem per container
whose writes stay private to its key. `Image` is the plain record the agent plans with: the image
config fields that decide a container's command, env, user and working directory.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ImageError(Exception):
    """Base of the image errors: the agent maps these to ErrImagePull / CreateContainerError."""


class ImageNotFound(ImageError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"image {ref!r} not found")
        self.ref = ref


class InvalidReference(ImageError, ValueError):
    """A reference that Docker would refuse (`invalid reference format`)."""


class UnsafeLayerError(ImageError):
    """A layer entry that would land outside the layer root (absolute, `..`, through symlinks)."""


class DigestMismatch(ImageError):
    """Content whose sha256 is not the one its descriptor or the image config promised."""


class SnapshotError(ImageError):
    """A snapshot that cannot be prepared: bad key, missing layers, or a key taken by another image."""


@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an image config (`config` in the OCI image config), names as in Docker."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()  # e.g. "80/tcp", sorted


@dataclass(frozen=True)
class Image:
    """One image in the local store.

    `id` is the config digest (`sha256:…`, what `crictl images` shows shortened), `digest` the
    manifest digest, `refs` the normalised tagged references (`docker.io/library/busybox:1.35`) that
    point at it, possibly none. `diff_ids` are the uncompressed layer digests, bottom layer first.
    `size` counts the bytes of its stored blobs (manifest, config, layers as stored).
    """

    id: str
    digest: str
    refs: tuple[str, ...]
    diff_ids: tuple[str, ...]
    config: ImageConfig = field(default_factory=ImageConfig)
    size: int = 0

    @property
    def repo_digests(self) -> tuple[str, ...]:
        """`name@sha256:…` for each repository the image is tagged in (`RepoDigests`)."""
        names = sorted({ref.rsplit(":", 1)[0] for ref in self.refs})  # refs are always name:tag
        return tuple(f"{name}@{self.digest}" for name in names)


class ImageService(Protocol):
    async def list(self) -> builtins.list[Image]:
        """Every image in the store, tagged or not, ordered by first reference then id."""
        ...

    async def get(self, ref: str) -> Image | None:
        """The image `ref` names: a reference (normalised), `name@sha256:…` (the manifest digest decides),
        or an image id: `sha256:<hex prefix>` or a bare hex prefix of 12+ digits (ambiguous → ImageError).
        """
        ...

    async def import_archive(self, path: Path | str) -> builtins.list[Image]:
        """Load a docker-archive (`docker save`) or OCI archive; return the images it held."""
        ...

    async def remove(self, ref: str) -> None:
        """Untag `ref` (an id removes the image and all its tags); unreferenced content is freed.

        Raises ImageNotFound when nothing matches.
        """
        ...


class Snapshotter(Protocol):
    async def prepare(self, key: str, image: Image) -> str:
        """Mount a writable root filesystem of `image` for `key` and return its path.

        Writes go to a layer private to `key`; calling it again for an existing key (also after an
        agent restart or a reboot) returns the same root filesystem with its writes kept.
        """
        ...

    async def remove(self, key: str) -> None:
        """Unmount and delete the snapshot `key` and its writes; a missing key is not an error."""
        ...

    async def list(self) -> builtins.list[str]:
        """The keys of every snapshot, sorted."""
        ...
