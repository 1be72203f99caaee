"""The content store: refs, lookups, removal and garbage collection (no mounts, no root needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pocketkube.images.base import ImageNotFound
from pocketkube.images.service import LocalImageService
from pocketkube.images.store import SNAPSHOT_META, ContentStore
from tests.unit.images.builders import add_image, directory, file, make_tar, sha

BASE = make_tar([directory("etc"), file("etc/os-release", b"ID=test\n")])
APP = make_tar([file("app", b"#!/bin/sh\n", mode=0o755)])


def test_add_image_records_config_and_unpacks_layers(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    image = add_image(store, [BASE, APP], ["app:1"], cmd=["/app"], Entrypoint=["/bin/sh", "-c"], Env=["A=1"],
                      WorkingDir="/srv", User="1000:1000", ExposedPorts={"80/tcp": {}, "53/udp": {}})
    assert image.refs == ("docker.io/library/app:1",)
    assert image.diff_ids == (sha(BASE), sha(APP))
    assert image.config.cmd == ("/app",)
    assert image.config.entrypoint == ("/bin/sh", "-c")
    assert image.config.env == ("A=1",)
    assert (image.config.working_dir, image.config.user) == ("/srv", "1000:1000")
    assert image.config.exposed_ports == ("53/udp", "80/tcp")
    assert image.size > len(BASE) // 10
    assert (store.layer_path(sha(APP)) / "app").read_bytes() == b"#!/bin/sh\n"
    assert image.repo_digests == (f"docker.io/library/app@{image.digest}",)
    assert json.loads((tmp_path / "index.json").read_text()) == {"images": {image.digest: ["docker.io/library/app:1"]}}
    assert list((tmp_path / "tmp").iterdir()) == []


def test_lookups(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    image = add_image(store, [BASE], ["busybox", "quay.io/x/y:2"])
    hexid = image.id.removeprefix("sha256:")
    for ref in ["busybox", "busybox:latest", "docker.io/library/busybox:latest", "quay.io/x/y:2",
                f"busybox@{image.digest}", f"anything@{image.digest}", image.id, hexid, hexid[:12],
                f"sha256:{hexid[:4]}"]:
        assert store.find(ref)[0] == image, ref
    for ref in ["busybox:2", "other", hexid[:11], "sha256:" + "f" * 64, f"busybox@sha256:{'0' * 64}", "Bad Ref"]:
        assert store.find(ref)[0] is None, ref


def test_a_ref_moves_to_the_newer_image(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    old = add_image(store, [BASE], ["app:1", "app:stable"])
    new = add_image(store, [BASE, APP], ["app:stable"])
    assert store.find("app:stable")[0] == new
    assert store.find("app:1")[0] is not None and store.find("app:1")[0].id == old.id  # type: ignore[union-attr]
    assert [i.refs for i in store.list_images()] == [("docker.io/library/app:1",), ("docker.io/library/app:stable",)]


def test_readding_is_a_noop(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    first = add_image(store, [BASE], ["a"])
    before = (tmp_path / "index.json").stat().st_mtime_ns
    assert add_image(store, [BASE], ["a"]) == first
    assert (tmp_path / "index.json").stat().st_mtime_ns == before


def test_remove_untags_then_collects(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    shared = add_image(store, [BASE], ["base"])
    app = add_image(store, [BASE, APP], ["app", "app:2"])
    store.remove("app")
    assert store.find("app:2")[0] is not None  # still tagged: nothing collected
    assert store.layer_path(sha(APP)).is_dir()
    store.remove("app:2")
    assert store.find(app.id)[0] is None
    assert not store.layer_path(sha(APP)).exists()
    assert not store.blob_path(app.digest).exists()
    assert store.layer_path(sha(BASE)).is_dir()  # still used by `base`
    store.remove(shared.id)  # an id removes the image with all its tags
    assert store.list_images() == []
    assert list(store.blobs.iterdir()) == [] and list(store.layers.iterdir()) == []
    with pytest.raises(ImageNotFound):
        store.remove("base")


def test_collector_keeps_layers_that_snapshots_mount(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    image = add_image(store, [BASE], ["base"])
    snapshot = tmp_path / "snapshots" / "c1"
    snapshot.mkdir()
    (snapshot / SNAPSHOT_META).write_text(json.dumps({"image": image.id, "diff_ids": list(image.diff_ids)}))
    store.remove("base")
    assert store.layer_path(sha(BASE)).is_dir()
    (snapshot / SNAPSHOT_META).unlink()
    store.collect_garbage()
    assert not store.layer_path(sha(BASE)).exists()


async def test_service_is_the_async_face(tmp_path: Path) -> None:
    service = LocalImageService(tmp_path)
    image = add_image(service.store, [BASE], ["busybox:1.35"])
    assert await service.list() == [image]
    assert await service.get("busybox:1.35") == image
    assert await service.get("busybox") is None
    await service.remove("busybox:1.35")
    assert await service.list() == []
