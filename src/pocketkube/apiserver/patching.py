"""PATCH: the four patch types kube-apiserver accepts, applied to the live object.

JSON patch, merge patch and strategic merge patch are read-modify-write mutations retried on
conflict; `application/apply-patch+yaml` is server-side apply, which may also create the object.
"""

from __future__ import annotations

import copy
from typing import Any

from pocketkube.api import errors, meta
from pocketkube.api.conversion import stored_resource, to_external, to_internal
from pocketkube.api.obj import Obj
from pocketkube.api.patch.json_patch import apply_json_patch
from pocketkube.api.patch.merge_patch import apply_merge_patch
from pocketkube.api.patch.strategic import apply_strategic_merge_patch
from pocketkube.api.resources import ResourceInfo
from pocketkube.apiserver import admission, codec
from pocketkube.apiserver.admission import WriteOptions
from pocketkube.apiserver.registry import Registry

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)


def patch_type(content_type: str) -> str:
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in PATCH_TYPES:
        raise errors.unsupported_media_type(content_type or "(none)")
    return media


def apply_patch(resource: ResourceInfo, kind: str, obj: Obj, patch: Any) -> Obj:
    """Apply a JSON, merge or strategic patch to a private copy of an object."""
    if kind == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.bad_request("json patch must be a JSON array of operations")
        return apply_json_patch(obj, patch)
    if not isinstance(patch, dict):
        raise errors.bad_request("the patch must be a JSON object")
    if kind == MERGE_PATCH:
        return apply_merge_patch(obj, patch)
    return apply_strategic_merge_patch(obj, patch, resource.group, resource.version, resource.kind)


async def patch(registry: Registry, resource: ResourceInfo, namespace: str | None, name: str,
                content_type: str, body: bytes, opts: WriteOptions, subresource: str = "") -> tuple[Obj, bool]:
    """Returns (object, created); only server-side apply creates."""
    kind = patch_type(content_type)
    patch_body = codec.decode_body(body, content_type)
    if kind == APPLY_PATCH:
        return await _apply(registry, resource, namespace, name, patch_body, opts, subresource)

    def mutation(live: Obj) -> Obj:
        patched = apply_patch(resource, kind, to_external(resource, live), patch_body)
        if not isinstance(patched, dict):
            raise errors.bad_request("the patch did not produce an object")
        admission.check_fields(resource, patched, opts)
        return to_internal(resource, patched)

    return await registry.mutate(stored_resource(resource), namespace, name, mutation, opts, subresource), False



async def _apply(registry: Registry, resource: ResourceInfo, namespace: str | None, name: str, applied: Any,
                 opts: WriteOptions, subresource: str) -> tuple[Obj, bool]:
    if not isinstance(applied, dict):
        raise errors.bad_request("the apply configuration must be an object")
    if not opts.field_manager:
        raise errors.bad_request("PATCH requests with apply content type must set fieldManager")
    admission.check_fields(resource, applied, opts)
    applied.setdefault("metadata", {})
    if applied["metadata"].get("name", name) != name:
        raise errors.bad_request(f"the name of the object ({applied['metadata'].get('name')}) does not match "
                                 f"the name on the URL ({name})")
    applied["metadata"]["name"] = name
    if resource.namespaced:
        applied["metadata"].setdefault("namespace", namespace)
    opts.apply = True
    from pocketkube.api.patch.apply import server_side_apply  # the SSA machinery loads on first apply
    now = meta.rfc3339(meta.now())

    def mutation(live: Obj) -> Obj:
        result = server_side_apply(to_external(resource, live), copy.deepcopy(applied), opts.field_manager,
                                   opts.force, resource.group, resource.version, resource.kind, now)
        return to_internal(resource, result)

    try:
        return await registry.mutate(stored_resource(resource), namespace, name, mutation, opts, subresource), False
    except errors.StatusError as exc:
        if exc.code != 404 or subresource:
            raise
    created = server_side_apply(None, copy.deepcopy(applied), opts.field_manager, opts.force,
                                resource.group, resource.version, resource.kind, now)
    return await registry.create(stored_resource(resource), namespace, to_internal(resource, created), opts), True
