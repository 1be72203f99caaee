"""Field sets for server-side apply, in structured-merge-diff's terms.

A path is a tuple of path elements, each kept in its serialized `fieldsV1` spelling so that sets
are plain Python sets of tuples (fast union/difference, hashable, no parsing on the hot path):

* `f:<name>`  a struct field or map key;
* `k:<json>`  an element of an associative list (`x-kubernetes-list-type: map`), named by its key
  fields as a JSON object with keys sorted, e.g. `k:{"containerPort":80,"protocol":"TCP"}`;
* `v:<json>`  an element of a set list, named by its JSON value;
* `i:<n>`     an element by index (only for lists we cannot key).

`field_values` walks an object the way structured-merge-diff's ToFieldSet does: scalars and
atomic lists/maps are leaves; an element of a keyed list or of a granular map is itself a member
as well as its fields; a struct field is a member only when null or an empty map. It maps each
path to its value (or `NODE` for members whose content is tracked by their children), which is
what comparing two objects needs. `to_fields_v1`/`from_fields_v1` convert sets to and from the
managedFields trie, ordered as the Go serializer orders it: "." first, then fields by name, then
keys, values and indices.
"""

from __future__ import annotations

from typing import Any

import orjson

from pocketkube.api.patch.typed import LIST, MAP, SCALAR, STRUCT, UNTYPED_KIND, TypeNode

Path = tuple[str, ...]

NODE: Any = object()  # value marker: a member whose content its children describe

# Keys of associative lists that Kubernetes defaults (ports' protocol is "TCP").
_KEY_DEFAULTS = {"protocol": "TCP"}


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def item_element(item: Any, t: TypeNode, index: int) -> str:
    """The path element naming one element of list type `t`."""
    if t.list_type == "set":
        return "v:" + _json(item)
    if t.list_type == "map" and isinstance(item, dict):
        keys: dict[str, Any] = {}
        for name in t.map_keys:
            if name in item and item[name] is not None:
                keys[name] = item[name]
            elif name in t.defaults:
                keys[name] = t.defaults[name]
            elif name in _KEY_DEFAULTS:
                keys[name] = _KEY_DEFAULTS[name]
            else:
                return f"i:{index}"
        return "k:" + _json(keys)
    return f"i:{index}"


def _granular_map(t: TypeNode) -> bool:
    return t.kind in (STRUCT, MAP, UNTYPED_KIND) and t.map_type != "atomic"


def _granular_list(t: TypeNode) -> bool:
    return t.kind == LIST and t.list_type in ("map", "set")


def field_values(value: Any, t: TypeNode, nodes: bool = False) -> dict[Path, Any]:
    """Every path of `value` that a manager can own, mapped to its value (or NODE).

    With `nodes`, every struct field and list holding children is recorded too (as NODE): that
    is the view smd's Compare takes, where a map or list that appears is itself "added".
    """
    out: dict[Path, Any] = {}
    _walk(value, t, (), out, nodes)
    return out


def _walk(value: Any, t: TypeNode, path: Path, out: dict[Path, Any], nodes: bool) -> bool:
    """Record `value`'s paths; True when `value` was described by its children."""
    if value is None:
        return False
    if isinstance(value, dict) and _granular_map(t):
        for key, child in value.items():
            p = path + ("f:" + key,)
            described = _walk(child, t.field(key), p, out, nodes)
            if described:
                if nodes or not t.declares(key):
                    out[p] = NODE
            elif child is None or (isinstance(child, dict) and not child) or not t.declares(key):
                out[p] = child
        return bool(value)
    if isinstance(value, list) and _granular_list(t):
        item_t = t.item()
        for i, item in enumerate(value):
            p = path + (item_element(item, t, i),)
            described = _walk(item, item_t, p, out, nodes)
            out[p] = NODE if described else item
        return bool(value)
    if path:
        out[path] = value
    return False


def field_set(value: Any, t: TypeNode) -> set[Path]:
    return set(field_values(value, t))


# --- fieldsV1 -----------------------------------------------------------------------------------

def from_fields_v1(tree: dict[str, Any]) -> set[Path]:
    out: set[Path] = set()
    _read(tree, (), out)
    return out


def _read(tree: dict[str, Any], path: Path, out: set[Path]) -> None:
    for key, sub in tree.items():
        if key == ".":
            if path:
                out.add(path)
            continue
        p = path + (key,)
        if not sub:
            out.add(p)
        elif isinstance(sub, dict):
            _read(sub, p, out)


def _value_order(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, _json(value))


def element_order(element: str) -> tuple[Any, ...]:
    """Sort key matching structured-merge-diff's PathElement ordering."""
    kind, text = element[0], element[2:]
    if kind == "f":
        return (0, text)
    if kind == "k":
        return (1, tuple((k, _value_order(v)) for k, v in orjson.loads(text).items()))
    if kind == "v":
        return (2, _value_order(orjson.loads(text)))
    return (3, int(text) if text.isdigit() else text)


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    """The managedFields `fieldsV1` trie of a set of paths."""
    root: dict[str, Any] = {}
    members: set[int] = set()  # ids of trie nodes that are members themselves
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        members.add(id(node))
    return _emit(root, members, top=True)


def _emit(node: dict[str, Any], members: set[int], top: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not top and node and id(node) in members:
        out["."] = {}
    for key in sorted(node, key=element_order):
        out[key] = _emit(node[key], members)
    return out


# --- rendering and navigation ---------------------------------------------------------------------

def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return _json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return _json(value)


def path_string(path: Path) -> str:
    """A path as Kubernetes prints it in conflicts: .spec.containers[name="nginx"].image."""
    parts: list[str] = []
    for element in path:
        kind, text = element[0], element[2:]
        if kind == "f":
            parts.append("." + text)
        elif kind == "k":
            keys = orjson.loads(text)
            parts.append("[" + ",".join(f"{k}={_to_string(v)}" for k, v in keys.items()) + "]")
        elif kind == "v":
            parts.append("[=" + _to_string(orjson.loads(text)) + "]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)


def find_child(container: Any, element: str, t: TypeNode) -> tuple[Any, Any]:
    """(key or index, value) of `element` inside `container`, or (None, None) if absent."""
    if element.startswith("f:"):
        name = element[2:]
        if isinstance(container, dict) and name in container:
            return name, container[name]
        return None, None
    if isinstance(container, list):
        for i, item in enumerate(container):
            if item_element(item, t, i) == element:
                return i, item
    return None, None


def child_type(t: TypeNode, element: str) -> TypeNode:
    return t.field(element[2:]) if element.startswith("f:") else t.item()


def is_scalar(t: TypeNode) -> bool:
    return t.kind == SCALAR
