"""`LocalImageService`: the ImageService over the local content store.

The store does blocking file work (hashing, unpacking, fsync), so each call runs in a worker
thread; the store's flock-based locking makes concurrent calls, and other processes sharing the
root (the `pocketkube image` CLI next to a running agent), safe.
"""

from __future__ import annotations

import asyncio
import builtins
from pathlib import Path

from pocketkube.images.archive import import_archive
from pocketkube.images.base import Image
from pocketkube.images.store import ContentStore


def default_root(data_dir: Path | str) -> Path:
    """`<data-dir>/images`: where images live for a server or agent using `data_dir`."""
    return Path(data_dir) / "images"


class LocalImageService:
    def __init__(self, root: Path | str) -> None:
        self.store = ContentStore(root)

    @property
    def root(self) -> Path:
        return self.store.root

    async def list(self) -> builtins.list[Image]:
        return await asyncio.to_thread(self.store.list_images)

    async def get(self, ref: str) -> Image | None:
        image, _ = await asyncio.to_thread(self.store.find, ref)
        return image

    async def import_archive(self, path: Path | str) -> builtins.list[Image]:
        return await asyncio.to_thread(import_archive, self.store, path)

    async def remove(self, ref: str) -> None:
        await asyncio.to_thread(self.store.remove, ref)
