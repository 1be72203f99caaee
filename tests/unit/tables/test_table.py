"""The Table envelope: rows, includeObject modes, metadata and the default table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.resources import ResourceInfo, lookup
from pocketkube.api.tables import build_table, column_definitions, row_cells

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NS = lookup("", "v1", "namespaces")
PODS = lookup("", "v1", "pods")
OBJ = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "creationTimestamp": "2024-05-01T11:00:00Z",
                                                              "resourceVersion": "7"},
       "status": {"phase": "Active"}}


def test_metadata_mode_is_the_default() -> None:
    table = build_table(NS, [OBJ], NOW, resource_version="9", continue_token="abc")
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "9", "continue": "abc"}
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert table["rows"] == [{"cells": ["a", "Active", "60m"], "object": {
        "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": OBJ["metadata"]}}]


@pytest.mark.parametrize("mode, obj", [("Object", OBJ), ("None", None), ("", "partial")])
def test_include_object_modes(mode: str, obj: object) -> None:
    row = build_table(NS, [OBJ], NOW, mode)["rows"][0]
    if obj == "partial":
        assert row["object"]["kind"] == "PartialObjectMetadata"
    else:
        assert row["object"] == obj


def test_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(StatusError) as err:
        build_table(NS, [OBJ], NOW, "Everything")
    assert err.value.code == 400 and err.value.message == 'unrecognized includeObject value: "Everything"'


def test_empty_list_and_no_headers() -> None:
    table = build_table(NS, [], NOW, no_headers=True)
    assert table["rows"] == [] and "columnDefinitions" not in table and table["metadata"] == {}


def test_pod_rows_carry_completion_conditions() -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Succeeded"}}
    row = build_table(PODS, [pod], NOW)["rows"][0]
    assert row["conditions"][0]["type"] == "Completed"
    running = {**pod, "status": {"phase": "Running"}}
    assert "conditions" not in build_table(PODS, [running], NOW)["rows"][0]


def test_default_table_for_resources_without_a_printer() -> None:
    widget = ResourceInfo("example.com", "v1", "Widget", "widgets", "widget", True)
    assert [(c["name"], c["type"], c["format"]) for c in column_definitions(widget)] == \
        [("Name", "string", "name"), ("Created At", "date", "")]
    obj = {"metadata": {"name": "w", "creationTimestamp": "2024-05-01T11:00:00+00:00"}}
    assert row_cells(widget, obj, NOW) == ["w", "2024-05-01T11:00:00Z"]
