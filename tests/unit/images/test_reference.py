from __future__ import annotations

import pytest

from pocketkube.images.reference import InvalidReference, id_prefix, normalize, parse_reference

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.35", "docker.io/library/busybox:1.35"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1"),
        ("user/app:v2", "docker.io/user/app:v2"),
        ("quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5"),
        ("quay.io/etcd", "quay.io/etcd:latest"),  # other registries get no library/
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/app:dev", "localhost:5000/app:dev"),
        ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"),
        ("Registry/app", "Registry/app:latest"),  # an upper-case first component is a domain
        (f"busybox@{D}", f"docker.io/library/busybox@{D}"),
        (f"busybox:1.35@{D}", f"docker.io/library/busybox:1.35@{D}"),
        ("a/b/c/d:x_y.z-1", "docker.io/a/b/c/d:x_y.z-1"),
        ("my-app__x.y", "docker.io/library/my-app__x.y:latest"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " busybox", "Busybox", "busybox:", "busybox:-x", "busybox@sha256:abc", "busybox@md5:" + "a" * 32,
     "/busybox", "busybox/", "a//b", "bad_-name", "x" * 256, "busybox:" + "t" * 129, "-lead"],
)
def test_invalid(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse_reference(text)


def test_parts_and_familiar_name() -> None:
    ref = parse_reference("busybox:1.35")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("docker.io", "library/busybox", "1.35", "")
    assert ref.name == "docker.io/library/busybox"
    assert ref.familiar_name == "busybox"
    assert parse_reference("user/app").familiar_name == "user/app"
    assert parse_reference("quay.io/x/y").familiar_name == "quay.io/x/y"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("sha256:abc123", "abc123"), ("abc123", "abc123"), ("busybox", None), ("sha256:", None), ("ABC", None)],
)
def test_id_prefix(text: str, expected: str | None) -> None:
    assert id_prefix(text) == expected
