"""Label and field selectors, parsed and matched the way apimachinery does.

Label selectors come in two forms. The string form of `?labelSelector=` (`a=b,c in (x,y),!d`) is
tokenised and parsed by a port of apimachinery's `labels.Parse` — same grammar, same requirement
ordering (sorted by key), same error text, because kubectl prints the server's message verbatim.
The object form (`matchLabels` + `matchExpressions`) follows `metav1.LabelSelectorAsSelector`:
a nil selector matches nothing, an empty one matches everything.

Field selectors (`?fieldSelector=`, per kind) live in `fieldselectors` and are re-exported here,
so callers import every selector from this one module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pocketkube.api.errors import FieldError, StatusError, bad_request
from pocketkube.api.validation.names import label_value, qualified_name

__all__ = [
    "SelectorError",
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Requirement",
    "everything",
    "format_label_selector",
    "format_labels",
    "nothing",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_object",
    "selector_from_set",
    "selectable_fields",
    "selector_to_string",
]

# selection.Operator values, as apimachinery spells them.
IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "in", "notin", "=", "==", "!="
EXISTS, DOES_NOT_EXIST, GREATER_THAN, LESS_THAN = "exists", "!", "gt", "lt"

def _aggregate(errors: list[str]) -> str:
    """utilerrors.Aggregate.Error(): one message alone, several deduplicated inside brackets."""
    seen: list[str] = []
    for e in errors:
        if e not in seen:
            seen.append(e)
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"


class SelectorError(ValueError):
    """A selector that does not parse; its text is what kube-apiserver answers with."""


# ---------------------------------------------------------------------------------------------
# Label selectors.


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if self.key not in labels or len(self.values) != 1:
                return False
            try:
                have, want = int(labels[self.key]), int(self.values[0])
            except ValueError:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        op = self.operator
        head = ("!" if op == DOES_NOT_EXIST else "") + self.key
        if op in (EXISTS, DOES_NOT_EXIST):
            return head
        sym = {EQUALS: "=", DOUBLE_EQUALS: "==", NOT_EQUALS: "!=", IN: " in ", NOT_IN: " notin ",
               GREATER_THAN: ">", LESS_THAN: "<"}[op]
        vals = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        return f"{head}{sym}({vals})" if op in (IN, NOT_IN) else f"{head}{sym}{vals}"


def new_requirement(key: str, op: str, values: list[str]) -> Requirement:
    """labels.NewRequirement: validate key, operator arity and values; raise SelectorError."""
    errs: list[str] = []
    if msgs := qualified_name(key):
        errs.append(str(FieldError("Invalid", "key", "; ".join(msgs), key)))
    if op in (IN, NOT_IN) and not values:
        errs.append(f"values: Invalid value: {_go_slice(values)}: "
                    "for 'in', 'notin' operators, values set can't be empty")
    elif op in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS) and len(values) != 1:
        errs.append(f"values: Invalid value: {_go_slice(values)}: exact-match compatibility requires one single value")
    elif op in (EXISTS, DOES_NOT_EXIST) and values:
        errs.append(f"values: Invalid value: {_go_slice(values)}: "
                    "values set must be empty for exists and does not exist")
    elif op in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errs.append(f"values: Invalid value: {_go_slice(values)}: "
                        "for 'Gt', 'Lt' operators, exactly one value is required")
        for i, v in enumerate(values):
            if not re.fullmatch(r"[+-]?\d+", v):
                errs.append(str(FieldError("Invalid", f"values[{i}]",
                                           "for 'Gt', 'Lt' operators, the value must be an integer", v)))
    elif op not in (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, EXISTS, DOES_NOT_EXIST):
        supported = ", ".join(f'"{o}"' for o in ("in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt"))
        errs.append(f'operator: Unsupported value: "{op}": supported values: {supported}')
    for i, v in enumerate(values):
        if msgs := label_value(v):
            errs.append(str(FieldError("Invalid", f"values[{i}][{key}]", "; ".join(msgs), v)))
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, op, tuple(values))


def _go_slice(values: list[str]) -> str:
    return "[]string{" + ", ".join(f'"{v}"' for v in values) + "}"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; `match_nothing` is labels.Nothing() (a nil object selector)."""

    requirements: tuple[Requirement, ...] = ()
    match_nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.match_nothing:
            return False
        have = labels or {}
        return all(r.matches(have) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (kube's Selector.Empty)."""
        return not self.match_nothing and not self.requirements

    def requires_exact_match(self, key: str) -> str | None:
        """The value `key` must equal, when the selector pins it (`key=v`, `key==v`, `key in (v)`)."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def everything() -> LabelSelector:
    return LabelSelector()


def nothing() -> LabelSelector:
    return LabelSelector(match_nothing=True)


def _sorted(reqs: list[Requirement]) -> tuple[Requirement, ...]:
    return tuple(sorted(reqs, key=lambda r: r.key))


def selector_from_set(labels: Mapping[str, str] | None) -> LabelSelector:
    """labels.SelectorFromSet: every pair must be equal; an empty set matches everything."""
    return LabelSelector(_sorted([Requirement(k, EQUALS, (v,)) for k, v in (labels or {}).items()]))


_OBJECT_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def selector_from_object(obj: Mapping[str, Any] | None) -> LabelSelector:
    """metav1.LabelSelectorAsSelector. Raises StatusError 400 on an operator or key kube rejects."""
    if obj is None:
        return nothing()
    match_labels = obj.get("matchLabels") or {}
    match_expressions = obj.get("matchExpressions") or []
    reqs: list[Requirement] = []
    try:
        for k, v in match_labels.items():
            reqs.append(new_requirement(k, EQUALS, [v]))
        for expr in match_expressions:
            op = _OBJECT_OPERATORS.get(expr.get("operator", ""))
            if op is None:
                raise SelectorError(f'"{expr.get("operator", "")}" is not a valid label selector operator')
            reqs.append(new_requirement(expr.get("key", ""), op, list(expr.get("values") or [])))
    except SelectorError as e:
        raise bad_request(str(e)) from e
    return LabelSelector(_sorted(reqs))


def selector_to_string(obj: Mapping[str, Any] | None) -> str:
    """The string form of an object selector, as `LabelSelectorAsSelector(s).String()`."""
    return str(selector_from_object(obj))


def format_label_selector(obj: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: what printers show — `<none>` when empty, `<error>` when invalid."""
    try:
        text = selector_to_string(obj)
    except StatusError:
        return "<error>"
    return text or "<none>"


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: sorted `k=v` pairs, `<none>` when there are none."""
    have = labels or {}
    text = ",".join(f"{k}={have[k]}" for k in sorted(have))
    return text or "<none>"


# --- the string grammar ------------------------------------------------------------------------

_ERROR, _EOS, _CLOSE, _COMMA, _NOT, _DEQ, _EQ, _GT, _ID, _IN, _LT, _NEQ, _NOTIN, _OPEN = range(14)
_TOKENS = {")": _CLOSE, ",": _COMMA, "!": _NOT, "==": _DEQ, "=": _EQ, ">": _GT, "in": _IN, "<": _LT,
           "!=": _NEQ, "notin": _NOTIN, "(": _OPEN}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")


def _lex(s: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    pos, n = 0, len(s)
    while True:
        while pos < n and s[pos] in _WHITESPACE:
            pos += 1
        if pos >= n:
            items.append((_EOS, ""))
            return items
        if s[pos] in _SPECIAL:
            # Longest run of special characters that still spells a token ("!=" but "=(" is "=").
            buf, last = "", (_ERROR, "")
            while pos < n and s[pos] in _SPECIAL:
                buf += s[pos]
                if buf in _TOKENS:
                    last = (_TOKENS[buf], buf)
                    pos += 1
                elif last[0] != _ERROR:
                    break
                else:
                    pos += 1
            items.append(last if last[0] != _ERROR else (_ERROR, f"error expected: keyword found '{buf}'"))
        else:
            start = pos
            while pos < n and s[pos] not in _SPECIAL and s[pos] not in _WHITESPACE:
                pos += 1
            word = s[start:pos]
            items.append((_TOKENS.get(word, _ID), word))


class _Parser:
    def __init__(self, text: str):
        self.items = _lex(text)
        self.pos = 0

    def _at(self, i: int, values: bool) -> tuple[int, str]:
        tok, lit = self.items[i]
        if values and tok in (_IN, _NOTIN):  # "in" and "notin" are plain words where values go
            tok = _ID
        return tok, lit

    def peek(self, values: bool = True) -> tuple[int, str]:
        return self._at(self.pos, values)

    def take(self, values: bool = True) -> tuple[int, str]:
        self.pos += 1
        return self._at(self.pos - 1, values)

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.peek()
            if tok in (_ID, _NOT):
                try:
                    reqs.append(self.requirement())
                except SelectorError as e:
                    raise SelectorError(f"unable to parse requirement: {e}") from None
                t, lit2 = self.take()
                if t == _EOS:
                    return reqs
                if t == _COMMA:
                    t2, l2 = self.peek()
                    if t2 not in (_ID, _NOT):
                        raise SelectorError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lit2}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Requirement:
        op = ""
        tok, key = self.take()
        if tok == _NOT:
            op = DOES_NOT_EXIST
            tok, key = self.take()
        if tok != _ID:
            raise SelectorError(f"found '{key}', expected: identifier")
        if msgs := qualified_name(key):
            raise SelectorError(str(FieldError("Invalid", "<nil>", "; ".join(msgs), key)))
        # "!key" is complete by itself; whatever follows it is the caller's problem (as in kube).
        if op == DOES_NOT_EXIST or self.peek()[0] in (_EOS, _COMMA):
            return new_requirement(key, op or EXISTS, [])
        tok, lit = self.take(values=False)
        ops = {_IN: IN, _EQ: EQUALS, _DEQ: DOUBLE_EQUALS, _GT: GREATER_THAN, _LT: LESS_THAN,
               _NOTIN: NOT_IN, _NEQ: NOT_EQUALS}
        if tok not in ops:
            raise SelectorError(f"found '{lit}', expected: '=', '!=', '==', 'in', notin'")
        op = ops[tok]
        values = self.set_values() if op in (IN, NOT_IN) else self.exact_value()
        return new_requirement(key, op, sorted(values))

    def set_values(self) -> set[str]:
        tok, lit = self.take()
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok in (_ID, _COMMA):
            values = self.identifiers()
            if self.take()[0] != _CLOSE:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == _CLOSE:  # "()" means the one empty value
            self.take()
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.take()
            if tok == _ID:
                values.add(lit)
                t2, l2 = self.peek()
                if t2 == _COMMA:
                    continue
                if t2 == _CLOSE:
                    return values
                raise SelectorError(f"found '{l2}', expected: ',' or ')'")
            if tok == _COMMA:  # empty entries: "(,a", "a,)", "a,,b" all add ""
                if not values:
                    values.add("")
                t2, _ = self.peek()
                if t2 == _CLOSE:
                    values.add("")
                    return values
                if t2 == _COMMA:
                    self.take()
                    values.add("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        tok, _ = self.peek()
        if tok in (_EOS, _COMMA):
            return {""}
        tok, lit = self.take()
        if tok == _ID:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """labels.Parse of `?labelSelector=`; invalid input raises StatusError 400 with kube's message."""
    try:
        reqs = _Parser(text).parse()
    except SelectorError as e:
        raise bad_request(str(e)) from e
    return LabelSelector(_sorted(reqs))


# Field selectors live in their own module; re-exported here so callers import one place.
from pocketkube.api.fieldselectors import (  # noqa: E402
    FieldRequirement,
    FieldSelector,
    parse_field_selector,
    selectable_fields,
)
