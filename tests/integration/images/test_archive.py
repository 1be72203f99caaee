"""Importing docker-archive and OCI archives built here, and the `pocketkube image` CLI."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pocketkube.cli.main import main
from pocketkube.images import ImageError, LocalImageService, OverlaySnapshotter
from pocketkube.images.base import DigestMismatch
from tests.support import requires
from tests.unit.images.builders import (
    config_blob,
    directory,
    docker_archive,
    file,
    make_tar,
    oci_archive,
    sha,
)

BASE = make_tar([directory("bin"), file("bin/hello", b"#!/bin/sh\necho hello\n", mode=0o755)])
TOP = make_tar([directory("etc"), file("etc/app.conf", b"debug=1\n"), file("bin/.wh.hello")])
CONFIG = config_blob([sha(BASE), sha(TOP)], cmd=["/bin/hello"], Env=["A=1"], WorkingDir="/srv")


async def test_docker_and_oci_archives_give_the_same_image(
        tmp_path: Path, service: LocalImageService, snapshotter: OverlaySnapshotter) -> None:
    docker_tar, oci_tar = tmp_path / "docker.tar", tmp_path / "oci.tar"
    docker_archive(docker_tar, [BASE, TOP], ["example.com/app:1", "app:latest"], CONFIG)
    manifest_digest = oci_archive(oci_tar, [BASE, TOP], CONFIG, "example.com/app:oci")

    [from_docker] = await service.import_archive(docker_tar)
    [from_oci] = await service.import_archive(oci_tar)
    assert from_docker.refs == ("docker.io/library/app:latest", "example.com/app:1")
    assert from_oci.refs == ("example.com/app:oci",)
    assert from_docker.id == from_oci.id == sha(CONFIG)
    assert from_docker.diff_ids == from_oci.diff_ids == (sha(BASE), sha(TOP))
    assert from_oci.digest == manifest_digest  # OCI blobs are kept as they are
    assert from_docker.config.cmd == ("/bin/hello",) and from_docker.config.working_dir == "/srv"
    layers = sorted(p.name for p in service.store.layers.iterdir())
    assert layers == sorted(d.removeprefix("sha256:") for d in from_docker.diff_ids)  # unpacked once each

    assert (await service.get("example.com/app:oci")) == from_oci
    assert (await service.get("app")) == from_docker
    assert (await service.get(f"example.com/app@{manifest_digest}")) == from_oci
    rootfs = Path(await snapshotter.prepare("imported", from_oci))
    assert sorted(p.name for p in (rootfs / "bin").iterdir()) == []  # hidden by the top layer's whiteout
    assert (rootfs / "etc/app.conf").read_text() == "debug=1\n"
    await snapshotter.remove("imported")


async def test_oci_archive_with_a_bare_tag_is_untagged(tmp_path: Path, service: LocalImageService) -> None:
    path = tmp_path / "oci.tar"
    oci_archive(path, [BASE], config_blob([sha(BASE)]), "1.35", nested=False)
    [image] = await service.import_archive(path)
    assert image.refs == ()
    assert await service.get(image.id) == image


async def test_bad_archives(tmp_path: Path, service: LocalImageService) -> None:
    not_image = tmp_path / "plain.tar"
    with tarfile.open(not_image, "w") as tar:
        tar.add(__file__, arcname="x.py")
    with pytest.raises(ImageError, match="neither"):
        await service.import_archive(not_image)
    # a docker-archive whose config promises other layers than it ships
    lying = tmp_path / "lying.tar"
    docker_archive(lying, [BASE], ["liar:1"], config_blob([sha(TOP)]))
    with pytest.raises(DigestMismatch):
        await service.import_archive(lying)
    assert await service.list() == []
    # an OCI archive whose config blob does not match its digest
    config = config_blob([sha(BASE)])
    oci_archive(tmp_path / "good.tar", [BASE], config, "x.io/t:1", nested=False)
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(tmp_path / "good.tar") as src, tarfile.open(tampered, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if data == config:
                data = data.replace(b'"sh"', b'"xx"')
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(DigestMismatch):
        await service.import_archive(tampered)
    assert await service.list() == []
    assert list(service.store.blobs.iterdir()) == []  # what a failed import stored is collected
    assert list(service.store.layers.iterdir()) == []


def test_cli(tmp_path: Path, images_root: Path) -> None:
    requires.binary("busybox")
    data_dir = images_root.parent
    runner = CliRunner()
    built = runner.invoke(main, ["image", "busybox", "--data-dir", str(data_dir)])
    assert built.exit_code == 0, built.output
    assert built.output.startswith("docker.io/library/busybox:1.")
    docker_tar = tmp_path / "docker.tar"
    docker_archive(docker_tar, [BASE, TOP], ["app:1"], CONFIG)
    imported = runner.invoke(main, ["image", "import", str(docker_tar), "--data-dir", str(data_dir)])
    assert imported.output == "Loaded image: docker.io/library/app:1\n"
    listed = runner.invoke(main, ["image", "ls", "--data-dir", str(data_dir)]).output.splitlines()
    assert listed[0].split() == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"]
    assert [line.split()[:3] for line in listed[1:]] == [
        ["docker.io/library/app", "1", sha(CONFIG)[7:20]],
        ["docker.io/library/busybox", built.output.split()[0].rsplit(":", 1)[1], built.output.split()[1][7:20]],
    ]
    removed = runner.invoke(main, ["image", "rm", "app:1", "--data-dir", str(data_dir)])
    assert removed.exit_code == 0 and removed.output == "Deleted: app:1\n"
    missing = runner.invoke(main, ["image", "rm", "app:1", "--data-dir", str(data_dir)])
    assert missing.exit_code == 1 and "not found" in missing.output
    assert len(runner.invoke(main, ["image", "ls", "--data-dir", str(data_dir)]).output.splitlines()) == 2
