"""Render the neutral operations of `paths.py` as OpenAPI v2 (swagger) or v3 documents.

The two versions differ in shape only: v2 puts the body among the parameters (`in: body`) and the
media types in `consumes`/`produces`; v3 has `requestBody` and per-media `content`, and a parameter's
type sits under `schema`. Both carry `x-kubernetes-action` and `x-kubernetes-group-version-kind`,
which kubectl reads.
"""

from __future__ import annotations

from typing import Any

from pocketkube.api import schema

from . import convert
from .params import Param
from .paths import STRING, Operation, PathItem

Doc = dict[str, Any]

_INFO = {"title": "Kubernetes", "version": f"v{schema.KUBE_VERSION}"}
_SECURITY_SCHEME = {"BearerToken": {"type": "apiKey", "description": "Bearer Token authentication",
                                    "name": "authorization", "in": "header"}}
_DESCRIPTIONS = {"200": "OK", "201": "Created", "202": "Accepted", "401": "Unauthorized"}


def _param_v2(p: Param) -> Doc:
    out: Doc = {"uniqueItems": True, "type": p.type, "description": p.description, "name": p.name, "in": p.location}
    if p.required:
        out["required"] = True
    return out


def _param_v3(p: Param) -> Doc:
    out: Doc = {"name": p.name, "in": p.location, "description": p.description}
    if p.required:
        out["required"] = True
    out["schema"] = {"type": p.type, "uniqueItems": True}
    return out


def _schema(definition: str, prefix: str) -> Doc:
    return {"type": "string"} if definition == STRING else {"$ref": prefix + definition}


def _operation_v2(op: Operation) -> Doc:
    parameters = [_param_v2(p) for p in op.params]
    if op.body:
        body: Doc = {"name": "body", "in": "body", "schema": _schema(op.body, convert.V2_PREFIX)}
        if op.body_required:
            body["required"] = True
        parameters.insert(0, body)
    responses: Doc = {}
    for code, definition in op.responses.items():
        responses[code] = {"description": _DESCRIPTIONS[code]}
        if definition:
            responses[code]["schema"] = _schema(definition, convert.V2_PREFIX)
    responses["401"] = {"description": _DESCRIPTIONS["401"]}
    out: Doc = {"description": op.description, "consumes": list(op.consumes), "produces": list(op.produces),
                "schemes": ["https"], "tags": [op.tag], "operationId": op.operation_id}
    if parameters:
        out["parameters"] = parameters
    out["responses"] = responses
    out["x-kubernetes-action"] = op.action
    out["x-kubernetes-group-version-kind"] = op.gvk
    return out


def _operation_v3(op: Operation) -> Doc:
    out: Doc = {"tags": [op.tag], "description": op.description, "operationId": op.operation_id}
    if op.params:
        out["parameters"] = [_param_v3(p) for p in op.params]
    if op.body:
        body_schema = _schema(op.body, convert.V3_PREFIX)
        out["requestBody"] = {"content": {media: {"schema": body_schema} for media in op.consumes}}
        if op.body_required:
            out["requestBody"]["required"] = True
    responses: Doc = {}
    for code, definition in op.responses.items():
        responses[code] = {"description": _DESCRIPTIONS[code]}
        if definition:
            response_schema = _schema(definition, convert.V3_PREFIX)
            responses[code]["content"] = {media: {"schema": response_schema} for media in op.produces}
    responses["401"] = {"description": _DESCRIPTIONS["401"]}
    out["responses"] = responses
    out["x-kubernetes-action"] = op.action
    out["x-kubernetes-group-version-kind"] = op.gvk
    return out


def _referenced(paths: dict[str, PathItem]) -> set[str]:
    names: set[str] = set()
    for item in paths.values():
        for op in item.operations:
            names.update(d for d in (op.body, *op.responses.values()) if d and d != STRING)
    return names


def _path_items(paths: dict[str, PathItem], v3: bool) -> Doc:
    render_op = _operation_v3 if v3 else _operation_v2
    render_param = _param_v3 if v3 else _param_v2
    out: Doc = {}
    for path, item in paths.items():
        rendered: Doc = {op.method: render_op(op) for op in item.operations}
        if item.params:
            rendered["parameters"] = [render_param(p) for p in item.params]
        out[path] = rendered
    return out


def swagger(paths: dict[str, PathItem]) -> Doc:
    """An OpenAPI v2 document for `paths`, with every definition they reach."""
    return {"swagger": "2.0", "info": dict(_INFO), "paths": _path_items(paths, v3=False),
            "definitions": convert.definitions(_referenced(paths), v3=False),
            "securityDefinitions": _SECURITY_SCHEME, "security": [{"BearerToken": []}]}


def openapi3(paths: dict[str, PathItem]) -> Doc:
    """An OpenAPI 3.0 document for `paths` (one group-version), with the schemas they reach."""
    return {"openapi": "3.0.0", "info": dict(_INFO), "paths": _path_items(paths, v3=True),
            "components": {"schemas": convert.definitions(_referenced(paths), v3=True),
                           "securitySchemes": _SECURITY_SCHEME},
            "security": [{"BearerToken": []}]}
