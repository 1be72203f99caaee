"""RFC 6902 JSON patch (`application/json-patch+json`), with kube-apiserver's error mapping.

kube-apiserver decodes the patch first (a body that is not a JSON array of operations → 400
BadRequest), caps it at 10000 operations (413), then applies it; any failure while applying (a
`test` that fails, a path that does not exist, an unknown op) is a 422 whose message is the generic
"the server rejected our request due to an error in our request" and whose one cause, of type
UnexpectedServerResponse, carries the patch library's words.
"""

from __future__ import annotations

from typing import Any

import jsonpatch
import jsonpointer
import orjson

from pocketkube.api.errors import StatusError, bad_request

MAX_OPERATIONS = 10000


def _rejected(detail: str) -> StatusError:
    return StatusError(422, "Invalid", "the server rejected our request due to an error in our request",
                       {"causes": [{"reason": "UnexpectedServerResponse", "message": detail}]})


def decode_json_patch(patch: bytes | str | list[Any]) -> list[Any]:
    """Parse and check the outer shape of a JSON patch; 400 if it is not a list of operations."""
    if isinstance(patch, (bytes, str)):
        try:
            patch = orjson.loads(patch)
        except orjson.JSONDecodeError as e:
            raise bad_request(str(e)) from None
    if not isinstance(patch, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    if len(patch) > MAX_OPERATIONS:
        raise StatusError(413, "RequestEntityTooLarge",
                          f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, got {len(patch)}")
    return patch


def _describe(op: dict[str, Any], error: Exception) -> str:
    name = op.get("op", "") if isinstance(op, dict) else ""
    path = op.get("path", "") if isinstance(op, dict) else ""
    if isinstance(error, jsonpatch.JsonPatchTestFailed):
        return f"testing value {path} failed: test failed"
    if isinstance(error, (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException)):
        return f'{name} operation does not apply: doc is missing path: "{path}": missing value'
    if isinstance(error, jsonpatch.InvalidJsonPatch) and name and "Unknown operation" in str(error):
        return f"Unexpected kind: {name}"
    return str(error)


def apply_json_patch(obj: dict[str, Any], patch: bytes | str | list[Any]) -> dict[str, Any]:
    """Apply a JSON patch to a copy of `obj`; `obj` itself is left unchanged."""
    ops = decode_json_patch(patch)
    doc: Any = obj
    # One operation at a time so that an error names the operation that failed.
    for op in ops:
        try:
            doc = jsonpatch.JsonPatch([op]).apply(doc, in_place=False)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError,
                IndexError, ValueError) as e:
            raise _rejected(_describe(op, e)) from None
    if not isinstance(doc, dict):
        raise bad_request("the patch result is not a JSON object")
    return doc
