"""The image seam's conformance suite: the fakes and LocalImageService + OverlaySnapshotter pass every check.

Each `check_*` is an async function taking a `Harness` and raising AssertionError on a violation
(tests/unit/images runs them on the fakes, tests/integration/images on the real store and overlay
mounts, as root). A harness holds one backend over a fresh, private root: a service, a snapshotter,
`add_image` (how the backend gets an image whose filesystem is `files`: `FakeImageService.add`
for the fake, a docker-archive built here and imported for the real store), `reopen` (new
instances over the same root: the agent after a restart) and a scratch directory for archives.

Every check runs on every backend: the fake reads real archives, so there is no optional part.
Only a reboot (the overlay mount gone, its upper dir kept) has no counterpart in the fake and is
tested in tests/integration/images/test_overlay.py. Checks remove the snapshots they prepare, so
a backend can verify afterwards that nothing stays mounted.
"""

from __future__ import annotations

import asyncio
import tarfile
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pocketkube.images.base import (
    Image,
    ImageConfig,
    ImageError,
    ImageNotFound,
    ImageService,
    InvalidReference,
    SnapshotError,
    Snapshotter,
)
from pocketkube.images.store import sha256_bytes
from pocketkube.images.testing.archives import (
    add_member,
    config_document,
    docker_archive,
    layer_tar,
    oci_archive,
)

AddImage = Callable[[str, Mapping[str, bytes], ImageConfig], Awaitable[Image]]
FILES: Mapping[str, bytes] = {"etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n", "srv/app/data.txt": b"v1\n",
                              "var/empty/": b""}
NO_CONFIG = ImageConfig()
FULL_CONFIG = ImageConfig(entrypoint=("/bin/app", "--serve"), cmd=("--port", "80"), env=("A=1", "PATH=/bin"),
                          working_dir="/srv", user="1000:1000", exposed_ports=("53/udp", "80/tcp"))


@dataclass
class Harness:
    service: ImageService
    snapshots: Snapshotter
    add_image: AddImage
    reopen: Callable[[], tuple[ImageService, Snapshotter]]
    scratch: Path  # an existing directory the checks write archives into

    async def add(self, ref: str, files: Mapping[str, bytes] = FILES, config: ImageConfig = NO_CONFIG) -> Image:
        return await self.add_image(ref, files, config)


def write_docker_archive(path: Path, repo_tags: Sequence[str], files: Mapping[str, bytes],
                         config: ImageConfig = NO_CONFIG) -> None:
    """A `docker save` archive of one image: one layer holding `files` (none when empty)."""
    layers = [layer_tar(files)] if files else []
    docker_archive(path, layers, repo_tags, config_document(config, [sha256_bytes(layer) for layer in layers]))


def import_with_archive(service: ImageService, scratch: Path) -> AddImage:
    """`Harness.add_image` for a backend that only imports: a docker-archive per image, imported."""
    async def add(ref: str, files: Mapping[str, bytes], config: ImageConfig) -> Image:
        path = scratch / f"{uuid.uuid4().hex}.tar"
        write_docker_archive(path, [ref], files, config)
        [image] = await service.import_archive(path)
        path.unlink()
        return image
    return add


# helpers -----------------------------------------------------------------------------------------
async def _raises(error: type[Exception], call: Awaitable[object]) -> Exception:
    try:
        await call
    except error as err:
        return err
    raise AssertionError(f"expected {error.__name__}")


def _read(rootfs: str, name: str) -> bytes:
    return (Path(rootfs) / name).read_bytes()


# the image service -------------------------------------------------------------------------------
async def check_get_normalises_references(h: Harness) -> None:
    image = await h.add("busybox")
    assert image.refs == ("docker.io/library/busybox:latest",), image.refs
    for spelling in ["busybox", "busybox:latest", "library/busybox", "docker.io/busybox",
                     "docker.io/library/busybox:latest", "index.docker.io/library/busybox"]:
        assert await h.service.get(spelling) == image, spelling
    for other in ["busybox:1.36", "quay.io/library/busybox", "library/busybox:other"]:
        assert await h.service.get(other) is None, other


async def check_get_by_id_and_prefix(h: Harness) -> None:
    image = await h.add("app:1")
    hexid = image.id.removeprefix("sha256:")
    assert image.id.startswith("sha256:") and len(hexid) == 64, image.id
    for ref in [image.id, hexid, hexid[:12], f"sha256:{hexid[:4]}"]:
        assert await h.service.get(ref) == image, ref
    # a bare hex argument shorter than 12 digits is a name, not an id
    assert await h.service.get(hexid[:11]) is None


async def check_get_by_digest(h: Harness) -> None:
    image = await h.add("example.com/team/app:1")
    assert image.digest.startswith("sha256:") and image.digest != image.id, image
    assert image.repo_digests == (f"example.com/team/app@{image.digest}",), image.repo_digests
    # the manifest digest decides, whatever the name
    for ref in [*image.repo_digests, f"example.com/team/app:1@{image.digest}", f"other@{image.digest}"]:
        assert await h.service.get(ref) == image, ref
    assert await h.service.get(f"example.com/team/app@sha256:{'0' * 64}") is None


async def check_unknown_and_invalid_references_are_none(h: Harness) -> None:
    await h.add("app:1")
    for ref in ["nothere", "app:2", "", "Not A Reference!", "app@sha256:bad", f"sha256:{'f' * 64}"]:
        assert await h.service.get(ref) is None, ref


async def check_ambiguous_id_prefix_raises(h: Harness) -> None:
    seen: dict[str, Image] = {}
    for n in range(17):  # 17 ids over 16 hex digits: two share a first digit
        image = await h.add(f"app:{n}", {"n": str(n).encode()})
        first = image.id.removeprefix("sha256:")[0]
        if first in seen:
            break
        seen[first] = image
    else:
        raise AssertionError("17 distinct first digits")
    assert isinstance(await _raises(ImageError, h.service.get(f"sha256:{first}")), ImageError)
    await _raises(ImageError, h.service.remove(f"sha256:{first}"))
    assert len(await h.service.list()) == len(seen) + 1


async def check_config_round_trips(h: Harness) -> None:
    image = await h.add("app:1", config=FULL_CONFIG)
    assert image.config == FULL_CONFIG, image.config
    assert image.size > 0
    got = await h.service.get("app:1")
    assert got is not None and got.config == FULL_CONFIG, got


async def check_several_refs_share_one_image(h: Harness) -> None:
    first = await h.add("app:1")
    second = await h.add("quay.io/x/app:2")
    assert (second.id, second.digest) == (first.id, first.digest), (first, second)
    assert second.refs == ("docker.io/library/app:1", "quay.io/x/app:2"), second.refs
    assert await h.service.get("app:1") == second
    assert await h.service.list() == [second]
    assert second.repo_digests == (f"docker.io/library/app@{second.digest}", f"quay.io/x/app@{second.digest}")
    different = await h.add("app:3", config=ImageConfig(cmd=("other",)))
    assert different.id != first.id, "the config is part of the image id"


async def check_a_ref_moves_to_the_newer_image(h: Harness) -> None:
    old = await h.add("app:stable", {"version": b"1"})
    await h.add("app:1", {"version": b"1"})
    new = await h.add("app:stable", {"version": b"2"})
    assert new.id != old.id
    assert await h.service.get("app:stable") == new
    kept = await h.service.get(old.id)
    assert kept is not None and kept.refs == ("docker.io/library/app:1",), kept
    await h.service.remove("app:1")  # its last ref: the image goes
    assert await h.service.get(old.id) is None


async def check_untagged_image_is_kept_and_listed_last(h: Harness) -> None:
    old = await h.add("zz:1", {"version": b"1"})
    new = await h.add("zz:1", {"version": b"2"})
    untagged = await h.service.get(old.id)
    assert untagged is not None and untagged.refs == () and untagged.repo_digests == (), untagged
    assert await h.service.list() == [new, untagged]


async def check_list_orders_by_first_ref_then_id(h: Harness) -> None:
    zeta = await h.add("zeta:1", {"n": b"zeta"})
    await h.add("mid:1", {"n": b"mid"})
    mid = await h.add("aardvark:1", {"n": b"mid"})  # refs sort: aardvark comes first
    alpha = await h.add("alpha:1", {"n": b"alpha"})
    quay = await h.add("quay.io/a/b:1", {"n": b"quay"})
    gone = await h.add("gone:1", {"n": b"gone"})
    await h.add("gone:1", {"n": b"gone-new"})
    gone_new = await h.service.get("gone:1")
    untagged = await h.service.get(gone.id)
    assert gone_new is not None and untagged is not None
    listed = await h.service.list()
    assert [i.id for i in listed] == [mid.id, alpha.id, gone_new.id, zeta.id, quay.id, untagged.id], listed
    assert all(list(i.refs) == sorted(i.refs) for i in listed), listed


async def check_remove_by_ref(h: Harness) -> None:
    image = await h.add("app:1")
    await h.add("app:2")
    await _raises(ImageNotFound, h.service.remove("app"))  # app:latest names nothing
    await h.service.remove("app:1")
    assert await h.service.get("app:1") is None
    kept = await h.service.get("app:2")
    assert kept is not None and kept.id == image.id and kept.refs == ("docker.io/library/app:2",), kept
    await h.service.remove("docker.io/library/app:2")
    assert await h.service.get(image.id) is None
    assert await h.service.list() == []
    err = await _raises(ImageNotFound, h.service.remove("app:2"))
    assert isinstance(err, ImageError)


async def check_remove_by_id_or_digest_removes_every_tag(h: Harness) -> None:
    one = await h.add("app:1", {"n": b"1"})
    await h.add("app:one", {"n": b"1"})
    two = await h.add("app:2", {"n": b"2"})
    await h.service.remove(f"sha256:{one.id.removeprefix('sha256:')[:12]}")
    assert await h.service.get("app:1") is None and await h.service.get("app:one") is None
    assert await h.service.list() == [two]
    await h.service.remove(two.repo_digests[0])
    assert await h.service.list() == []
    await _raises(ImageNotFound, h.service.remove(two.id))


async def check_invalid_reference_is_refused(h: Harness) -> None:
    await _raises(InvalidReference, h.add("Not/Valid:x!"))
    assert await h.service.list() == []


async def check_images_survive_restart(h: Harness) -> None:
    image = await h.add("app:1", config=FULL_CONFIG)
    untagged = await h.add("other:1", {"n": b"1"})
    await h.add("other:1", {"n": b"2"})
    service, _ = h.reopen()
    assert await service.list() == await h.service.list()
    assert await service.get("app:1") == image
    assert await service.get(untagged.id) == await h.service.get(untagged.id)


async def check_import_docker_archive(h: Harness) -> None:
    path = h.scratch / "docker.tar"
    write_docker_archive(path, ["example.com/app:1", "app"], FILES, FULL_CONFIG)
    [image] = await h.service.import_archive(path)
    assert image.refs == ("docker.io/library/app:latest", "example.com/app:1"), image.refs
    assert image.config == FULL_CONFIG
    assert await h.service.get("app") == image
    assert [await h.service.get("example.com/app:1")] == await h.service.list() == [image]
    [again] = await h.service.import_archive(path)  # importing again changes nothing
    assert again == image and await h.service.list() == [image]
    rootfs = await h.snapshots.prepare("imported", image)
    assert _read(rootfs, "srv/app/data.txt") == b"v1\n"
    await h.snapshots.remove("imported")


async def check_import_oci_archive(h: Harness) -> None:
    path = h.scratch / "oci.tar"
    layer = layer_tar({"bin/tool": b"#!/bin/sh\n"})
    digest = oci_archive(path, [layer], config_document(FULL_CONFIG, [sha256_bytes(layer)]), "example.com/app:oci",
                         nested=False)
    [image] = await h.service.import_archive(path)
    assert (image.digest, image.refs) == (digest, ("example.com/app:oci",)), image  # the registry's digest
    assert image.config == FULL_CONFIG
    assert await h.service.get(f"example.com/app@{digest}") == image
    rootfs = await h.snapshots.prepare("oci", image)
    assert _read(rootfs, "bin/tool") == b"#!/bin/sh\n"
    await h.snapshots.remove("oci")


async def check_import_refuses_what_is_no_image_archive(h: Harness) -> None:
    not_tar = h.scratch / "not.tar"
    not_tar.write_bytes(b"this is no tar")
    other_tar = h.scratch / "other.tar"
    with tarfile.open(other_tar, "w") as tar:
        add_member(tar, "README", b"hello")
    broken = h.scratch / "broken.tar"
    with tarfile.open(broken, "w") as tar:
        add_member(tar, "manifest.json", b'[{"Config": "missing.json", "RepoTags": ["x:1"], "Layers": []}]')
    for path in (not_tar, other_tar, broken, h.scratch / "missing.tar"):
        await _raises(ImageError, h.service.import_archive(path))
    assert await h.service.list() == []


# the snapshotter ---------------------------------------------------------------------------------
async def check_prepare_gives_the_image_files(h: Harness) -> None:
    image = await h.add("app:1")
    rootfs = await h.snapshots.prepare("c1", image)
    assert Path(rootfs).is_dir()
    assert _read(rootfs, "etc/passwd") == FILES["etc/passwd"]
    assert _read(rootfs, "srv/app/data.txt") == b"v1\n"
    assert Path(rootfs, "var/empty").is_dir() and list(Path(rootfs, "var/empty").iterdir()) == []
    assert await h.snapshots.list() == ["c1"]
    await h.snapshots.remove("c1")


async def check_image_without_files_gives_an_empty_rootfs(h: Harness) -> None:
    image = await h.add("scratch:1", {})
    assert image.diff_ids == (), image
    rootfs = await h.snapshots.prepare("empty", image)
    assert Path(rootfs).is_dir() and list(Path(rootfs).iterdir()) == []
    Path(rootfs, "written").write_text("ok")
    await h.snapshots.remove("empty")


async def check_writes_stay_private_to_the_key(h: Harness) -> None:
    image = await h.add("app:1")
    one = await h.snapshots.prepare("one", image)
    two = await h.snapshots.prepare("two", image)
    assert one != two
    Path(one, "tmp-note").write_text("from one")
    Path(one, "etc/passwd").write_text("changed\n")
    Path(one, "srv/app/data.txt").unlink()
    assert not Path(two, "tmp-note").exists()
    assert _read(two, "etc/passwd") == FILES["etc/passwd"] and _read(two, "srv/app/data.txt") == b"v1\n"
    three = await h.snapshots.prepare("three", image)
    assert _read(three, "etc/passwd") == FILES["etc/passwd"] and _read(three, "srv/app/data.txt") == b"v1\n"
    assert await h.snapshots.list() == ["one", "three", "two"]
    for key in ("one", "two", "three"):
        await h.snapshots.remove(key)


async def check_prepare_again_keeps_writes(h: Harness) -> None:
    image = await h.add("app:1")
    rootfs = await h.snapshots.prepare("c1", image)
    Path(rootfs, "note").write_text("kept")
    assert await h.snapshots.prepare("c1", image) == rootfs
    _, restarted = h.reopen()  # the agent after a restart re-adopts the snapshot
    assert await restarted.prepare("c1", image) == rootfs
    assert _read(rootfs, "note") == b"kept"
    assert await restarted.list() == ["c1"]
    await restarted.remove("c1")
    assert await h.snapshots.list() == []


async def check_concurrent_prepare_of_one_key(h: Harness) -> None:
    image = await h.add("app:1")
    paths = await asyncio.gather(*(h.snapshots.prepare("c1", image) for _ in range(3)))
    assert len(set(paths)) == 1, paths
    assert await h.snapshots.list() == ["c1"]
    await h.snapshots.remove("c1")


async def check_key_taken_by_another_image_raises(h: Harness) -> None:
    first = await h.add("app:1", {"n": b"1"})
    second = await h.add("app:2", {"n": b"2"})
    rootfs = await h.snapshots.prepare("c1", first)
    await _raises(SnapshotError, h.snapshots.prepare("c1", second))
    assert await h.snapshots.prepare("c1", first) == rootfs
    await h.snapshots.remove("c1")


async def check_invalid_keys_raise(h: Harness) -> None:
    image = await h.add("app:1")
    for key in ["", ".hidden", "-x", "_x", "a/b", "../escape", "a b", "x" * 129]:
        await _raises(SnapshotError, h.snapshots.prepare(key, image))
        await _raises(SnapshotError, h.snapshots.remove(key))
    assert await h.snapshots.list() == []
    longest = "x" * 128
    await h.snapshots.prepare(longest, image)
    await h.snapshots.remove(longest)


async def check_remove_deletes_the_snapshot(h: Harness) -> None:
    image = await h.add("app:1")
    rootfs = await h.snapshots.prepare("c1", image)
    Path(rootfs, "note").write_text("gone with the snapshot")
    await h.snapshots.remove("c1")
    assert await h.snapshots.list() == []
    assert not Path(rootfs, "note").exists()
    await h.snapshots.remove("c1")  # a missing key is not an error
    await h.snapshots.remove("never-prepared")
    fresh = await h.snapshots.prepare("c1", image)
    assert not Path(fresh, "note").exists() and _read(fresh, "srv/app/data.txt") == b"v1\n"
    await h.snapshots.remove("c1")


async def check_list_is_sorted(h: Harness) -> None:
    image = await h.add("app:1")
    keys = ["b", "a", "c-1", "A", "a.2", "Z_9"]
    for key in keys:
        await h.snapshots.prepare(key, image)
    assert await h.snapshots.list() == sorted(keys)
    for key in keys:
        await h.snapshots.remove(key)
    assert await h.snapshots.list() == []


async def check_snapshot_outlives_its_image(h: Harness) -> None:
    image = await h.add("app:1")
    rootfs = await h.snapshots.prepare("c1", image)
    await h.service.remove("app:1")
    assert await h.service.get(image.id) is None
    assert _read(rootfs, "srv/app/data.txt") == b"v1\n"
    assert await h.snapshots.prepare("c1", image) == rootfs
    await h.snapshots.remove("c1")


async def check_prepare_of_a_removed_image_raises(h: Harness) -> None:
    image = await h.add("app:1")
    await h.service.remove("app:1")
    await _raises(SnapshotError, h.snapshots.prepare("c1", image))
    assert await h.snapshots.list() == [], "a failed prepare leaves no snapshot behind"


Check = Callable[[Harness], Awaitable[None]]

CHECKS: list[Check] = [
    check_get_normalises_references,
    check_get_by_id_and_prefix,
    check_get_by_digest,
    check_unknown_and_invalid_references_are_none,
    check_ambiguous_id_prefix_raises,
    check_config_round_trips,
    check_several_refs_share_one_image,
    check_a_ref_moves_to_the_newer_image,
    check_untagged_image_is_kept_and_listed_last,
    check_list_orders_by_first_ref_then_id,
    check_remove_by_ref,
    check_remove_by_id_or_digest_removes_every_tag,
    check_invalid_reference_is_refused,
    check_images_survive_restart,
    check_import_docker_archive,
    check_import_oci_archive,
    check_import_refuses_what_is_no_image_archive,
    check_prepare_gives_the_image_files,
    check_image_without_files_gives_an_empty_rootfs,
    check_writes_stay_private_to_the_key,
    check_prepare_again_keeps_writes,
    check_concurrent_prepare_of_one_key,
    check_key_taken_by_another_image_raises,
    check_invalid_keys_raise,
    check_remove_deletes_the_snapshot,
    check_list_is_sorted,
    check_snapshot_outlives_its_image,
    check_prepare_of_a_removed_image_raises,
]
