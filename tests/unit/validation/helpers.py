"""Helpers: default a manifest, mutate it, validate, and compare (type, field) pairs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pocketkube.api.defaults import apply_defaults
from pocketkube.api.errors import FieldError
from pocketkube.api.resources import ResourceInfo
from pocketkube.api.validation import validate_create

Mutation = Callable[[dict[str, Any]], Any]


def defaulted(resource: ResourceInfo, manifest: dict[str, Any]) -> dict[str, Any]:
    apply_defaults(resource, manifest)
    return manifest


def errors_after(resource: ResourceInfo, manifest: dict[str, Any], mutate: Mutation) -> list[FieldError]:
    obj = defaulted(resource, manifest)
    mutate(obj)
    return validate_create(resource, obj)


def pairs(errors: list[FieldError]) -> list[tuple[str, str]]:
    return [(e.type, e.field) for e in errors]
