"""A walker over the Kubernetes schemas that says how each field merges.

Strategic merge patch and server-side apply both descend an object and, at every node, need the
same few facts: is it a struct (named properties), a map (additionalProperties) or a list, and
how does it merge (list type and keys, patch strategy and merge key, map type). `TypeNode` answers
them for one schema node and hands out its children lazily; children are memoized on the node
and roots on the GVK, so a walk costs a dict lookup per step after the first patch of a kind.

Where the schema says nothing (unknown fields, RawExtension, preserve-unknown-fields) we return
`UNTYPED`, whose rules are Kubernetes' fallback for deduced types: maps merge, lists are atomic.
"""

from __future__ import annotations

import functools
from typing import Any

from pocketkube.api import schema

STRUCT = "struct"
MAP = "map"
LIST = "list"
SCALAR = "scalar"
UNTYPED_KIND = "untyped"

# Cache keys for a map's value type and a list's item type; no field name can collide with them.
_VALUES: Any = object()
_ITEMS: Any = object()

_EXTENSIONS = (
    "x-kubernetes-patch-strategy",
    "x-kubernetes-patch-merge-key",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
)


def _types(node: dict[str, Any]) -> tuple[str, ...]:
    t = node.get("type")
    if t is None:
        return ()
    return (t,) if isinstance(t, str) else tuple(t)


class TypeNode:
    """Merge facts about one node of a schema; children are computed on first use."""

    __slots__ = ("kind", "list_type", "map_keys", "strategies", "merge_key", "map_type", "defaults",
                 "_properties", "_items", "_values", "_children")

    def __init__(self, node: dict[str, Any] | None) -> None:
        self._children: dict[Any, TypeNode] = {}
        self._properties: dict[str, Any] = {}
        self._items: dict[str, Any] | None = None
        self._values: dict[str, Any] | None = None
        self.defaults: dict[str, Any] = {}
        if node is None:
            self._set_untyped()
            return
        # Extensions may sit on the property (next to `$ref`) or on the referenced definition;
        # the property's word wins, as in Kubernetes' OpenAPI.
        ext = {k: node[k] for k in _EXTENSIONS if k in node}
        resolved = schema.resolve(node)
        for k in _EXTENSIONS:
            if k not in ext and k in resolved:
                ext[k] = resolved[k]
        strategy = ext.get("x-kubernetes-patch-strategy", "")
        self.strategies: tuple[str, ...] = tuple(s for s in strategy.split(",") if s)
        self.merge_key: str | None = ext.get("x-kubernetes-patch-merge-key")
        self.map_type: str = ext.get("x-kubernetes-map-type", "granular")
        self.list_type: str = ext.get("x-kubernetes-list-type", "")
        self.map_keys: tuple[str, ...] = tuple(ext.get("x-kubernetes-list-map-keys", ()))
        if not self.list_type:
            # Like kube-openapi's schema conversion: a list that strategic merge patch merges by a
            # key is an associative list for apply too; merged scalars form a set.
            if "merge" in self.strategies:
                self.list_type = "map" if self.merge_key else "set"
                self.map_keys = (self.merge_key,) if self.merge_key else ()
            else:
                self.list_type = "atomic"
        types = _types(resolved)
        if resolved.get("x-kubernetes-preserve-unknown-fields") and "properties" not in resolved:
            self._set_untyped()
        elif "properties" in resolved:
            self.kind = STRUCT
            self._properties = resolved["properties"]
        elif isinstance(resolved.get("additionalProperties"), dict):
            self.kind = MAP
            self._values = resolved["additionalProperties"]
        elif "array" in types:
            self.kind = LIST
            self._items = resolved.get("items")
            if self.list_type == "map" and self._items is not None:
                props = schema.resolve(self._items).get("properties", {})
                self.defaults = {k: props[k]["default"] for k in self.map_keys
                                 if k in props and "default" in props[k]}
        elif "object" in types:
            self._set_untyped()
        else:
            self.kind = SCALAR

    def _set_untyped(self) -> None:
        self.kind = UNTYPED_KIND
        self.strategies = ()
        self.merge_key = None
        self.map_type = "granular"
        self.list_type = "atomic"
        self.map_keys = ()

    # --- merge facts -------------------------------------------------------------------------

    @property
    def patch_strategy(self) -> str:
        """The list/map strategy without retainKeys: "merge", "replace" or ""."""
        for s in self.strategies:
            if s != "retainKeys":
                return s
        return ""

    @property
    def retain_keys(self) -> bool:
        return "retainKeys" in self.strategies

    @property
    def atomic(self) -> bool:
        """Server-side apply owns this node as a whole (atomic list, atomic map or struct)."""
        if self.kind == LIST:
            return self.list_type == "atomic"
        if self.kind in (STRUCT, MAP):
            return self.map_type == "atomic"
        return self.kind == SCALAR

    def declares(self, name: str) -> bool:
        """Whether `name` is a named property of this struct (maps and untyped maps declare none)."""
        return name in self._properties

    # --- descent -----------------------------------------------------------------------------

    def field(self, name: str) -> TypeNode:
        """The type of a struct field or map value."""
        if self.kind != STRUCT:
            # Every key of a map shares one value type; keying the cache by name would grow
            # without bound on labels and annotations.
            if self.kind != MAP:
                return UNTYPED
            name = _VALUES
        child = self._children.get(name)
        if child is None:
            child = TypeNode(self._values if name is _VALUES else self._properties.get(name))
            self._children[name] = child
        return child

    def item(self) -> TypeNode:
        """The type of a list element."""
        if self.kind != LIST:
            return UNTYPED
        child = self._children.get(_ITEMS)
        if child is None:
            child = TypeNode(self._items)
            self._children[_ITEMS] = child
        return child

    def __repr__(self) -> str:
        return (f"TypeNode({self.kind}, list_type={self.list_type}, keys={self.map_keys}, "
                f"strategies={self.strategies}, merge_key={self.merge_key}, map_type={self.map_type})")


UNTYPED = TypeNode(None)


@functools.cache
def root(group: str, version: str, kind: str) -> TypeNode | None:
    """The root type of a kind, or None when the pinned schemas do not know it (e.g. CRDs)."""
    name = schema.definition_name(group, version, kind)
    if name is None:
        return None
    return TypeNode(schema.definition(name))


def root_or_untyped(group: str, version: str, kind: str) -> TypeNode:
    return root(group, version, kind) or UNTYPED
