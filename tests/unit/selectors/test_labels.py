"""Label selectors: the string grammar, kube's error wording, matching and the object form."""

from __future__ import annotations

import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.selectors import (
    format_label_selector,
    format_labels,
    parse_label_selector,
    selector_from_object,
    selector_from_set,
    selector_to_string,
)

QNAME_RULE = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
              "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
              "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_RULE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
              "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
              "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


@pytest.mark.parametrize("text, canonical", [
    ("", ""),
    ("a=b", "a=b"),
    ("a==b", "a==b"),
    ("a!=b", "a!=b"),
    ("a", "a"),
    ("!a", "!a"),
    ("a=", "a="),
    ("  a = b ,  c  ", "a=b,c"),
    ("z=1,a=2", "a=2,z=1"),  # requirements sort by key
    ("e in (y,x)", "e in (x,y)"),
    ("f notin (z)", "f notin (z)"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
    ("in in (in,notin)", "in in (in,notin)"),  # keywords are plain words where values go
    ("a>5,b<3", "a>5,b<3"),
    ("example.com/app=web", "example.com/app=web"),
    ("a=b,c!=d,e in (x,y),f notin (z),g,!h", "a=b,c!=d,e in (x,y),f notin (z),g,!h"),
])
def test_parse_round_trips_to_kube_string(text: str, canonical: str) -> None:
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize("text, message", [
    ("a b", "unable to parse requirement: found 'b', expected: '=', '!=', '==', 'in', notin'"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("=b", "found '=', expected: !, identifier, or 'end of string'"),
    ("a,", "found '', expected: identifier after ','"),
    ("a in x", "unable to parse requirement: found 'x' expected: '('"),
    ("a in (x", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("a$=b", 'unable to parse requirement: <nil>: Invalid value: "a$": name part ' + QNAME_RULE),
    ("/a", 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'),
    ("a=b$", 'unable to parse requirement: values[0][a]: Invalid value: "b$": ' + VALUE_RULE),
    ("a=" + "v" * 64, "unable to parse requirement: values[0][a]: Invalid value: \"" + "v" * 64
     + "\": must be no more than 63 characters"),
    ("k" * 64, 'unable to parse requirement: <nil>: Invalid value: "' + "k" * 64
     + '": name part must be no more than 63 characters'),
    ("a>x", 'unable to parse requirement: values[0]: Invalid value: "x": '
     "for 'Gt', 'Lt' operators, the value must be an integer"),
])
def test_invalid_selectors_are_400_with_kube_wording(text: str, message: str) -> None:
    with pytest.raises(StatusError) as err:
        parse_label_selector(text)
    assert err.value.code == 400
    assert err.value.reason == "BadRequest"
    assert err.value.message == message


def test_several_bad_values_aggregate_in_brackets() -> None:
    with pytest.raises(StatusError) as err:
        parse_label_selector("a in (x$,y%)")
    msg = err.value.message
    assert msg.startswith('unable to parse requirement: [values[0][a]: Invalid value: "x$"')
    assert ', values[1][a]: Invalid value: "y%"' in msg and msg.endswith("]")


LABELS = {"app": "web", "tier": "front", "n": "7"}


@pytest.mark.parametrize("text, labels, expected", [
    ("", LABELS, True),
    ("", None, True),
    ("app=web", LABELS, True),
    ("app==web", LABELS, True),
    ("app=db", LABELS, False),
    ("app!=db", LABELS, True),
    ("missing!=x", LABELS, True),  # != matches when the key is absent
    ("app in (db,web)", LABELS, True),
    ("app in (db)", LABELS, False),
    ("missing in (x)", LABELS, False),
    ("app notin (db)", LABELS, True),
    ("missing notin (db)", LABELS, True),
    ("app notin (web)", LABELS, False),
    ("app", LABELS, True),
    ("missing", LABELS, False),
    ("!missing", LABELS, True),
    ("!app", LABELS, False),
    ("app=web,tier=back", LABELS, False),
    ("n>5", LABELS, True),
    ("n<5", LABELS, False),
    ("app>5", LABELS, False),  # non-integer label value never compares
    ("missing=", LABELS, False),
    ("app=web", None, False),
])
def test_matching(text: str, labels: dict[str, str] | None, expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


def test_requires_exact_match() -> None:
    sel = parse_label_selector("a=1,b in (2),c in (3,4),d!=5")
    assert sel.requires_exact_match("a") == "1"
    assert sel.requires_exact_match("b") == "2"
    assert sel.requires_exact_match("c") is None
    assert sel.requires_exact_match("d") is None
    assert sel.requires_exact_match("zz") is None


def test_object_form_nil_matches_nothing_and_empty_everything() -> None:
    assert not selector_from_object(None).matches({})
    assert not selector_from_object(None).matches({"a": "b"})
    assert selector_from_object({}).matches({"a": "b"})
    assert selector_from_object({"matchLabels": {}, "matchExpressions": []}).matches(None)
    assert selector_from_object({}).empty and not selector_from_object(None).empty


def test_object_form_matching_and_string() -> None:
    obj = {"matchLabels": {"app": "web"},
           "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]},
                                {"key": "canary", "operator": "DoesNotExist"},
                                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                                {"key": "team", "operator": "Exists"}]}
    sel = selector_from_object(obj)
    assert sel.matches({"app": "web", "tier": "edge", "team": "x"})
    assert not sel.matches({"app": "web", "tier": "edge", "team": "x", "canary": "1"})
    assert not sel.matches({"app": "web", "tier": "edge", "team": "x", "env": "prod"})
    assert not sel.matches({"app": "web", "tier": "back", "team": "x"})
    assert selector_to_string(obj) == "app=web,!canary,env notin (prod),team,tier in (edge,front)"


@pytest.mark.parametrize("obj, message", [
    ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
     '"Gt" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
     "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
     'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist'),
    ({"matchLabels": {"a$": "b"}}, 'key: Invalid value: "a$": name part ' + QNAME_RULE),
])
def test_object_form_errors(obj: dict, message: str) -> None:
    with pytest.raises(StatusError) as err:
        selector_from_object(obj)
    assert err.value.code == 400 and err.value.message == message


def test_from_set_and_formatting() -> None:
    assert selector_from_set({"b": "2", "a": "1"}).matches({"a": "1", "b": "2", "c": "3"})
    assert str(selector_from_set({"b": "2", "a": "1"})) == "a=1,b=2"
    assert selector_from_set(None).matches({})
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert format_labels({}) == "<none>"
    assert format_label_selector({"matchLabels": {"app": "x"}}) == "app=x"
    assert format_label_selector({}) == "<none>"
    assert format_label_selector(None) == "<none>"
    assert format_label_selector({"matchExpressions": [{"key": "a", "operator": "Bad"}]}) == "<error>"
