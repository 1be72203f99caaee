"""ObjectMeta validation: on create (names, namespace, labels, annotations, finalizers, owners) and
on update (what may never change once an object exists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pocketkube.api.errors import duplicate, forbidden, invalid_value, required
from pocketkube.api.validation import names
from pocketkube.api.validation.common import (
    Errors,
    as_dict,
    as_list,
    child,
    format_errors,
    immutable,
    index,
    non_negative,
    validate_annotations,
    validate_labels,
)

NameValidator = Callable[[str, bool], list[str]]

STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")


def validate_finalizers(finalizers: Any, path: str) -> Errors:
    errs: Errors = []
    seen: set[str] = set()
    for finalizer in as_list(finalizers):
        text = str(finalizer)
        messages = names.qualified_name(text)
        errs += format_errors(path, finalizer, messages)
        if not messages and "/" not in text and text not in STANDARD_FINALIZERS:
            errs.append(invalid_value(path, finalizer, "name is neither a standard finalizer name nor is it fully "
                                                       "qualified"))
        if text in seen:
            errs.append(duplicate(path, finalizer))
        seen.add(text)
    if "orphan" in seen and "foregroundDeletion" in seen:
        errs.append(invalid_value(path, as_list(finalizers),
                                  "finalizer orphan and foregroundDeletion cannot be both set"))
    return errs


def validate_owner_references(owners: Any, path: str) -> Errors:
    errs: Errors = []
    controllers = []
    for i, owner in enumerate(as_list(owners)):
        owner = as_dict(owner)
        owner_path = index(path, i)
        for field_name, what in (("apiVersion", "version"), ("kind", "kind"), ("name", "name"), ("uid", "uid")):
            if not owner.get(field_name):
                errs.append(invalid_value(child(owner_path, field_name), owner.get(field_name, ""),
                                          f"{what} must not be empty"))
        if owner.get("controller") is True:
            controllers.append(f"{owner.get('kind')}/{owner.get('name')}")
    if len(controllers) > 1:
        errs.append(invalid_value(path, as_list(owners), "Only one reference can have Controller set to true. "
                                  f"Found \"true\" in references for {' and '.join(controllers)}"))
    return errs


def validate_object_meta(meta: Any, namespaced: bool, name_fn: NameValidator, path: str = "metadata") -> Errors:
    meta = as_dict(meta)
    errs: Errors = []
    name = meta.get("name") or ""
    generate_name = meta.get("generateName") or ""
    if generate_name:
        errs += format_errors(child(path, "generateName"), generate_name, name_fn(generate_name, True))
    if not name:
        if not generate_name:
            errs.append(required(child(path, "name"), "name or generateName is required"))
    else:
        errs += format_errors(child(path, "name"), name, name_fn(name, False))
    namespace = meta.get("namespace") or ""
    if namespaced:
        if not namespace:
            errs.append(required(child(path, "namespace"), ""))
        else:
            errs += format_errors(child(path, "namespace"), namespace, names.dns1123_label(namespace))
    elif namespace:
        errs.append(forbidden(child(path, "namespace"), "not allowed on this type"))
    errs += non_negative(meta.get("generation"), child(path, "generation"))
    errs += validate_labels(meta.get("labels"), child(path, "labels"))
    errs += validate_annotations(meta.get("annotations"), child(path, "annotations"))
    errs += validate_owner_references(meta.get("ownerReferences"), child(path, "ownerReferences"))
    errs += validate_finalizers(meta.get("finalizers"), child(path, "finalizers"))
    return errs


def validate_object_meta_update(new: Any, old: Any, path: str = "metadata") -> Errors:
    new, old = as_dict(new), as_dict(old)
    errs: Errors = []
    for field_name in ("name", "namespace", "uid", "creationTimestamp"):
        if old.get(field_name) and new.get(field_name) != old.get(field_name):
            errs += immutable(new.get(field_name), old.get(field_name), child(path, field_name))
    if old.get("deletionTimestamp"):
        added = [f for f in as_list(new.get("finalizers")) if f not in as_list(old.get("finalizers"))]
        if added:
            errs.append(forbidden(child(path, "finalizers"), "no new finalizers can be added if the object is being "
                                  f"deleted, found new finalizers {_go_quote_list(added)}"))
    errs += non_negative(new.get("generation"), child(path, "generation"))
    errs += validate_labels(new.get("labels"), child(path, "labels"))
    errs += validate_annotations(new.get("annotations"), child(path, "annotations"))
    errs += validate_owner_references(new.get("ownerReferences"), child(path, "ownerReferences"))
    errs += validate_finalizers(new.get("finalizers"), child(path, "finalizers"))
    return errs


def _go_quote_list(items: list[Any]) -> str:
    # Go's %q of a []string.
    return "[" + " ".join(f'"{i}"' for i in items) + "]"
