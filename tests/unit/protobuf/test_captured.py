"""Real kubectl 1.33 protobuf bodies decode to what kubectl 1.27 sent as JSON for the same command,
and encode back to the very same bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from pocketkube.api.protobuf import decode_object, encode_object

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = sorted(p.name.split(".")[0] for p in FIXTURES.glob("*.kubectl-1.33.pb"))


def _meaningful(value: Any) -> Any:
    """Drop what Go's JSON writes for unset non-pointer structs: `creationTimestamp: null`,
    `status: {}`, `resources: {}`, `strategy: {}`."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _meaningful(item)
            if item is not None and item != {}:
                out[key] = item
        return out
    if isinstance(value, list):
        return [_meaningful(item) for item in value]
    return value


def test_every_command_was_captured() -> None:
    assert len(NAMES) == 12
    for name in NAMES:
        assert (FIXTURES / f"{name}.kubectl-1.27.json").exists()


@pytest.mark.parametrize("name", NAMES)
def test_decodes_to_the_json_kubectl_sends(name: str) -> None:
    body = (FIXTURES / f"{name}.kubectl-1.33.pb").read_bytes()
    expected = _meaningful(orjson.loads((FIXTURES / f"{name}.kubectl-1.27.json").read_bytes()))
    assert decode_object(body) == expected


@pytest.mark.parametrize("name", NAMES)
def test_encodes_back_to_the_same_bytes(name: str) -> None:
    body = (FIXTURES / f"{name}.kubectl-1.33.pb").read_bytes()
    assert encode_object(decode_object(body)) == body


def test_explicit_zeros_and_empties_survive() -> None:
    deployment = decode_object((FIXTURES / "deployment.kubectl-1.33.pb").read_bytes())
    assert deployment["spec"]["replicas"] == 0  # *int32: zero was asked for
    assert "paused" not in deployment["spec"]  # bool, omitempty: gogo wrote false, JSON omits it
    assert "creationTimestamp" not in deployment["metadata"]
    secret = decode_object((FIXTURES / "secret.kubectl-1.33.pb").read_bytes())
    assert secret["data"] == {"pw": "", "user": "YWRtaW4="}  # []byte values as base64
