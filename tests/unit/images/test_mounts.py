from __future__ import annotations

from pocketkube.images.mounts import parse_mountinfo
from pocketkube.images.overlay import KEY, fits, overlay_options

MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
46 27 0:39 / /tmp/with\\040space/rootfs rw,relatime - overlay overlay rw,lowerdir=/a:/b
47 27 0:40 / /tmp/tab\\011here rw - tmpfs tmpfs rw
"""


def test_parse_mountinfo_undoes_escapes() -> None:
    assert parse_mountinfo(MOUNTINFO) == ["/", "/tmp/with space/rootfs", "/tmp/tab\there"]


def test_overlay_options_top_layer_first_as_given() -> None:
    assert overlay_options(["/l/top", "/l/base"], "/s/upper", "/s/work") == \
        "lowerdir=/l/top:/l/base,upperdir=/s/upper,workdir=/s/work"


def test_fits() -> None:
    layer = "/var/lib/pocketkube/images/layers/sha256/" + "a" * 64
    assert fits([layer] * 30, "/u", "/w")
    assert not fits([layer] * 40, "/u", "/w")  # over a page: the /proc/self/fd form is used instead
    assert not fits(["/data,dir/layer"], "/u", "/w")
    assert not fits(["/a:b"], "/u", "/w")


def test_snapshot_keys() -> None:
    assert KEY.fullmatch("pod-uid_container.1")
    for bad in ["", "../x", "a/b", ".hidden", "x" * 129, "a b"]:
        assert not KEY.fullmatch(bad)
