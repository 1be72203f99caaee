"""Images for the node agent: a local content-addressed store and overlayfs snapshots.

Public surface:

- `ImageService`, `Snapshotter` (protocols), `Image`, `ImageConfig`, the `ImageError` family;
- `LocalImageService(root)`: the store (import docker/OCI archives, list, get, remove);
- `OverlaySnapshotter(root)`: a mounted writable rootfs per key over an image's layers;
- `build_busybox_image(images, ref=None)`: the offline busybox image from the host;
- `parse_reference` / `normalize`: Docker-style references;
- `FakeImageService(root)` (images added with `.add(ref, config=..., files=...)`) and
  `FakeSnapshotter(root)` over the same root: real files in a temporary directory, no mounts, no
  root (fake.py); `testing.CHECKS` is the conformance suite the fakes and the real pair both pass.

Both the service and the snapshotter take the same root (`default_root(data_dir)` is
`<data-dir>/images`); layers are shared between them on disk.
"""

from pocketkube.images.base import (
    DigestMismatch,
    Image,
    ImageConfig,
    ImageError,
    ImageNotFound,
    ImageService,
    InvalidReference,
    SnapshotError,
    Snapshotter,
    UnsafeLayerError,
)
from pocketkube.images.busybox import build_busybox_image
from pocketkube.images.fake import FakeImageService, FakeSnapshotter
from pocketkube.images.overlay import OverlaySnapshotter
from pocketkube.images.reference import Reference, normalize, parse_reference
from pocketkube.images.service import LocalImageService, default_root

__all__ = [
    "DigestMismatch",
    "FakeImageService",
    "FakeSnapshotter",
    "Image",
    "ImageConfig",
    "ImageError",
    "ImageNotFound",
    "ImageService",
    "InvalidReference",
    "LocalImageService",
    "OverlaySnapshotter",
    "Reference",
    "SnapshotError",
    "Snapshotter",
    "UnsafeLayerError",
    "build_busybox_image",
    "default_root",
    "normalize",
    "parse_reference",
]
