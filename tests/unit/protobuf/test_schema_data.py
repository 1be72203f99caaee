"""The generated message table is whole, agrees with the pinned OpenAPI, and is what the generator
writes today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pocketkube.api import schema
from pocketkube.api.protobuf import schema_data
from pocketkube.api.protobuf.catalog import INLINE, REPEATED, message_for
from pocketkube.api.resources import RESOURCES
from tests.support import requires

ROOT = Path(__file__).resolve().parents[3]
KUBECTL = Path("/usr/lib/google-cloud-sdk/bin/kubectl.1.33")
SCALARS = {"string", "bytes", "bool", "int32", "int64", "double"}
SPECIAL = {"time", "microtime", "quantity", "intorstring", "rawjson"}


def test_every_served_kind_and_request_kind_has_a_message() -> None:
    for res in RESOURCES:
        assert message_for(res.api_version, res.kind) in schema_data.MESSAGES, res.kind
    for api_version, kind in [("autoscaling/v1", "Scale"), ("policy/v1", "Eviction"), ("v1", "Binding"),
                              ("authentication.k8s.io/v1", "TokenRequest"), ("v1", "DeleteOptions")]:
        assert message_for(api_version, kind) in schema_data.MESSAGES, kind


def _properties(message: str) -> dict[str, object]:
    group = "api" if not message.startswith("meta.") else "apimachinery.pkg.apis"
    definition = schema.definitions().get(f"io.k8s.{group}.{message}")
    if definition is None:  # only ever inlined (VolumeSource): its JSON properties are its parent's
        parents = [name for name, fields in schema_data.MESSAGES.items()
                   if any(f[3] == message and f[4] & INLINE for f in fields)]
        assert parents, message
        return _properties(parents[0])
    properties: dict[str, object] = definition.get("properties", {})
    return properties


@pytest.mark.parametrize("message", sorted(schema_data.MESSAGES))
def test_fields_are_well_formed_and_named_as_in_openapi(message: str) -> None:
    fields = schema_data.MESSAGES[message]
    numbers = [f[0] for f in fields]
    assert numbers == sorted(set(numbers))
    properties = _properties(message)
    for _, name, kind, ref, flags in fields:
        if kind == "message":
            assert ref in schema_data.MESSAGES
        elif kind == "map":
            assert ref in SCALARS | SPECIAL or ref in schema_data.MESSAGES
            assert not flags & REPEATED
        else:
            assert kind in SCALARS | SPECIAL and not ref
        if flags & INLINE:
            assert kind == "message" and name not in properties
        else:
            assert name in properties, f"{message}.{name}"


def test_generated_module_is_current(tmp_path: Path) -> None:
    requires.path(KUBECTL, "kubectl 1.33 (Google Cloud SDK), the generator's input")
    fresh = tmp_path / "schema_data.py"
    subprocess.run([sys.executable, str(ROOT / "scripts/gen_protobuf_schema.py"), str(KUBECTL), str(fresh)],
                   check=True, capture_output=True)
    assert fresh.read_text() == (ROOT / "src/pocketkube/api/protobuf/schema_data.py").read_text()
