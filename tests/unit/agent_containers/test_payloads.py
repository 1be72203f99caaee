import base64
import os
from pathlib import Path
from typing import Any

import pytest

from pocketkube.agent.volumes import atomic
from pocketkube.agent.volumes.payloads import (
    PayloadSourceError,
    configmap_payload,
    downward_payload,
    projected_payload,
    secret_payload,
)

from .fakes import make_pod

CM = {"data": {"a": "1", "b": "2"}, "binaryData": {"bin": base64.b64encode(b"\x00\x01").decode()}}


@pytest.mark.parametrize(("source", "expected"), [
    ({"name": "cm"}, {"a": (b"1", 0o644), "b": (b"2", 0o644), "bin": (b"\x00\x01", 0o644)}),
    ({"name": "cm", "defaultMode": 0o400, "items": [{"key": "a", "path": "dir/a.txt"},
                                                     {"key": "b", "path": "b", "mode": 0o600}]},
     {"dir/a.txt": (b"1", 0o400), "b": (b"2", 0o600)}),
    ({"name": "cm", "optional": True, "items": [{"key": "zz", "path": "zz"}, {"key": "a", "path": "a"}]},
     {"a": (b"1", 0o644)}),
])
def test_configmap_payload(source: dict[str, Any], expected: dict[str, Any]) -> None:
    assert configmap_payload(source, CM) == expected


@pytest.mark.parametrize(("build", "message"), [
    (lambda: configmap_payload({"name": "x"}, None), 'configmap "x" not found'),
    (lambda: secret_payload({"secretName": "x"}, None), 'secret "x" not found'),
    (lambda: configmap_payload({"name": "cm", "items": [{"key": "zz", "path": "p"}]}, CM),
     "configmap references non-existent config key: zz"),
    (lambda: secret_payload({"secretName": "s", "items": [{"key": "zz", "path": "p"}]}, {"data": {}}),
     "references non-existent secret key: zz"),
])
def test_payload_errors(build: Any, message: str) -> None:
    with pytest.raises(PayloadSourceError, match=message):
        build()


def test_optional_missing_objects_are_empty() -> None:
    assert configmap_payload({"name": "x", "optional": True}, None) == {}
    assert secret_payload({"secretName": "x", "optional": True}, None) == {}


def test_secret_payload_decodes() -> None:
    obj = {"data": {"pw": base64.b64encode(b"hunter2").decode()}}
    assert secret_payload({"secretName": "s"}, obj) == {"pw": (b"hunter2", 0o644)}


def test_downward_payload() -> None:
    pod = make_pod({"name": "c", "resources": {"limits": {"memory": "64Mi"}}})
    items: list[dict[str, Any]] = [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
             {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o400},
             {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory", "divisor": "1Mi"}}]
    assert downward_payload(pod, items, 0o644, {}) == {
        "labels": (b'app="web"\ntier="front"', 0o644), "name": (b"web", 0o400), "mem": (b"64", 0o644)}


def test_projected_payload_merges_sources() -> None:
    pod = make_pod()
    source = {"defaultMode": 0o440, "sources": [
        {"configMap": {"name": "cm", "items": [{"key": "a", "path": "cfg/a"}]}},
        {"secret": {"name": "s"}},
        {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
        {"serviceAccountToken": {"path": "token"}},
    ]}
    objects = {("configmap", "cm"): CM, ("secret", "s"): {"data": {"k": base64.b64encode(b"v").decode()}}}
    assert projected_payload(pod, source, objects, {}) == {
        "cfg/a": (b"1", 0o440), "k": (b"v", 0o440), "ns": (b"ns1", 0o440)}


def layout(target: Path) -> dict[str, str]:
    return {p.name: os.readlink(p) for p in target.iterdir() if p.is_symlink()}


def test_atomic_writer_layout_and_update(tmp_path: Path) -> None:
    target = tmp_path / "vol"
    assert atomic.write(str(target), {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})
    links = layout(target)
    first = links.pop("..data")
    assert first.startswith("..") and (target / first).is_dir()
    assert links == {"a": "..data/a", "dir": "..data/dir"}
    assert (target / "dir" / "b").read_bytes() == b"2"
    assert os.stat(target / "dir" / "b").st_mode & 0o777 == 0o600

    assert not atomic.write(str(target), {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})  # unchanged
    assert layout(target)["..data"] == first

    assert atomic.write(str(target), {"a": (b"new", 0o644), "c": (b"3", 0o644)})
    links = layout(target)
    second = links.pop("..data")
    assert second != first and not (target / first).exists()
    assert links == {"a": "..data/a", "c": "..data/c"}        # stale "dir" link removed
    assert (target / "a").read_bytes() == b"new"
    assert sorted(p.name for p in target.iterdir()) == sorted(["..data", second, "a", "c"])


@pytest.mark.parametrize("path", ["/abs", "../up", "a/../b", "..hidden", ""])
def test_atomic_writer_rejects_paths(tmp_path: Path, path: str) -> None:
    with pytest.raises(atomic.PayloadError):
        atomic.write(str(tmp_path / "vol"), {path: (b"x", 0o644)})
