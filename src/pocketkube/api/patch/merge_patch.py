"""RFC 7386 JSON merge patch (`application/merge-patch+json`).

Objects merge key by key, `null` deletes a key, anything else (lists included) replaces. The input
object is never mutated; unchanged subtrees are shared with the result, which is safe because
callers treat objects as values.
"""

from __future__ import annotations

from typing import Any

import orjson

from pocketkube.api.errors import bad_request


def merge(target: Any, patch: Any) -> Any:
    """The RFC 7386 MergePatch function over JSON-shaped values."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = merge(result.get(key), value)
        else:
            result[key] = value
    return result


def apply_merge_patch(obj: dict[str, Any], patch: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Merge `patch` into `obj`; a body that is not a JSON object is a 400 as in kube-apiserver."""
    if isinstance(patch, (bytes, str)):
        try:
            patch = orjson.loads(patch)
        except orjson.JSONDecodeError as e:
            raise bad_request(str(e)) from None
    if not isinstance(patch, dict):
        raise bad_request("Invalid JSON Patch")
    result = merge(obj, patch)
    assert isinstance(result, dict)
    return result
