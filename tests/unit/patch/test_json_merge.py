"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386) on Kubernetes-shaped objects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.patch import apply_json_patch, apply_merge_patch

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web", "tier": "fe"}},
    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}, {"name": "side", "image": "busybox"}]},
}


@pytest.mark.parametrize("patch, check", [
    (b'[{"op":"replace","path":"/spec/containers/0/image","value":"nginx:1.26"}]',
     lambda o: o["spec"]["containers"][0]["image"] == "nginx:1.26"),
    ([{"op": "add", "path": "/metadata/labels/env", "value": "prod"}],
     lambda o: o["metadata"]["labels"] == {"app": "web", "tier": "fe", "env": "prod"}),
    ([{"op": "remove", "path": "/spec/containers/1"}], lambda o: len(o["spec"]["containers"]) == 1),
    ([{"op": "test", "path": "/metadata/name", "value": "web"},
      {"op": "add", "path": "/metadata/labels/a~1b", "value": "x"}],
     lambda o: o["metadata"]["labels"]["a/b"] == "x"),
])
def test_json_patch_applies(patch: Any, check: Any) -> None:
    before = copy.deepcopy(POD)
    assert check(apply_json_patch(POD, patch))
    assert POD == before


@pytest.mark.parametrize("patch, code, reason, detail", [
    (b"{not json", 400, "BadRequest", None),
    (b'{"op":"add"}', 400, "BadRequest", None),
    ([{"op": "test", "path": "/metadata/name", "value": "other"}], 422, "Invalid",
     "testing value /metadata/name failed: test failed"),
    ([{"op": "remove", "path": "/metadata/labels/missing"}], 422, "Invalid",
     'remove operation does not apply: doc is missing path: "/metadata/labels/missing": missing value'),
    ([{"op": "add", "path": "/spec/nope/x", "value": 1}], 422, "Invalid", None),
    ([{"op": "frobnicate", "path": "/a"}], 422, "Invalid", "Unexpected kind: frobnicate"),
])
def test_json_patch_errors(patch: Any, code: int, reason: str, detail: str | None) -> None:
    with pytest.raises(StatusError) as info:
        apply_json_patch(POD, patch)
    assert (info.value.code, info.value.reason) == (code, reason)
    if code == 422:
        assert info.value.message == "the server rejected our request due to an error in our request"
        cause = info.value.status()["details"]["causes"][0]
        assert cause["reason"] == "UnexpectedServerResponse"
        if detail:
            assert cause["message"] == detail


def test_json_patch_too_many_operations() -> None:
    ops = [{"op": "test", "path": "/kind", "value": "Pod"}] * 10001
    with pytest.raises(StatusError) as info:
        apply_json_patch(POD, ops)
    assert info.value.code == 413


@pytest.mark.parametrize("patch, expected_meta, expected_containers", [
    ({"metadata": {"labels": {"tier": None, "env": "prod"}}},
     {"name": "web", "labels": {"app": "web", "env": "prod"}}, POD["spec"]["containers"]),
    # lists replace as a whole
    ({"spec": {"containers": [{"name": "nginx", "image": "nginx:2"}]}},
     POD["metadata"], [{"name": "nginx", "image": "nginx:2"}]),
    # a new nested object is stored without its nulls
    ({"metadata": {"annotations": {"a": "1", "b": None}}},
     {**POD["metadata"], "annotations": {"a": "1"}}, POD["spec"]["containers"]),
])
def test_merge_patch(patch: dict[str, Any], expected_meta: Any, expected_containers: Any) -> None:
    before = copy.deepcopy(POD)
    out = apply_merge_patch(POD, patch)
    assert out["metadata"] == expected_meta
    assert out["spec"]["containers"] == expected_containers
    assert POD == before


def test_merge_patch_bytes_and_errors() -> None:
    assert apply_merge_patch(POD, b'{"spec":null}').get("spec") is None
    for bad in (b"[1,2]", b"nope"):
        with pytest.raises(StatusError) as info:
            apply_merge_patch(POD, bad)
        assert info.value.code == 400
