"""Bodies that are not Kubernetes protobuf are a 400 BadRequest, never another exception."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.protobuf import MAGIC, decode_object
from pocketkube.api.protobuf import wire as w

FIXTURES = Path(__file__).parent / "fixtures"
DEPLOYMENT = (FIXTURES / "deployment.kubectl-1.33.pb").read_bytes()


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = w.length_delimited(1, api_version.encode()) + w.length_delimited(2, kind.encode())
    return MAGIC + w.length_delimited(1, type_meta) + w.length_delimited(2, raw)


def name_field(value: bytes) -> bytes:
    return w.length_delimited(1, w.length_delimited(1, value))  # metadata {name: value}


CASES = [
    ("empty", b"", "empty data"),
    ("json", b'{"kind": "Pod"}', "provided data does not appear to be a protobuf message, "
                                  "expected prefix [107 56 115 0]"),
    ("magic only", MAGIC, "empty body"),
    ("unknown kind", envelope("v1", "Widget", b""),
     'no kind "Widget" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"'),
    ("kind in a version we do not serve", envelope("apps/v1beta1", "Deployment", b""),
     'no kind "Deployment" is registered for version "apps/v1beta1"'),
    ("no kind", MAGIC + w.length_delimited(2, b""), "Object 'Kind' is missing"),
    ("truncated envelope", DEPLOYMENT[:30], "unexpected EOF"),
    ("truncated object", envelope("v1", "ConfigMap", name_field(b"abc")[:-1]),
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: unexpected EOF'),
    ("wrong wire type", envelope("v1", "ConfigMap", w.varint_field(1, 5)),
     "proto: wrong wireType = 0 for field Metadata"),
    ("bad utf-8", envelope("v1", "ConfigMap", name_field(b"\xff\xfe")), "invalid UTF-8"),
    ("varint overflow", envelope("v1", "ConfigMap", w.key(4, 0) + b"\xff" * 10 + b"\x01"), "integer overflow"),
    ("group wire type", envelope("v1", "ConfigMap", w.key(1, 3)), "illegal wireType 3"),
    ("field number zero", envelope("v1", "ConfigMap", b"\x00\x00"), "illegal tag 0"),
    ("length past the end", envelope("v1", "ConfigMap", w.key(1, 2) + w.varint(1 << 40)), "unexpected EOF"),
    ("content encoding", envelope("v1", "ConfigMap", b"") + w.length_delimited(3, b"gzip"),
     "unsupported content encoding"),
    ("time out of range", envelope("v1", "ConfigMap", w.length_delimited(
        1, w.length_delimited(8, w.varint_field(1, 1 << 62)))), "cannot be handled as a ConfigMap"),
    ("raw extension not JSON", envelope("apps/v1", "ControllerRevision", w.length_delimited(
        2, w.length_delimited(1, b"{nope"))), "cannot be handled as a ControllerRevision"),
    ("embedded object not decodable", envelope("apps/v1", "ControllerRevision", w.length_delimited(
        2, w.length_delimited(1, MAGIC))), "empty body"),
]


@pytest.mark.parametrize(("what", "body", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_request(what: str, body: bytes, message: str) -> None:
    with pytest.raises(StatusError) as caught:
        decode_object(body)
    assert caught.value.code == 400
    assert caught.value.reason == "BadRequest"
    assert message in caught.value.message


def test_mutated_bodies_decode_or_are_bad_requests() -> None:
    """Flip, drop and insert bytes in real bodies: each either decodes or is a 400, nothing else."""
    rng = random.Random(1234)
    bodies = [p.read_bytes() for p in sorted(FIXTURES.glob("*.pb"))]
    outcomes = {"decoded": 0, "rejected": 0}
    for _ in range(3000):
        body = bytearray(rng.choice(bodies))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(4, len(body))
            action = rng.randrange(3)
            if action == 0:
                body[at] = rng.randrange(256)
            elif action == 1:
                del body[at]
            else:
                body.insert(at, rng.randrange(256))
        try:
            result = decode_object(bytes(body))
        except StatusError as exc:
            assert exc.code == 400
            outcomes["rejected"] += 1
        else:
            assert isinstance(result, dict)
            outcomes["decoded"] += 1
    assert outcomes["decoded"] and outcomes["rejected"]
