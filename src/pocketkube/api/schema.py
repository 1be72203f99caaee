"""The Kubernetes API schemas, from the `kubernetes-validate` package.

That package ships the JSON-schema form of each release's OpenAPI definitions, including the
`x-kubernetes-*` extensions that drive strategic merge patch and server-side apply. We load one
release lazily (1.4 MB of JSON, read once) and hand out its definitions by name or by GVK.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import orjson

KUBE_VERSION = "1.33.0"
REF_PREFIX = "#/$defs/"

Schema = dict[str, Any]


@functools.cache
def definitions() -> dict[str, Schema]:
    """Every definition of the pinned release, keyed like `io.k8s.api.core.v1.Pod`."""
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{KUBE_VERSION}-local"
    data = orjson.loads((root / "_definitions.json").read_bytes())
    defs: dict[str, Schema] = data["$defs"]
    return defs


@functools.cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            index.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return index


def definition_name(group: str, version: str, kind: str) -> str | None:
    """The definition name of a kind, e.g. ("apps", "v1", "Deployment") → io.k8s.api.apps.v1.Deployment."""
    return _gvk_index().get((group, version, kind))


def definition(name: str) -> Schema:
    return definitions()[name]


def resolve(node: Schema) -> Schema:
    """Follow `$ref` (possibly through `allOf: [{$ref}]`) to the schema it names."""
    while True:
        ref = node.get("$ref")
        if ref is None and len(node.get("allOf", ())) == 1:
            ref = node["allOf"][0].get("$ref")
        if ref is None:
            return node
        node = definitions()[ref.removeprefix(REF_PREFIX)]


def schema_for(group: str, version: str, kind: str) -> Schema | None:
    name = definition_name(group, version, kind)
    return definitions()[name] if name else None
