"""Errors as Kubernetes `Status` objects.

Every failure the API returns is a `StatusError`; its `status()` is the body clients decode
(kubectl prints `Error from server (<Reason>): <message>`). Field errors mirror apimachinery's
`field.Error` so 422 responses carry the same `details.causes` that kubectl users know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

# field.ErrorType → (cause reason, human text), as apimachinery names them.
_FIELD_ERROR_TYPES: dict[str, tuple[str, str]] = {
    "Required": ("FieldValueRequired", "Required value"),
    "Invalid": ("FieldValueInvalid", "Invalid value"),
    "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
    "Forbidden": ("FieldValueForbidden", "Forbidden"),
    "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
    "NotFound": ("FieldValueNotFound", "Not found"),
    "TooLong": ("FieldValueTooLong", "Too long"),
    "TooMany": ("FieldValueTooMany", "Too many"),
    "TypeInvalid": ("FieldValueTypeInvalid", "Invalid value"),
}

_OMIT = object()


@dataclass(frozen=True)
class FieldError:
    """One invalid field: `type` is a key of apimachinery's field.ErrorType (Required, Invalid…)."""

    type: str
    field: str
    detail: str = ""
    value: Any = _OMIT

    def __str__(self) -> str:
        text = _FIELD_ERROR_TYPES.get(self.type, ("", self.type))[1]
        parts = [f"{self.field}: {text}"] if self.field else [text]
        if self.value is not _OMIT and self.type not in ("Required", "Forbidden", "TooLong", "TooMany"):
            parts.append(_render_value(self.value))
        if self.type == "NotSupported" and self.detail:
            parts.append(f"supported values: {self.detail}")
        elif self.detail:
            parts.append(self.detail)
        return ": ".join(parts)

    def cause(self) -> dict[str, Any]:
        reason = _FIELD_ERROR_TYPES.get(self.type, ("FieldValueInvalid", ""))[0]
        message = str(self)
        if self.field and message.startswith(self.field + ": "):
            message = message[len(self.field) + 2 :]
        return {"reason": reason, "message": message, "field": self.field}


def required(field: str, detail: str = "") -> FieldError:
    return FieldError("Required", field, detail)


def invalid_value(field: str, value: Any, detail: str) -> FieldError:
    return FieldError("Invalid", field, detail, value)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError("Forbidden", field, detail)


def not_supported(field: str, value: Any, supported: list[str]) -> FieldError:
    return FieldError("NotSupported", field, ", ".join(f'"{s}"' for s in supported), value)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError("Duplicate", field, "", value)


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return orjson.dumps(value).decode()


class StatusError(Exception):
    """An API failure that renders as a `Status` body with an HTTP code."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _qualified(group: str, resource: str) -> str:
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    details.update(extra)
    return details


def not_found(group: str, resource: str, name: str) -> StatusError:
    return StatusError(404, "NotFound", f'{_qualified(group, resource)} "{name}" not found',
                       _details(name, group, resource))


def already_exists(group: str, resource: str, name: str) -> StatusError:
    return StatusError(409, "AlreadyExists", f'{_qualified(group, resource)} "{name}" already exists',
                       _details(name, group, resource))


def conflict(group: str, resource: str, name: str, why: str) -> StatusError:
    return StatusError(409, "Conflict",
                       f'Operation cannot be fulfilled on {_qualified(group, resource)} "{name}": {why}',
                       _details(name, group, resource))


def invalid(group: str, kind: str, name: str, errors: list[FieldError]) -> StatusError:
    """422 Invalid, with one cause per field error, worded as apimachinery does."""
    qualified = f"{kind}.{group}" if group else kind
    if len(errors) == 1:
        summary = str(errors[0])
    else:
        summary = "[" + ", ".join(str(e) for e in errors) + "]"
    return StatusError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}',
                       _details(name, group, kind, causes=[e.cause() for e in errors]))


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def method_not_allowed(message: str) -> StatusError:
    return StatusError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> StatusError:
    return StatusError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                       f"accepted media types include: application/json-patch+json, "
                       f"application/merge-patch+json, application/apply-patch+yaml, "
                       f"application/strategic-merge-patch+json; got {content_type}")


def not_acceptable(message: str) -> StatusError:
    return StatusError(406, "NotAcceptable", message)


def gone(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def too_large(limit: int) -> StatusError:
    return StatusError(413, "RequestEntityTooLarge",
                       f"Request entity too large: limit is {limit}")


def unauthorized() -> StatusError:
    return StatusError(401, "Unauthorized", "Unauthorized")


def forbidden_request(message: str) -> StatusError:
    return StatusError(403, "Forbidden", message)


def internal(message: str) -> StatusError:
    return StatusError(500, "InternalError", f"Internal error occurred: {message}")


def service_unavailable(message: str) -> StatusError:
    return StatusError(503, "ServiceUnavailable", message)
