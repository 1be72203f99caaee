"""The pod-template-hash: names a Deployment's ReplicaSets and labels their pods.

Like kube's ComputeHash: FNV-1a (32-bit) over a canonical form of the template, then the
collision count as 8 little-endian bytes, then the decimal digits mapped onto apimachinery's
safe alphabet. The canonical form here is sorted-key JSON (kube hashes Go's spew dump, so the
values differ from kube's; they are stable across restarts, which is what matters).
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from pocketkube.api.hashing import fnv32a, safe_encode
from pocketkube.api.obj import Obj

HASH_LABEL = "pod-template-hash"


def normalized(value: Any) -> Any:
    """Drop nulls and empty maps/lists, as Go's typed semantic equality does not see them (kubectl sends
    `creationTimestamp: null` in templates, e.g. on `rollout undo`)."""
    if isinstance(value, dict):
        out = {k: normalized(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def compute_hash(template: Obj, collision_count: int | None = None) -> str:
    data = orjson.dumps(normalized(template), option=orjson.OPT_SORT_KEYS)
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\0\0\0\0"
    return safe_encode(str(fnv32a(data)))


def without_hash(template: Obj) -> Obj:
    out = copy.deepcopy(template or {})
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return out


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    """Templates equal apart from the hash label (kube's EqualIgnoreHash)."""
    return bool(normalized(without_hash(a)) == normalized(without_hash(b)))
