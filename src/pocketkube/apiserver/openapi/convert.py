"""Turn the JSON-schema flavoured definitions back into OpenAPI v2 and v3 schema objects.

`pocketkube.api.schema` loads the kubernetes-json-schema rendering of the 1.33 OpenAPI, which differs
from what kube-apiserver publishes in a few mechanical ways that we undo here:

* refs point at `#/$defs/X`; v2 wants `#/definitions/X`, v3 `#/components/schemas/X`;
* every optional field is nullable (`"type": ["string", "null"]`); OpenAPI has one type and no null;
* `apiVersion` and `kind` of each top-level kind carry an added `enum`, which kube never publishes;
* IntOrString and Quantity are `oneOf` two types: v3 keeps that (kube publishes it so), v2 has no
  oneOf and kube publishes them as strings (IntOrString with format `int-or-string`).

The walk knows which keys hold schemas (properties, items, additionalProperties, allOf/oneOf/anyOf)
and copies every other key verbatim, so a property that happens to be called `type` or `$ref` and the
contents of vendor extensions are never mistaken for keywords.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pocketkube.api import schema

Schema = dict[str, Any]

V2_PREFIX = "#/definitions/"
V3_PREFIX = "#/components/schemas/"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"

_SCHEMA_MAP_KEYS = ("properties", "patternProperties")
_SCHEMA_LIST_KEYS = ("allOf", "oneOf", "anyOf")


def _single_type(value: Any) -> Any:
    if isinstance(value, list):
        kinds = [t for t in value if t != "null"]
        return kinds[0] if len(kinds) == 1 else kinds
    return value


def _convert(node: Any, prefix: str, v3: bool) -> Any:
    if not isinstance(node, dict):
        return node
    out: Schema = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = prefix + value.removeprefix(schema.REF_PREFIX)
        elif key == "type":
            out[key] = _single_type(value)
        elif key in _SCHEMA_MAP_KEYS and isinstance(value, dict):
            out[key] = {name: _convert(sub, prefix, v3) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _convert(value, prefix, v3)
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [_convert(sub, prefix, v3) for sub in value]
        else:
            out[key] = value
    if v3 and "$ref" in out and len(out) > 1:
        # OpenAPI 3.0 ignores siblings of $ref; kube wraps the ref in allOf to keep the description.
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out


def convert_definition(name: str, v3: bool) -> Schema:
    """One definition in OpenAPI v2 (v3=False) or v3 form."""
    source = schema.definition(name)
    prefix = V3_PREFIX if v3 else V2_PREFIX
    out: Schema = _convert(source, prefix, v3)
    if "x-kubernetes-group-version-kind" in source:
        for field in ("apiVersion", "kind"):
            prop = out.get("properties", {}).get(field)
            if prop is not None:
                prop.pop("enum", None)
    if not v3 and name in (INT_OR_STRING, QUANTITY):
        out.pop("oneOf", None)
        out["type"] = "string"
        if name == INT_OR_STRING:
            out["format"] = "int-or-string"
    return out


def _refs(node: Any) -> Iterable[str]:
    """Definition names referenced anywhere below `node` (JSON-schema `#/$defs/` form)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str) and ref.startswith(schema.REF_PREFIX):
                yield ref.removeprefix(schema.REF_PREFIX)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def closure(roots: Iterable[str]) -> list[str]:
    """`roots` and every definition they reach, sorted by name."""
    seen: set[str] = set()
    pending = [r for r in roots]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(r for r in _refs(schema.definition(name)) if r not in seen)
    return sorted(seen)


def definitions(roots: Iterable[str], v3: bool) -> dict[str, Schema]:
    """The converted definitions reachable from `roots`, keyed by name."""
    return {name: convert_definition(name, v3) for name in closure(roots)}
