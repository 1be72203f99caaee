"""ControllerRevisions of a StatefulSet: what a revision holds, its name, and which to keep.

As kube's history package: a revision's `data` is the patch `{"spec": {"template": {…, "$patch":
"replace"}}}`; its name is `<set>-<hash>`, the hash being FNV-1a (32 bit) of that data plus the
set's collisionCount, spelled with apimachinery's SafeEncodeString alphabet (no vowels, no 0/1/3).
A template that matches an older revision reuses it with a new, highest revision number (rollback);
history beyond `revisionHistoryLimit` is deleted, never a revision some pod still runs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import orjson

from pocketkube.api.hashing import fnv32a, safe_encode
from pocketkube.api.obj import Obj
from pocketkube.controllers.base import owner_reference

HASH_LABEL = "controller.kubernetes.io/hash"


def revision_data(sts: Obj) -> Obj:
    template = copy.deepcopy((sts.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def template_of(revision: Obj) -> Obj:
    template = dict(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def hash_revision(data: Obj, collision_count: int = 0) -> str:
    raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    if collision_count:
        raw += str(collision_count).encode()
    return safe_encode(str(fnv32a(raw)))


def number(revision: Obj) -> int:
    return int(revision.get("revision") or 0)


def next_number(revisions: Iterable[Obj]) -> int:
    return max((number(r) for r in revisions), default=0) + 1


def new_revision(sts: Obj, revision_number: int, collision_count: int = 0) -> Obj:
    data = revision_data(sts)
    md = sts["metadata"]
    labels = dict((((sts.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})
    labels[HASH_LABEL] = hash_revision(data, collision_count)
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": f"{md['name']}-{labels[HASH_LABEL]}", "namespace": md.get("namespace"),
                         "labels": labels, "ownerReferences": [owner_reference(sts)]},
            "data": data, "revision": revision_number}


def equal_revisions(revisions: Iterable[Obj], data: Obj) -> list[Obj]:
    """Revisions holding exactly `data`, oldest first."""
    return sorted((r for r in revisions if r.get("data") == data), key=number)


def history_to_delete(revisions: Iterable[Obj], live: set[str], limit: int) -> list[Obj]:
    """The oldest non-live revisions beyond `limit` (live: current, update, and any a pod runs)."""
    old = sorted((r for r in revisions if r["metadata"]["name"] not in live), key=number)
    return old[:max(0, len(old) - limit)]
