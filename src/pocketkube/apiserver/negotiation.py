"""Response shapes a client can ask for in `Accept`: the object, a Table, or metadata only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pocketkube.api.obj import Obj
from pocketkube.api.resources import ResourceInfo
from pocketkube.api.tables import build_table


def _accepts(accept: str) -> list[dict[str, str]]:
    out = []
    for clause in accept.split(","):
        parts = [p.strip() for p in clause.split(";")]
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        params["_media"] = parts[0]
        out.append(params)
    return out


def wanted_shape(accept: str) -> tuple[str, str]:
    """("Table" | "PartialObjectMetadata" | "", version) for the first form we serve."""
    for params in _accepts(accept):
        shape = params.get("as", "")
        if shape in ("Table",) and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
            return "Table", params["v"]
        if shape in ("PartialObjectMetadata", "PartialObjectMetadataList") and params.get("g") == "meta.k8s.io":
            return "PartialObjectMetadata", params.get("v", "v1")
        if not shape and params["_media"] in ("application/json", "*/*", "application/*", ""):
            return "", ""
    return "", ""


def include_object(query: Any) -> str:
    return str(query.get("includeObject") or "Metadata")


def as_table(resource: ResourceInfo, objects: list[Obj], now: datetime, query: Any, version: str,
             list_meta: Obj | None = None) -> Obj:
    table = build_table(resource, objects, now, include_object(query))
    table["apiVersion"] = f"meta.k8s.io/{version}"
    table["metadata"] = list_meta or {}
    return table


def partial_metadata(obj: Obj, version: str) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}",
            "metadata": obj.get("metadata") or {}}


def partial_metadata_list(objects: list[Obj], version: str, list_meta: Obj) -> Obj:
    return {"kind": "PartialObjectMetadataList", "apiVersion": f"meta.k8s.io/{version}",
            "metadata": list_meta, "items": [partial_metadata(o, version) for o in objects]}
