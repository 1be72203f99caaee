"""Validators shared by every kind: numbers, immutability, labels, annotations, label selectors.

Each function takes the JSON value and the field path it lives at, and returns a list of
`FieldError`s; paths are rendered as apimachinery renders them (`spec.containers[0].name`,
`metadata.labels`, `spec.selector.matchLabels`).
"""

from __future__ import annotations

from typing import Any

from pocketkube.api.errors import FieldError, forbidden, invalid_value, not_supported, required
from pocketkube.api.validation import names

Errors = list[FieldError]

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
NON_NEGATIVE = "must be greater than or equal to 0"
POSITIVE = "must be greater than 0"
IMMUTABLE = "field is immutable"
_INT32_MAX = 2147483647


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, k: str) -> str:
    return f"{path}[{k}]"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def non_negative(value: Any, path: str) -> Errors:
    if value is None:
        return []
    if not is_int(value) or value < 0:
        return [invalid_value(path, value, NON_NEGATIVE)]
    return []


def positive(value: Any, path: str) -> Errors:
    if value is None:
        return []
    if not is_int(value) or value <= 0:
        return [invalid_value(path, value, POSITIVE)]
    return []


def in_int32_range(value: Any, path: str, low: int = 1) -> Errors:
    if value is None:
        return []
    if not is_int(value) or not low <= value <= _INT32_MAX:
        return [invalid_value(path, value, f"must be between {low} and {_INT32_MAX}, inclusive")]
    return []


def immutable(new: Any, old: Any, path: str) -> Errors:
    return [] if new == old else [invalid_value(path, new, IMMUTABLE)]


def enum(value: Any, path: str, allowed: list[str], require: bool = True) -> Errors:
    """Required when empty (if `require`), NotSupported when not one of `allowed`."""
    if value in (None, ""):
        return [required(path, "")] if require else []
    if value not in allowed:
        return [not_supported(path, value, allowed)]
    return []


def format_errors(path: str, value: Any, messages: list[str]) -> Errors:
    return [invalid_value(path, value, m) for m in messages]


def validate_labels(labels: Any, path: str) -> Errors:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [invalid_value(path, labels, "must be a map of string keys to string values")]
    errs: Errors = []
    for k, v in labels.items():
        errs += format_errors(path, k, names.qualified_name(k))
        if not isinstance(v, str):
            errs.append(invalid_value(path, v, "must be a string"))
        else:
            errs += format_errors(path, v, names.label_value(v))
    return errs


def validate_annotations(annotations: Any, path: str) -> Errors:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [invalid_value(path, annotations, "must be a map of string keys to string values")]
    errs: Errors = []
    total = 0
    for k, v in annotations.items():
        errs += format_errors(path, k, names.qualified_name(k.lower()))
        total += len(k) + len(v if isinstance(v, str) else str(v))
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(FieldError("TooLong", path, f"may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"))
    return errs


_SELECTOR_OPS = ["In", "NotIn", "Exists", "DoesNotExist"]


def validate_label_selector(selector: Any, path: str) -> Errors:
    if selector is None:
        return []
    selector = as_dict(selector)
    errs = validate_labels(selector.get("matchLabels"), child(path, "matchLabels"))
    for i, expr in enumerate(as_list(selector.get("matchExpressions"))):
        expr_path = index(child(path, "matchExpressions"), i)
        expr = as_dict(expr)
        op = expr.get("operator")
        values = as_list(expr.get("values"))
        if op in ("In", "NotIn"):
            if not values:
                errs.append(required(child(expr_path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errs.append(forbidden(child(expr_path, "values"),
                                      "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(invalid_value(child(expr_path, "operator"), op, "not a valid selector operator"))
        errs += format_errors(child(expr_path, "key"), expr.get("key"), names.qualified_name(str(expr.get("key") or "")))
        for j, value in enumerate(values):
            errs += format_errors(index(child(expr_path, "values"), j), value, names.label_value(str(value)))
    return errs


def selector_matches(selector: Any, labels: Any) -> bool:
    """Whether a LabelSelector selects a label set. An empty selector selects everything."""
    selector = as_dict(selector)
    labels = as_dict(labels)
    for label, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(label) != value:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        k, op, values = expr.get("key"), expr.get("operator"), as_list(expr.get("values"))
        present = k in labels
        if op == "In" and not (present and labels[k] in values):
            return False
        if op == "NotIn" and present and labels[k] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def selector_is_empty(selector: Any) -> bool:
    selector = as_dict(selector)
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def int_or_percent(value: Any, path: str) -> Errors:
    """A non-negative integer or a percent string (`25%`), as maxSurge/maxUnavailable are."""
    if isinstance(value, str):
        return format_errors(path, value, names.percent(value))
    return non_negative(value, path)


def percent_at_most_100(value: Any, path: str) -> Errors:
    if isinstance(value, str) and not names.percent(value) and int(value[:-1]) > 100:
        return [invalid_value(path, value, "must not be greater than 100%")]
    return []


def is_zero_int_or_percent(value: Any) -> bool:
    return value in (0, "0%") or (isinstance(value, str) and value.endswith("%") and value[:-1].isdigit()
                                  and int(value[:-1]) == 0)
