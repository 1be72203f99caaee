from __future__ import annotations

import pytest

from pocketkube.cli.image import format_table, human_size, image_rows
from pocketkube.images.base import Image


@pytest.mark.parametrize(("size", "text"), [(0, "0B"), (999, "999B"), (1000, "1kB"), (1036970, "1.04MB"),
                                            (4_300_000_000, "4.3GB"), (12_345, "12.3kB")])
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_rows_and_table() -> None:
    tagged = Image(id="sha256:" + "ab" * 32, digest="sha256:" + "cd" * 32, diff_ids=(), size=1036970,
                   refs=("docker.io/library/busybox:1.35", "localhost:5000/bb:x"))
    untagged = Image(id="sha256:" + "ef" * 32, digest="sha256:" + "01" * 32, diff_ids=(), refs=(), size=10)
    rows = image_rows([tagged, untagged])
    assert rows == [("docker.io/library/busybox", "1.35", "abababababab" + "a", "1.04MB"),
                    ("localhost:5000/bb", "x", "ababababababa", "1.04MB"),
                    ("<none>", "<none>", "efefefefefefe", "10B")]
    table = format_table(("IMAGE", "TAG", "IMAGE ID", "SIZE"), rows).splitlines()
    assert table[0] == "IMAGE                       TAG                 IMAGE ID            SIZE"
    assert table[1] == "docker.io/library/busybox   1.35                ababababababa       1.04MB"
