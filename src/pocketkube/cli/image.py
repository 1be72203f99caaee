"""`pocketkube image …`: manage the local image store (import, ls, busybox, rm).

Thin: every command opens the store under `--data-dir` and calls the images package. The store
locks with flock(2), so these commands are safe next to a running server using the same data dir.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path

import click

from pocketkube.images import (
    ImageError,
    LocalImageService,
    build_busybox_image,
    default_root,
    parse_reference,
)
from pocketkube.images.base import Image

DEFAULT_DATA_DIR = "/var/lib/pocketkube"
_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")

data_dir_option = click.option("--data-dir", default=DEFAULT_DATA_DIR, show_default=True,
                               type=click.Path(path_type=Path), help="the server's data dir; images live in DATA_DIR/images")


def human_size(size: float) -> str:
    """Decimal units with 3 significant digits, as `crictl images` prints (1.04MB)."""
    unit = 0
    while size >= 1000 and unit < len(_UNITS) - 1:
        size /= 1000
        unit += 1
    return f"{size:.3g}{_UNITS[unit]}"


def image_rows(images: Iterable[Image]) -> list[tuple[str, str, str, str]]:
    """One (IMAGE, TAG, IMAGE ID, SIZE) row per tag; `<none>` for an untagged image."""
    rows = []
    for image in images:
        short_id = image.id.removeprefix("sha256:")[:13]
        size = human_size(image.size)
        if not image.refs:
            rows.append(("<none>", "<none>", short_id, size))
        for ref in image.refs:
            parsed = parse_reference(ref)
            rows.append((parsed.name, parsed.tag or "<none>", short_id, size))
    return rows


def format_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], min_width: int = 20, padding: int = 3) -> str:
    """Columns as Go's tabwriter(minwidth=20, padding=3) lays them out for crictl; last one unpadded."""
    table = [header, *rows]
    widths = [max(min_width, max(len(row[i]) for row in table) + padding) for i in range(len(header) - 1)]
    lines = ["".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + row[-1] for row in table]
    return "\n".join(lines)


def _service(data_dir: Path) -> LocalImageService:
    return LocalImageService(default_root(data_dir.absolute()))


@click.group()
def image() -> None:
    """Manage the node's local images."""


@image.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_dir_option
def import_(files: tuple[Path, ...], data_dir: Path) -> None:
    """Import docker-archive (`docker save`) or OCI-archive tar files."""
    service = _service(data_dir)
    for path in files:
        try:
            loaded = asyncio.run(service.import_archive(path))
        except ImageError as err:
            raise click.ClickException(str(err)) from err
        for img in loaded:
            for ref in img.refs or (img.id,):
                click.echo(f"Loaded image: {ref}" if img.refs else f"Loaded image ID: {ref}")


@image.command("ls")
@data_dir_option
def ls(data_dir: Path) -> None:
    """List images (IMAGE, TAG, IMAGE ID, SIZE)."""
    images = asyncio.run(_service(data_dir).list())
    click.echo(format_table(("IMAGE", "TAG", "IMAGE ID", "SIZE"), image_rows(images)))


@image.command("busybox")
@click.argument("ref", required=False)
@data_dir_option
def busybox(ref: str | None, data_dir: Path) -> None:
    """Build REF (default busybox:<host version>) from the host's static busybox."""
    try:
        built = asyncio.run(build_busybox_image(_service(data_dir), ref))
    except ImageError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"{', '.join(built.refs)} {built.id}")


@image.command("rm")
@click.argument("refs", nargs=-1, required=True)
@data_dir_option
def rm(refs: tuple[str, ...], data_dir: Path) -> None:
    """Untag REF (remove the image when it was the last tag); an image ID removes the image."""
    service = _service(data_dir)
    failed = False
    for ref in refs:
        try:
            asyncio.run(service.remove(ref))
            click.echo(f"Deleted: {ref}")
        except ImageError as err:
            click.echo(f"ERRO: {err}", err=True)
            failed = True
    if failed:
        raise SystemExit(1)
