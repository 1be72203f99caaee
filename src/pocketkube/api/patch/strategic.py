"""Strategic merge patch (`application/strategic-merge-patch+json`), as kube-apiserver applies it.

What kubectl sends (`apply`'s three-way patch, `patch`, `edit`, `label`, `scale`, `set image`,
`rollout restart`) merges by the schema's patch metadata (see `typed`):

* maps merge key by key and `null` deletes; a field with patchStrategy `replace` is replaced;
* lists whose patchStrategy is `merge` merge by patchMergeKey (lists of scalars are unioned,
  duplicates dropped, first occurrence wins); every other list is replaced;
* directives: `$patch: replace|delete` in a map (replace it / empty it) or as a list item
  (replace the whole list / delete the item with that merge key), `$retainKeys` (drop every
  other key of the original map), `$deleteFromPrimitiveList/<f>` (remove values from list f),
  `$setElementOrder/<f>` (order list f: patch items in the given order, items only the server
  has keep their place relative to them, as apimachinery's mergeSortedSlice does).

Values the original does not have are cleaned before they are stored (nulls dropped, directives
applied against an empty original), which is what `IgnoreUnmatchedNulls` gives the server in
apimachinery. Nothing is mutated: touched maps and lists are copied, untouched ones are shared.
"""

from __future__ import annotations

from typing import Any

import orjson

from pocketkube.api.errors import bad_request, unsupported_media_type
from pocketkube.api.patch import typed
from pocketkube.api.patch.typed import TypeNode

CONTENT_TYPE = "application/strategic-merge-patch+json"
DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/"
SET_ELEMENT_ORDER = "$setElementOrder/"

_MISSING: Any = object()


class PatchError(Exception):
    """A malformed strategic merge patch; the server answers 400 BadRequest with its text."""


def apply_strategic_merge_patch(obj: dict[str, Any], patch: bytes | str | dict[str, Any],
                                group: str, version: str, kind: str) -> dict[str, Any]:
    """Apply a strategic merge patch to `obj` of the given kind.

    Kinds without a built-in schema (custom resources) do not accept strategic merge patch:
    kube-apiserver answers 415 UnsupportedMediaType, and so do we.
    """
    root = typed.root(group, version, kind)
    if root is None:
        raise unsupported_media_type(CONTENT_TYPE)
    if isinstance(patch, (bytes, str)):
        try:
            patch = orjson.loads(patch)
        except orjson.JSONDecodeError as e:
            raise bad_request(str(e)) from None
    if not isinstance(patch, dict):
        raise bad_request("invalid JSON document")
    return strategic_merge(obj, patch, root)


def strategic_merge(obj: dict[str, Any], patch: dict[str, Any], root: TypeNode) -> dict[str, Any]:
    """Merge with an explicit root type (UNTYPED gives plain merge-patch-like behaviour)."""
    try:
        return merge_map(obj, patch, root)
    except PatchError as e:
        raise bad_request(str(e)) from None


def merge_map(original: dict[str, Any] | None, patch: dict[str, Any], t: TypeNode) -> dict[str, Any]:
    directive = patch.get(DIRECTIVE, _MISSING)
    if directive is not _MISSING:
        if directive == "replace":
            rest = {k: v for k, v in patch.items() if k != DIRECTIVE}
            return merge_map(None, rest, t)
        if directive == "delete":
            return {}
        if directive != "merge":
            raise PatchError(f"Unknown patch type: {directive} in map: {patch}")
        patch = {k: v for k, v in patch.items() if k != DIRECTIVE}

    result: dict[str, Any] = dict(original) if original else {}
    retain = patch.get(RETAIN_KEYS, _MISSING)
    if retain is not _MISSING:
        result = _retain_keys(result, patch, retain)

    orders: list[tuple[str, Any]] = []
    for key, value in patch.items():
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            field = key[len(DELETE_FROM_PRIMITIVE_LIST):]
            if not isinstance(value, list):
                raise PatchError("invalid patch format of primitive list")
            current = result.get(field)
            if isinstance(current, list):
                result[field] = [x for x in current if x not in value]
        elif key.startswith(SET_ELEMENT_ORDER):
            if not isinstance(value, list):
                raise PatchError("invalid patch format of setElementOrder list")
            orders.append((key[len(SET_ELEMENT_ORDER):], value))

    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        ft = t.field(key)
        current = result.get(key)
        if current is None:
            result[key] = fresh(value, ft)
        elif isinstance(value, dict) and isinstance(current, dict):
            if ft.patch_strategy == "replace":
                result[key] = fresh(value, ft)
            else:
                result[key] = merge_map(current, value, ft)
        elif isinstance(value, list) and isinstance(current, list):
            result[key] = merge_list(current, value, ft) if ft.patch_strategy == "merge" else value
        else:
            result[key] = fresh(value, ft)

    for field, order in orders:
        merged = result.get(field)
        if isinstance(merged, list):
            server = original.get(field) if original else None
            result[field] = _normalize_order(merged, order, server if isinstance(server, list) else [],
                                             t.field(field).merge_key)
    return result


def _retain_keys(result: dict[str, Any], patch: dict[str, Any], retain: Any) -> dict[str, Any]:
    if not isinstance(retain, list):
        raise PatchError("invalid patch format of retainKeys")
    keep = set(retain)
    for key, value in patch.items():
        if value is None or key.startswith("$"):
            continue
        if key not in keep:
            raise PatchError("invalid patch format of retainKeys")
    return {k: v for k, v in result.items() if k in keep}


def fresh(value: Any, t: TypeNode) -> Any:
    """A patch value for a key the original lacks: nulls dropped, directives resolved."""
    if isinstance(value, dict):
        return merge_map(None, value, t)
    if isinstance(value, list):
        if t.patch_strategy == "merge":
            return merge_list([], value, t)
        item = t.item()
        return [fresh(v, item) if isinstance(v, dict) else v for v in value]
    return value


def merge_list(original: list[Any], patch: list[Any], t: TypeNode) -> list[Any]:
    """Merge two lists under patchStrategy merge."""
    if not original and not patch:
        return original
    sample = patch[0] if patch else original[0]
    if not isinstance(sample, dict):
        # Lists of scalars are a union that keeps the first occurrence of each value.
        out: list[Any] = []
        for v in (*original, *patch):
            if v not in out:
                out.append(v)
        return out

    key = t.merge_key
    if not key:
        raise PatchError("cannot merge lists without merge key")
    item_t = t.item()
    merged = list(original)
    items: list[dict[str, Any]] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"invalid list item {item!r}: expected a map")
        directive = item.get(DIRECTIVE, _MISSING)
        if directive is _MISSING:
            if key not in item:
                raise PatchError(f"map: {item} does not contain declared merge key: {key}")
            items.append(item)
        elif directive == "delete":
            if key not in item:
                raise PatchError(f"map: {item} does not contain declared merge key: {key}")
            merged = [o for o in merged if not (isinstance(o, dict) and o.get(key) == item[key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"Unknown patch type: {directive} in map: {item}")
    if replace:
        return [fresh(i, item_t) for i in items]
    for item in items:
        for i, o in enumerate(merged):
            if isinstance(o, dict) and o.get(key) == item[key]:
                merged[i] = merge_map(o, item, item_t)
                break
        else:
            merged.append(fresh(item, item_t))
    return merged


def _ident(item: Any, key: str | None) -> Any:
    return item.get(key) if key and isinstance(item, dict) else item


def _position(seq: list[Any], value: Any, key: str | None) -> int:
    for i, item in enumerate(seq):
        if _ident(item, key) == value:
            return i
    return -1


def _normalize_order(merged: list[Any], order: list[Any], server: list[Any], key: str | None) -> list[Any]:
    """Order `merged` by `$setElementOrder`, keeping server-only items where the server had them."""
    wanted = [_ident(o, key) for o in order]
    in_patch = [m for m in merged if _ident(m, key) in wanted]
    server_only = [m for m in merged if _ident(m, key) not in wanted]
    big = len(merged) + len(server) + 1
    in_patch.sort(key=lambda m: wanted.index(_ident(m, key)))
    server_only.sort(key=lambda m: p if (p := _position(server, _ident(m, key), key)) >= 0 else big)
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(in_patch):
        if j >= len(in_patch):
            out.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            out.append(in_patch[j])
            j += 1
        else:
            left = _position(server, _ident(server_only[i], key), key)
            right = _position(server, _ident(in_patch[j], key), key)
            if left >= 0 and right >= 0 and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(in_patch[j])
                j += 1
    return out
