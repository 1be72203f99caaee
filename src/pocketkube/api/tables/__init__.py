"""Server-side printing: `meta.k8s.io/v1` Tables, what `kubectl get` renders.

kubectl asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints the columns it
gets back, upper-cased, hiding priority-1 columns unless `-o wide`. Each served resource has a printer
(columns + a pure cells function) in `pods`, `core`, `workloads` or `storage`, mirroring kube's printers.go;
anything else gets kube's default table (Name, Created At). Rows carry the object as
PartialObjectMetadata by default (`includeObject=Metadata`), the full object for `includeObject=Object`
(kubectl sends it with `--sort-by`), or nothing for `None`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pocketkube.api.errors import bad_request
from pocketkube.api.resources import ResourceInfo
from pocketkube.api.tables import core, pods, storage, workloads
from pocketkube.api.tables.format import (
    META,
    Column,
    Printer,
    human_duration,
    name_column,
    name_of,
    parse_time,
    since,
)

__all__ = ["build_table", "column_definitions", "human_duration", "printer_for", "row_cells", "since"]

INCLUDE_OBJECT = ("None", "Metadata", "Object")


def _created_at(obj: dict[str, Any], now: datetime) -> list[Any]:
    when = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    text = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else "0001-01-01T00:00:00Z"
    return [name_of(obj), text]


@functools.cache
def _printers() -> dict[tuple[str, str], Printer]:
    return {**pods.printers(), **core.printers(), **workloads.printers(), **storage.printers()}


@functools.cache
def _default_printer() -> Printer:
    from pocketkube.api.tables.format import doc

    return Printer((name_column(), Column("Created At", "date", doc(META, "creationTimestamp"))), _created_at)


def printer_for(resource: ResourceInfo) -> Printer:
    return _printers().get((resource.group, resource.plural)) or _default_printer()


def column_definitions(resource: ResourceInfo) -> list[dict[str, Any]]:
    """The Table's columnDefinitions for a resource (priority 1 = shown only with `-o wide`)."""
    return [c.definition() for c in printer_for(resource).columns]


def row_cells(resource: ResourceInfo, obj: dict[str, Any], now: datetime) -> list[Any]:
    """One row's cells, every column included, computed as of `now`."""
    return printer_for(resource).cells(obj, now)


def _row_object(obj: dict[str, Any], include_object: str) -> dict[str, Any] | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def build_table(
    resource: ResourceInfo,
    objects: Iterable[dict[str, Any]],
    now: datetime,
    include_object: str = "Metadata",
    *,
    resource_version: str | None = None,
    continue_token: str | None = None,
    no_headers: bool = False,
) -> dict[str, Any]:
    """A full `meta.k8s.io/v1` Table of `objects`; list metadata is filled from the keyword arguments."""
    mode = include_object or "Metadata"
    if mode not in INCLUDE_OBJECT:
        raise bad_request(f'unrecognized includeObject value: "{include_object}"')
    printer = printer_for(resource)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        if printer.conditions and (conditions := printer.conditions(obj)):
            row["conditions"] = conditions
        row["object"] = _row_object(obj, mode)
        rows.append(row)
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    table: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}
    if not no_headers:
        table["columnDefinitions"] = [c.definition() for c in printer.columns]
    table["rows"] = rows
    return table
