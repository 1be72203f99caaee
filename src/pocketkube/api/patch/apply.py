"""Server-side apply (`application/apply-patch+yaml`), after structured-merge-diff's Updater.Apply.

1. Merge the applied configuration into the live object by the schema: structs and granular maps
   merge per key, associative lists (`map`) per element key, `set` lists per value, atomic lists
   and maps are replaced; list order follows smd (shared items in the config's order, live-only
   items keep their place).
2. The applier's entry becomes exactly the field set of its configuration.
3. Fields the applier owned last time but no longer applies are removed from the object, unless
   another manager owns them (or something beneath them); key fields of a kept list item stay.
4. Compare live with the result: fields another manager owns that this apply added or changed
   are conflicts → 409 with one `FieldManagerConflict` cause each, unless `force`, which moves
   them to the applier. Fields the result no longer has are dropped from every manager.

Status: for the main resource the configuration's `status` is dropped before merging and never
owned (kube resets it there anyway); for the status subresource only `status` is owned.
"""

from __future__ import annotations

from typing import Any

from pocketkube.api.errors import StatusError, bad_request
from pocketkube.api.patch import typed
from pocketkube.api.patch.fieldpath import (
    Path,
    child_type,
    field_values,
    find_child,
    item_element,
    path_string,
)
from pocketkube.api.patch.fieldpath import element_order as _element_order
from pocketkube.api.patch.managed_fields import (
    APPLY,
    Entry,
    api_version_of,
    comparable,
    compare,
    decode,
    describe_manager,
    encode,
    entry_key,
    owned,
    without_managed_fields,
)
from pocketkube.api.patch.typed import LIST, MAP, STRUCT, UNTYPED_KIND, TypeNode


def server_side_apply(live: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool,
                      group: str, version: str, kind: str, now: str,
                      subresource: str = "") -> dict[str, Any]:
    """The object after `manager` applies `applied` to `live` (None: create), with managedFields."""
    if not manager:
        raise bad_request("PATCH, application/apply-patch+yaml requests must include a fieldManager")
    meta = applied.get("metadata")
    if isinstance(meta, dict) and meta.get("managedFields"):
        raise bad_request("metadata.managedFields must be nil")
    t = typed.root_or_untyped(group, version, kind)
    config = dict(applied)
    if subresource == "":
        config.pop("status", None)
    managers = decode(((live or {}).get("metadata") or {}).get("managedFields"))
    base = without_managed_fields(live)

    merged = merge_values(base, config, t)
    config_paths = set(owned(field_values(config, t), subresource))
    key = entry_key(manager, APPLY, "", subresource)
    mine = managers.get(key)
    last = mine.paths if mine else set()
    entry = mine or Entry(manager, APPLY, "", subresource)
    entry.api_version = api_version_of(group, version)
    entry.paths = set(config_paths)
    managers[key] = entry

    stale = last - config_paths
    if stale:
        kept: set[Path] = set(config_paths)
        for other in managers.values():
            if other is not entry:
                kept |= other.paths
        merged = prune(merged, stale, kept, t)

    changed, removed = compare(owned(field_values(comparable(live, t), t, nodes=True), subresource),
                               owned(field_values(comparable(merged, t), t, nodes=True), subresource))
    conflicts = {k: e.paths & changed for k, e in managers.items() if e is not entry and e.paths & changed}
    if conflicts and not force:
        raise conflict_error([(managers[k], conflicts[k]) for k in sorted(conflicts)])
    for other in managers.values():
        if other is not entry:
            other.paths -= changed
            other.paths -= removed
    if changed or removed or mine is None or entry.time is None:
        entry.time = now or None

    out = dict(merged)
    out_meta = dict(out.get("metadata") or {})
    encoded = encode(managers)
    if encoded:
        out_meta["managedFields"] = encoded
    else:
        out_meta.pop("managedFields", None)
    out["metadata"] = out_meta
    return out


def conflict_error(conflicts: list[tuple[Entry, set[Path]]]) -> StatusError:
    """409 Conflict worded as kube-apiserver's NewConflictError."""
    causes: list[dict[str, Any]] = []
    lines: list[str] = []
    for entry, paths in conflicts:
        who = describe_manager(entry)
        lines.append(f"conflicts with {who}:")
        for path in sorted(paths, key=lambda p: tuple(_element_order(e) for e in p)):
            rendered = path_string(path)
            causes.append({"reason": "FieldManagerConflict", "message": f"conflict with {who}",
                           "field": rendered})
            lines.append(f"- {rendered}")
    if len(causes) == 1:
        message = f"Apply failed with 1 conflict: {causes[0]['message']}: {causes[0]['field']}"
    else:
        message = f"Apply failed with {len(causes)} conflicts: " + "\n".join(lines)
    return StatusError(409, "Conflict", message, {"causes": causes})


# --- merge ---------------------------------------------------------------------------------------

def _granular_map(t: TypeNode) -> bool:
    return t.kind in (STRUCT, MAP, UNTYPED_KIND) and t.map_type != "atomic"


def merge_values(lhs: Any, rhs: Any, t: TypeNode) -> Any:
    """Merge the applied value `rhs` over the live value `lhs` (rhs wins at the leaves)."""
    if isinstance(rhs, dict) and isinstance(lhs, dict) and _granular_map(t):
        out = dict(lhs)
        for key, value in rhs.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge_values(out[key], value, t.field(key))
            else:
                out[key] = value
        return out
    if isinstance(rhs, list) and isinstance(lhs, list) and t.kind == LIST and t.list_type in ("map", "set"):
        return _merge_lists(lhs, rhs, t)
    return rhs


def _merge_lists(lhs: list[Any], rhs: list[Any], t: TypeNode) -> list[Any]:
    """smd's list merge: shared items follow rhs order, lhs-only items keep their place."""
    item_t = t.item()
    lkeys = [item_element(v, t, i) for i, v in enumerate(lhs)]
    rkeys = [item_element(v, t, i) for i, v in enumerate(rhs)]
    lmap = dict(zip(reversed(lkeys), reversed(lhs), strict=True))  # first occurrence wins
    rmap = dict(zip(rkeys, rhs, strict=True))
    shared = [k for k in rkeys if k in lmap]
    next_shared = 0
    done: set[str] = set()
    out: list[Any] = []
    li = ri = 0
    while li < len(lkeys) or ri < len(rkeys):
        if li < len(lkeys) and ri < len(rkeys) and lkeys[li] == rkeys[ri]:
            k = lkeys[li]
            done.add(k)
            out.append(merge_values(lmap[k], rmap[k], item_t))
            li += 1
            ri += 1
            if next_shared < len(shared) and shared[next_shared] == k:
                next_shared += 1
            continue
        if li < len(lkeys):
            k = lkeys[li]
            if k in rmap and ri < len(rkeys) and next_shared < len(shared) and shared[next_shared] != k:
                li += 1  # a shared item, but not the one due now: it is taken in rhs order
                continue
            if k not in rmap:
                out.append(lhs[li])
                li += 1
                continue
            if k in done:
                li += 1
                continue
        if ri < len(rkeys):
            k = rkeys[ri]
            done.add(k)
            out.append(merge_values(lmap[k], rmap[k], item_t) if k in lmap else rmap[k])
            ri += 1
            if next_shared < len(shared) and shared[next_shared] == k:
                next_shared += 1
        else:
            li += 1
    return out


# --- prune ---------------------------------------------------------------------------------------

def prune(obj: dict[str, Any], stale: set[Path], kept: set[Path], t: TypeNode) -> dict[str, Any]:
    """Remove the stale paths nobody else owns; parents before children, copying as we go."""
    protected: set[Path] = set()
    for path in kept:
        for i in range(1, len(path) + 1):
            protected.add(path[:i])
    for path in sorted(stale, key=len):
        if path in protected:
            continue
        if len(path) >= 2 and path[-1].startswith("f:") and path[-2].startswith("k:") and \
                f'"{path[-1][2:]}":' in path[-2] and path[:-1] in protected:
            continue  # a key field of a list item someone still owns
        obj = _remove(obj, path, t)
    return obj


def _remove(container: Any, path: Path, t: TypeNode) -> Any:
    """A copy of `container` without `path` (unchanged if the path is absent)."""
    key, child = find_child(container, path[0], t)
    if key is None:
        return container
    if len(path) == 1:
        if isinstance(container, dict):
            return {k: v for k, v in container.items() if k != key}
        return [v for i, v in enumerate(container) if i != key]
    new_child = _remove(child, path[1:], child_type(t, path[0]))
    if new_child is child:
        return container
    copy = dict(container) if isinstance(container, dict) else list(container)
    copy[key] = new_child
    return copy
