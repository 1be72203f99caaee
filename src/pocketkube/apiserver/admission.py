"""What every write passes through before it is stored: field validation, defaults, validation,
managed fields. One place, so create, update, patch and apply cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from pocketkube.api import errors, meta
from pocketkube.api.defaults import apply_defaults
from pocketkube.api.fieldcheck import prune_unknown_fields, strict_error_message, unknown_fields, warning
from pocketkube.api.obj import Obj
from pocketkube.api.patch.managed_fields import update_managed_fields
from pocketkube.api.resources import ResourceInfo
from pocketkube.api.validation import validate_create, validate_status_update, validate_update


@dataclass
class WriteOptions:
    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Strict"  # Strict, Warn or Ignore (kubectl 1.27+ asks for Strict)
    force: bool = False
    apply: bool = False  # server-side apply records its own managed fields
    warnings: list[str] = field(default_factory=list)


def check_fields(resource: ResourceInfo, obj: Obj, opts: WriteOptions) -> None:
    """Unknown fields: 400 under Strict; dropped otherwise, with a warning under Warn (as
    kube-apiserver's decoder treats them)."""
    if opts.field_validation == "Strict":
        unknown = unknown_fields(resource.group, resource.version, resource.kind, obj)
        if unknown:
            raise errors.bad_request(strict_error_message(unknown))
        return
    unknown = prune_unknown_fields(resource.group, resource.version, resource.kind, obj)
    if opts.field_validation == "Warn":
        opts.warnings.extend(warning(path) for path in unknown)


def _raise_if_invalid(resource: ResourceInfo, obj: Obj, found: list[errors.FieldError]) -> None:
    if found:
        raise errors.invalid(resource.group, resource.kind, meta.name_of(obj), found)


def admit_create(resource: ResourceInfo, obj: Obj) -> None:
    apply_defaults(resource, obj)
    _raise_if_invalid(resource, obj, validate_create(resource, obj))


def admit_update(resource: ResourceInfo, new: Obj, old: Obj, subresource: str) -> None:
    """Subresources other than status (binding, finalize, scale…) are server-built: defaults only."""
    emptied = subresource == "finalize" and not (new.get("spec") or {}).get("finalizers")
    apply_defaults(resource, new)
    if emptied:  # defaulting refills an empty spec.finalizers, which would make finalize a no-op
        new["spec"].pop("finalizers", None)
    if subresource == "status":
        _raise_if_invalid(resource, new, validate_status_update(resource, new, old))
    elif not subresource:
        _raise_if_invalid(resource, new, validate_update(resource, new, old))


def track_fields(resource: ResourceInfo, old: Obj | None, new: Obj, manager: str, subresource: str) -> None:
    update_managed_fields(old, new, manager, "Update", resource.group, resource.version, resource.kind,
                          meta.rfc3339(meta.now()), subresource=subresource)


def same_object(a: Obj, b: Obj) -> bool:
    """Whether a write would change nothing (such writes are skipped, keeping resourceVersion)."""
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS)
