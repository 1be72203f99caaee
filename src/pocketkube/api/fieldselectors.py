"""Field selectors (`?fieldSelector=`), parsed and matched as kube-apiserver does.

Parsing is apimachinery's `fields.ParseSelector` (terms split on unescaped commas, sorted, operators
`!=`, `==`, `=`, values unescaped). Each kind then accepts only the field labels its conversion func
registers — anything else is a 400 worded exactly as kube words it for that kind — and matching runs
against the kind's "selectable fields" (the registry's `GetAttrs`). A field a kind accepts but does not
fill (pods' `status.podIPs`) reads as "", as in kube. Public names are re-exported by `selectors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pocketkube.api.errors import bad_request
from pocketkube.api.resources import ResourceInfo

NOT_EQUALS = "!="


class FieldSelectorError(ValueError):
    """A field selector kube would reject; the text is kube's."""


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    operator: str  # "=", "==" or "!="
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        return have != self.value if self.operator == NOT_EQUALS else have == self.value

    def __str__(self) -> str:
        op = "!=" if self.operator == NOT_EQUALS else "="
        return f"{self.field}{op}{_escape(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    resource: ResourceInfo
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        if not self.requirements:
            return True
        fields = selectable_fields(self.resource, obj)
        return all(r.matches(fields) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def exact(self, field: str) -> str | None:
        """The value `field` is pinned to (`field=v`), so callers can use an index instead of a scan."""
        for r in self.requirements:
            if r.field == field and r.operator != NOT_EQUALS:
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _split_terms(text: str) -> list[str]:
    terms, start, in_slash = [], 0, False
    for i, c in enumerate(text):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def _unescape(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out, in_slash = [], False
    for c in value:
        if in_slash:
            if c not in "\\,=":
                raise FieldSelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # Go prints the rune with %v, i.e. as its number.
            raise FieldSelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise FieldSelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(text: str, resource: ResourceInfo) -> FieldSelector:
    """fields.ParseSelector then the kind's field-label conversion; errors are StatusError 400."""
    reqs: list[FieldRequirement] = []
    try:
        for term in sorted(_split_terms(text)) if text else []:
            if not term:
                continue
            parts = _split_term(term)
            if parts is None:
                raise FieldSelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
            lhs, op, rhs = parts
            reqs.append(FieldRequirement(lhs, op, _unescape(rhs)))
        converted = [FieldRequirement(convert_field_label(resource, r.field), r.operator, r.value)
                     for r in reqs]
    except FieldSelectorError as e:
        raise bad_request(str(e)) from e
    return FieldSelector(resource, tuple(converted))


# --- which fields each kind accepts, and what they read on an object --------------------------

_META = ("metadata.name", "metadata.namespace")
_EVENT_FIELDS = (
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
    "reason", "reportingComponent", "source", "type", *_META,
)
_NOT_SUPPORTED = "field label not supported: {}"
# (group, kind) → (accepted field labels, error wording), as each kind's conversion func registers them.
_FIELD_LABELS: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("", "Pod"): (frozenset({*_META, "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                             "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                             "status.podIPs", "status.nominatedNodeName"}), _NOT_SUPPORTED),
    ("", "Node"): (frozenset({"metadata.name", "spec.unschedulable"}), _NOT_SUPPORTED),
    ("", "Event"): (frozenset(_EVENT_FIELDS), _NOT_SUPPORTED),
    ("", "Namespace"): (frozenset({"metadata.name", "status.phase"}), _NOT_SUPPORTED),
    ("", "Secret"): (frozenset({*_META, "type"}), _NOT_SUPPORTED),
    ("", "Service"): (frozenset({*_META, "spec.clusterIP", "spec.type"}), _NOT_SUPPORTED),
    ("apps", "ReplicaSet"): (frozenset({*_META, "status.replicas"}), _NOT_SUPPORTED),
    ("batch", "Job"): (frozenset({*_META, "status.successful"}), 'field label "{}" not supported for batchv1.Job'),
}
# events.k8s.io names the same stored fields differently; kube maps them onto core/v1 names.
_EVENTS_V1_LABELS = {
    "reason": "reason", "type": "type", "reportingController": "reportingComponent",
    "metadata.namespace": "metadata.namespace", "metadata.name": "metadata.name",
    **{f"regarding.{f}": f"involvedObject.{f}"
       for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
}


def convert_field_label(resource: ResourceInfo, label: str) -> str:
    """The kind's field-label conversion: the stored field name, or FieldSelectorError as kube words it."""
    if resource.group == "events.k8s.io" and resource.kind == "Event":
        if label not in _EVENTS_V1_LABELS:
            raise FieldSelectorError(_NOT_SUPPORTED.format(label))
        return _EVENTS_V1_LABELS[label]
    if resource.group == "" and resource.kind == "Pod" and label == "spec.host":
        return "spec.nodeName"  # old v1 clients
    accepted, wording = _FIELD_LABELS.get((resource.group, resource.kind), (None, ""))
    if accepted is None:
        if label in _META:
            return label
        raise FieldSelectorError(f'"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"')
    if label not in accepted:
        raise FieldSelectorError(wording.format(label))
    return label


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def selectable_fields(resource: ResourceInfo, obj: Mapping[str, Any]) -> dict[str, str]:
    """The field set kube-apiserver's registry exposes for matching (`GetAttrs`), by stored name."""
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": _s(meta.get("name"))}
    if resource.namespaced:
        fields["metadata.namespace"] = _s(meta.get("namespace"))
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    kind = (resource.group, resource.kind)
    if kind == ("", "Pod"):
        ips = status.get("podIPs") or []
        fields.update({
            "spec.nodeName": _s(spec.get("nodeName")),
            "spec.restartPolicy": _s(spec.get("restartPolicy")),
            "spec.schedulerName": _s(spec.get("schedulerName")),
            "spec.serviceAccountName": _s(spec.get("serviceAccountName")),
            "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
            "status.phase": _s(status.get("phase")),
            "status.podIP": _s(ips[0].get("ip") if ips else status.get("podIP")),
            "status.nominatedNodeName": _s(status.get("nominatedNodeName")),
        })
    elif kind == ("", "Node"):
        fields["spec.unschedulable"] = "true" if spec.get("unschedulable") else "false"
    elif kind == ("", "Namespace"):
        fields["status.phase"] = _s(status.get("phase"))
    elif kind == ("", "Secret"):
        fields["type"] = _s(obj.get("type"))
    elif kind == ("", "Service"):
        fields["spec.clusterIP"] = _s(spec.get("clusterIP"))
        fields["spec.type"] = _s(spec.get("type"))
    elif kind == ("apps", "ReplicaSet"):
        fields["status.replicas"] = str(status.get("replicas") or 0)
    elif kind == ("batch", "Job"):
        fields["status.successful"] = str(status.get("succeeded") or 0)
    elif resource.kind == "Event" and resource.group in ("", "events.k8s.io"):
        fields.update(_event_fields(obj))
    return fields


def _event_fields(ev: Mapping[str, Any]) -> dict[str, str]:
    # The object may be in core/v1 shape or events.k8s.io/v1 shape; both name the same data.
    ref = ev.get("involvedObject") or ev.get("regarding") or {}
    source = ev.get("source") or ev.get("deprecatedSource") or {}
    reporting = _s(ev.get("reportingComponent") or ev.get("reportingController"))
    out = {f"involvedObject.{f}": _s(ref.get(f))
           for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}
    out.update({"reason": _s(ev.get("reason")), "type": _s(ev.get("type")), "reportingComponent": reporting,
                "source": _s(source.get("component")) or reporting})
    return out
