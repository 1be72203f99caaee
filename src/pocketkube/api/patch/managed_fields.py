"""`metadata.managedFields`: who owns which fields, and how an ordinary write changes that.

A manager is the tuple (manager, operation, apiVersion, subresource); for `Apply` entries the
apiVersion is not part of the identity (an applier stays one manager across versions), exactly as
kube-apiserver's BuildManagerIdentifier. Entries are decoded into `Managers` (identity → Entry with
a set of paths, see `fieldpath`), changed with set algebra, and encoded back sorted as Kubernetes
sorts them (Apply before Update, then by time, manager, apiVersion, subresource).

An Update (create/update/patch) runs like structured-merge-diff's Updater.Update plus the
"current-operation" trick of kube's managedFieldsUpdater: the fields the write added or changed
are taken from every other manager and given to this one; fields the write removed are dropped
from everyone; the manager's entry and time change only when the write changed something.

Never owned (kube's stripMeta set, plus deletion fields that only the server writes): apiVersion,
kind, metadata itself and its name, namespace, uid, resourceVersion, generation,
creationTimestamp, selfLink, managedFields, deletionTimestamp, deletionGracePeriodSeconds.
Reset fields (owned by nobody through this endpoint): `status` for the main resource, everything
but `status` for the status subresource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from pocketkube.api.patch import typed
from pocketkube.api.patch.fieldpath import NODE, Path, field_values, from_fields_v1, to_fields_v1

APPLY = "Apply"
UPDATE = "Update"

STRIPPED: frozenset[Path] = frozenset({
    ("f:apiVersion",), ("f:kind",), ("f:metadata",),
    *(("f:metadata", "f:" + name) for name in (
        "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
        "selfLink", "managedFields", "clusterName", "deletionTimestamp", "deletionGracePeriodSeconds")),
})

Key = tuple[str, str, str, str]  # (manager, operation, apiVersion or "" for Apply, subresource)


@dataclass
class Entry:
    manager: str
    operation: str
    api_version: str
    subresource: str = ""
    time: str | None = None
    paths: set[Path] = field(default_factory=set)

    @property
    def key(self) -> Key:
        return entry_key(self.manager, self.operation, self.api_version, self.subresource)

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {"manager": self.manager, "operation": self.operation,
                               "apiVersion": self.api_version}
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = to_fields_v1(self.paths)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


Managers = dict[Key, Entry]


def entry_key(manager: str, operation: str, api_version: str, subresource: str = "") -> Key:
    return (manager, operation, "" if operation == APPLY else api_version, subresource)


def describe_manager(entry: Entry) -> str:
    """How conflict messages name a manager (kube's printManager)."""
    text = orjson.dumps(entry.manager).decode()
    if entry.subresource:
        text += f' with subresource {orjson.dumps(entry.subresource).decode()}'
    if entry.operation == UPDATE:
        text += f" using {entry.api_version}"
    return text


def api_version_of(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def decode(entries: Any) -> Managers:
    """Managers from a managedFields list; malformed entries are skipped."""
    managers: Managers = {}
    if not isinstance(entries, list):
        return managers
    for raw in entries:
        if not isinstance(raw, dict) or not isinstance(raw.get("fieldsV1", {}), dict):
            continue
        entry = Entry(str(raw.get("manager", "")), str(raw.get("operation", "")),
                      str(raw.get("apiVersion", "")), str(raw.get("subresource", "")),
                      raw.get("time"), from_fields_v1(raw.get("fieldsV1") or {}))
        previous = managers.get(entry.key)
        if previous is not None:
            previous.paths |= entry.paths
        else:
            managers[entry.key] = entry
    return managers


def encode(managers: Managers) -> list[dict[str, Any]]:
    live = [e for e in managers.values() if e.paths]
    live.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    return [e.encode() for e in live]


def is_reset(entries: Any) -> bool:
    """`managedFields: [{}]` is how a client asks to clear the field ownership."""
    return isinstance(entries, list) and len(entries) > 0 and all(e == {} for e in entries)


def is_ignored(path: Path, subresource: str) -> bool:
    if path in STRIPPED:
        return True
    if subresource == "status":
        return path[0] != "f:status"
    return subresource == "" and path[0] == "f:status"


def owned(values: dict[Path, Any], subresource: str) -> dict[Path, Any]:
    return {p: v for p, v in values.items() if not is_ignored(p, subresource)}


def without_managed_fields(obj: dict[str, Any] | None) -> dict[str, Any]:
    """A shallow copy of `obj` whose metadata lacks managedFields (never part of a field set)."""
    if not obj:
        return {}
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return obj


def compare(old: dict[Path, Any], new: dict[Path, Any]) -> tuple[set[Path], set[Path]]:
    """(added or modified, removed) paths between two field-value maps."""
    changed = {p for p, v in new.items() if p not in old or _differs(old[p], v)}
    removed = {p for p in old if p not in new}
    return changed, removed


def _differs(a: Any, b: Any) -> bool:
    # A node's content is compared through its children; null → list is not itself a change.
    if a is NODE or b is NODE:
        return False
    return bool(a != b or type(a) is not type(b))


def empty_object(t: typed.TypeNode) -> dict[str, Any]:
    """What kube compares a create against: the kind's zero value as Go serializes it.

    Go always writes non-pointer structs, so metadata, spec, status and a pod template's
    metadata/spec exist (empty) and `containers` is null; fields under them then count as added
    one by one rather than their parents as new nodes.
    """
    obj: dict[str, Any] = {}
    for name in ("metadata", "spec", "status"):
        if t.declares(name):
            obj[name] = {}
    spec_t = t.field("spec")
    if spec_t.declares("template"):
        obj["spec"]["template"] = {"metadata": {}, "spec": {"containers": None}}
    elif spec_t.declares("containers"):
        obj["spec"]["containers"] = None
    return obj


def comparable(obj: dict[str, Any] | None, t: typed.TypeNode) -> dict[str, Any]:
    """`obj` without managedFields and with Go's always-present top-level structs filled in."""
    if not obj:
        return empty_object(t)
    obj = without_managed_fields(obj)
    missing = [n for n in ("metadata", "spec", "status") if n not in obj and t.declares(n)]
    if missing:
        obj = {**obj, **{n: {} for n in missing}}
    return obj


def update_managed_fields(old: dict[str, Any] | None, new: dict[str, Any], manager: str,
                          operation: str = UPDATE, group: str = "", version: str = "v1", kind: str = "",
                          now: str = "", subresource: str = "") -> None:
    """Record in `new.metadata.managedFields` (in place) what this create/update/patch changed."""
    meta = new.setdefault("metadata", {})
    incoming = meta.get("managedFields")
    if is_reset(incoming):
        meta.pop("managedFields", None)
        return
    old_meta = (old or {}).get("metadata") or {}
    if incoming and not subresource:
        managers = decode(incoming)  # a client may write managedFields directly
    else:
        managers = decode(old_meta.get("managedFields"))
    t = typed.root_or_untyped(group, version, kind)
    old_values = owned(field_values(comparable(old, t), t, nodes=True), subresource)
    new_values = owned(field_values(comparable(new, t), t, nodes=True), subresource)
    changed, removed = compare(old_values, new_values)

    for entry in managers.values():
        entry.paths -= changed
        entry.paths -= removed
    if changed:
        api_version = api_version_of(group, version)
        key = entry_key(manager, operation, api_version, subresource)
        entry = managers.get(key) or Entry(manager, operation, api_version, subresource)
        entry.paths |= changed
        entry.api_version = api_version
        entry.time = now or None
        managers[key] = entry
    encoded = encode(managers)
    if encoded:
        meta["managedFields"] = encoded
    else:
        meta.pop("managedFields", None)
