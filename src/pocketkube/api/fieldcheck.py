"""Unknown-field detection for `fieldValidation=Strict|Warn`, as kube-apiserver's strict decoder does.

kube decodes a request body into Go structs with a decoder that records every JSON key that matches
no struct field; with Strict the request fails with

    strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].x"

and with Warn each path becomes a `Warning` header. We reach the same answer by walking the object
against the published schema: an object with `properties` is a struct (other keys are unknown); one
with `additionalProperties` is a map (any key, values checked); an object schema with neither, or
with `x-kubernetes-preserve-unknown-fields`, is free-form (RawExtension, FieldsV1, JSON) and accepts
anything. Type mismatches are not our concern here: validation reports those.

Each definition is compiled once into a small `_Shape` tree (cycles, such as JSONSchemaProps, are
closed through the cache), so a check is a plain walk over the object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pocketkube.api import schema

_STRUCT, _MAP, _LIST, _ANY, _SCALAR = "struct", "map", "list", "any", "scalar"


@dataclass(eq=False)
class _Shape:
    form: str = _SCALAR
    fields: dict[str, _Shape] = field(default_factory=dict)  # struct: field name → shape
    element: _Shape | None = None  # map value / list item


_ANY_SHAPE = _Shape(_ANY)
_SCALAR_SHAPE = _Shape(_SCALAR)
_BY_DEFINITION: dict[str, _Shape] = {}


def _types(node: dict[str, Any]) -> set[str]:
    value = node.get("type")
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def _compile(node: dict[str, Any]) -> _Shape:
    ref = node.get("$ref")
    if ref is None and len(node.get("allOf", ())) == 1:
        ref = node["allOf"][0].get("$ref")
    if isinstance(ref, str):
        return _definition_shape(ref.removeprefix(schema.REF_PREFIX))
    return _fill(_Shape(), node)


def _definition_shape(name: str) -> _Shape:
    shape = _BY_DEFINITION.get(name)
    if shape is None:
        # Registered before filling, so a definition that reaches itself finds this same object.
        shape = _BY_DEFINITION[name] = _Shape()
        _fill(shape, schema.definition(name))
    return shape


def _fill(shape: _Shape, node: dict[str, Any]) -> _Shape:
    types = _types(node)
    if node.get("x-kubernetes-preserve-unknown-fields") or "oneOf" in node or "anyOf" in node:
        shape.form = _ANY
    elif "properties" in node:
        shape.form = _STRUCT
        shape.fields = {name: _compile(sub) for name, sub in node["properties"].items()}
    elif isinstance(node.get("additionalProperties"), dict):
        shape.form = _MAP
        shape.element = _compile(node["additionalProperties"])
    elif "items" in node and isinstance(node["items"], dict):
        shape.form = _LIST
        shape.element = _compile(node["items"])
    elif "object" in types or not types:
        shape.form = _ANY  # free-form object (RawExtension, FieldsV1) or untyped (JSON)
    else:
        shape.form = _SCALAR
    return shape


def _walk(shape: _Shape, value: Any, path: str, out: list[str], prune: bool) -> None:
    if shape.form == _STRUCT:
        if not isinstance(value, dict):
            return
        unknown = []
        for key, sub in value.items():
            child = shape.fields.get(key)
            child_path = f"{path}.{key}" if path else key
            if child is None:
                out.append(child_path)
                unknown.append(key)
            elif child.form not in (_ANY, _SCALAR):
                _walk(child, sub, child_path, out, prune)
        if prune:
            for key in unknown:
                del value[key]
    elif shape.form == _MAP:
        element = shape.element
        if isinstance(value, dict) and element is not None and element.form not in (_ANY, _SCALAR):
            for key, sub in value.items():
                _walk(element, sub, f"{path}.{key}" if path else key, out, prune)
    elif shape.form == _LIST:
        element = shape.element
        if isinstance(value, list) and element is not None and element.form not in (_ANY, _SCALAR):
            for index, sub in enumerate(value):
                _walk(element, sub, f"{path}[{index}]", out, prune)


def _check(group: str, version: str, kind: str, obj: dict[str, Any], prune: bool) -> list[str]:
    name = schema.definition_name(group, version, kind)
    if name is None:
        return []
    out: list[str] = []
    _walk(_definition_shape(name), obj, "", out, prune)
    return out


def unknown_fields(group: str, version: str, kind: str, obj: dict[str, Any]) -> list[str]:
    """Paths of the fields in `obj` that the kind's schema does not know, in document order.

    A kind without a schema is treated as free-form (nothing is unknown).
    """
    return _check(group, version, kind, obj, prune=False)


def prune_unknown_fields(group: str, version: str, kind: str, obj: dict[str, Any]) -> list[str]:
    """Drop the unknown fields from `obj` in place, as kube's decoder does outside Strict mode;
    returns their paths."""
    return _check(group, version, kind, obj, prune=True)


def strict_error_message(paths: list[str]) -> str:
    """The message of kube's BadRequest for fieldValidation=Strict."""
    return "strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in paths)


def warning(path: str) -> str:
    """The text of one `Warning` header for fieldValidation=Warn (kube: `299 - "unknown field …"`)."""
    return f'unknown field "{path}"'
