"""Node selectors and node affinity with Kubernetes' semantics (component-helpers' nodeaffinity).

A pod's required node affinity holds on a node when every `nodeSelector` label is there with the
same value and, if the pod has `requiredDuringSchedulingIgnoredDuringExecution`, at least one of its
`nodeSelectorTerms` matches: terms are ORed, the requirements inside one are ANDed, and a term
with no requirements matches nothing.

`matchExpressions` are label requirements — In, NotIn (a missing label is not in), Exists,
DoesNotExist, Gt, Lt (integer comparison; a label that is not an integer matches neither) — and
`matchFields` are field requirements on `metadata.name`, In or NotIn with exactly one value. A term
holding a requirement that does not parse (unknown operator, In without values, Gt with two, a
field requirement with Exists, …) matches no node, as a term with a parse error does in kube.

Preferred terms with a weight add that weight for a node they match; the sum is the NodeAffinity
score before normalising. Parsing happens once per pod (`RequiredNodeAffinity.of`), matching once per
node, as kube-scheduler's PreFilter/Filter split does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pocketkube.api.obj import Obj
from pocketkube.api.selectors import (
    DOES_NOT_EXIST,
    EXISTS,
    GREATER_THAN,
    IN,
    LESS_THAN,
    NOT_IN,
    Requirement,
    SelectorError,
    new_requirement,
)

NODE_NAME_FIELD = "metadata.name"

# NodeSelectorOperator → the labels package's selection.Operator.
_LABEL_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST,
                    "Gt": GREATER_THAN, "Lt": LESS_THAN}


def _label_requirement(raw: Obj) -> Requirement | None:
    """nodeSelectorRequirementsAsSelector for one requirement; None when it does not parse."""
    op = _LABEL_OPERATORS.get(str(raw.get("operator") or ""))
    if op is None:
        return None
    try:
        return new_requirement(str(raw.get("key") or ""), op, [str(v) for v in raw.get("values") or []])
    except SelectorError:
        return None


@dataclass(frozen=True)
class _FieldRequirement:
    key: str
    value: str
    equal: bool

    def matches(self, fields: Mapping[str, str]) -> bool:
        # fields.Set: a field the node doesn't have reads as "".
        return (fields.get(self.key, "") == self.value) is self.equal


def _field_requirement(raw: Obj) -> _FieldRequirement | None:
    """nodeSelectorRequirementsAsFieldSelector for one requirement; None when it does not parse."""
    op, values = raw.get("operator"), list(raw.get("values") or [])
    if op not in ("In", "NotIn") or len(values) != 1:
        return None
    return _FieldRequirement(str(raw.get("key") or ""), str(values[0]), op == "In")


@dataclass(frozen=True)
class NodeSelectorTerm:
    labels: tuple[Requirement, ...] = ()
    fields: tuple[_FieldRequirement, ...] = ()
    valid: bool = True

    @staticmethod
    def of(term: Obj) -> NodeSelectorTerm | None:
        """The parsed term; None for an empty term (it selects nothing)."""
        expressions, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
        if not expressions and not fields:
            return None
        labels = [_label_requirement(r) for r in expressions]
        parsed_fields = [_field_requirement(r) for r in fields]
        valid = all(r is not None for r in labels) and all(r is not None for r in parsed_fields)
        return NodeSelectorTerm(tuple(r for r in labels if r is not None),
                                tuple(r for r in parsed_fields if r is not None), valid)

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        if not self.valid:
            return False
        if not all(r.matches(labels) for r in self.labels):
            return False
        # kube's extractNodeFields sets metadata.name only when the node has a name.
        return not node_name or all(r.matches({NODE_NAME_FIELD: node_name}) for r in self.fields)


@dataclass(frozen=True)
class NodeSelector:
    """A v1.NodeSelector: the node matches when any term does."""

    terms: tuple[NodeSelectorTerm, ...] = ()

    @staticmethod
    def of(selector: Obj) -> NodeSelector:
        parsed = (NodeSelectorTerm.of(t or {}) for t in selector.get("nodeSelectorTerms") or [])
        return NodeSelector(tuple(t for t in parsed if t is not None))

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        return any(t.matches(labels, node_name) for t in self.terms)


def node_selector_map_matches(node_selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """`spec.nodeSelector`: labels.SelectorFromSet — every key present with exactly that value."""
    return all(key in labels and labels[key] == value for key, value in (node_selector or {}).items())


def _node_affinity(spec: Obj) -> Obj:
    return (spec.get("affinity") or {}).get("nodeAffinity") or {}


@dataclass(frozen=True)
class RequiredNodeAffinity:
    """GetRequiredNodeAffinity: a pod spec's nodeSelector and required node affinity, parsed once."""

    node_selector: tuple[tuple[str, str], ...] = ()
    affinity: NodeSelector | None = None

    @staticmethod
    def of(spec: Obj) -> RequiredNodeAffinity:
        required = _node_affinity(spec).get("requiredDuringSchedulingIgnoredDuringExecution")
        return RequiredNodeAffinity(tuple((spec.get("nodeSelector") or {}).items()),
                                    None if required is None else NodeSelector.of(required))

    def matches(self, labels: Mapping[str, str], node_name: str) -> bool:
        if not node_selector_map_matches(dict(self.node_selector), labels):
            return False
        return self.affinity is None or self.affinity.matches(labels, node_name)


def required_node_affinity_matches(spec: Obj, labels: Mapping[str, str], node_name: str) -> bool:
    """Whether a pod with this spec may run on a node with these labels and name."""
    return RequiredNodeAffinity.of(spec).matches(labels, node_name)


def node_matches(spec: Obj, node: Obj) -> bool:
    """`required_node_affinity_matches` against a Node object."""
    md = node.get("metadata") or {}
    return required_node_affinity_matches(spec, md.get("labels") or {}, str(md.get("name") or ""))


def requirement_matches(requirement: Obj, labels: Mapping[str, str]) -> bool:
    """One NodeSelectorRequirement of `matchExpressions` against node labels (False if it does not parse)."""
    parsed = _label_requirement(requirement)
    return parsed is not None and parsed.matches(labels)


@dataclass(frozen=True)
class PreferredSchedulingTerms:
    """NewPreferredSchedulingTerms: weighted terms (weight 0 and empty terms dropped)."""

    terms: tuple[tuple[int, NodeSelectorTerm], ...] = ()

    @staticmethod
    def of(spec: Obj) -> PreferredSchedulingTerms:
        out = []
        for raw in _node_affinity(spec).get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            weight = int(raw.get("weight") or 0)
            term = NodeSelectorTerm.of(raw.get("preference") or {})
            if weight and term is not None:
                out.append((weight, term))
        return PreferredSchedulingTerms(tuple(out))

    def score(self, labels: Mapping[str, str], node_name: str) -> int:
        return sum(weight for weight, term in self.terms if term.matches(labels, node_name))


def has_preferred_terms(spec: Obj) -> bool:
    return bool(_node_affinity(spec).get("preferredDuringSchedulingIgnoredDuringExecution"))
