"""Server-side apply and managedFields bookkeeping, scenario by scenario."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.patch import server_side_apply, update_managed_fields
from pocketkube.api.patch.fieldpath import from_fields_v1, path_string, to_fields_v1

T0, T1, T2 = "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"


def manifest(replicas: int | None = 3, image: str = "nginx:1.14.2", labels: bool = True) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}]},
            },
        },
    }
    if labels:
        obj["metadata"]["labels"] = {"app": "nginx"}
    if replicas is not None:
        obj["spec"]["replicas"] = replicas
    return obj


def apply(live: dict[str, Any] | None, cfg: dict[str, Any], manager: str = "kubectl", force: bool = False,
          now: str = T0) -> dict[str, Any]:
    return server_side_apply(live, cfg, manager, force, "apps", "v1", "Deployment", now)


def update(old: dict[str, Any], new: dict[str, Any], manager: str, now: str = T1,
           subresource: str = "") -> dict[str, Any]:
    new = copy.deepcopy(new)
    update_managed_fields(old, new, manager, "Update", "apps", "v1", "Deployment", now, subresource)
    return new


def entries(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


def owners(obj: dict[str, Any], *path: str) -> set[str]:
    return {m for (m, _), e in entries(obj).items() if tuple(path) in from_fields_v1(e["fieldsV1"])}


def test_create_by_apply_records_exact_fields_v1() -> None:
    out = apply(None, manifest())
    assert out["spec"]["replicas"] == 3
    assert out["metadata"]["managedFields"] == [{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {'k:{"name":"nginx"}': {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
                    }}},
                },
            },
        },
    }]


def test_configmap_docs_example() -> None:
    # The example object of https://kubernetes.io/docs/reference/using-api/server-side-apply/
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
          "data": {"key": "some value"}}
    out = server_side_apply(None, cm, "kubectl", False, "", "v1", "ConfigMap", T0)
    (entry,) = out["metadata"]["managedFields"]
    assert entry["fieldsV1"] == {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}
    assert (entry["operation"], entry["apiVersion"]) == ("Apply", "v1")


def test_reapply_without_a_field_removes_it() -> None:
    live = apply(None, manifest())
    out = apply(live, manifest(labels=False), now=T1)
    assert "labels" not in out["metadata"] or not out["metadata"]["labels"]
    assert out["spec"]["replicas"] == 3
    assert entries(out)[("kubectl", "Apply")]["time"] == T1


def test_two_appliers_share_a_field_and_it_survives_one_dropping_it() -> None:
    live = apply(None, manifest())
    other = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"}, "spec": {"replicas": 3}}
    live = apply(live, other, manager="other")  # same value: shared, not a conflict
    assert owners(live, "f:spec", "f:replicas") == {"kubectl", "other"}
    out = apply(live, manifest(replicas=None))
    assert out["spec"]["replicas"] == 3
    assert owners(out, "f:spec", "f:replicas") == {"other"}


def test_conflict_with_an_updater_is_a_409_naming_the_field() -> None:
    live = apply(None, manifest())
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    live = update(live, scaled, "kubectl-scale")
    assert owners(live, "f:spec", "f:replicas") == {"kubectl-scale"}
    with pytest.raises(StatusError) as info:
        apply(live, manifest(replicas=3))
    err = info.value
    assert (err.code, err.reason) == (409, "Conflict")
    assert err.message == ('Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: '
                           ".spec.replicas")
    assert err.status()["details"]["causes"] == [{
        "reason": "FieldManagerConflict", "message": 'conflict with "kubectl-scale" using apps/v1',
        "field": ".spec.replicas"}]


def test_several_conflicts_are_listed_per_manager() -> None:
    live = apply(None, manifest())
    live = apply(live, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"},
                        "spec": {"replicas": 3}}, manager="helm")
    with pytest.raises(StatusError) as info:
        apply(live, manifest(replicas=4, image="nginx:2"), manager="argo")
    assert info.value.message == (
        'Apply failed with 3 conflicts: conflicts with "helm":\n- .spec.replicas\n'
        'conflicts with "kubectl":\n- .spec.replicas\n'
        '- .spec.template.spec.containers[name="nginx"].image')


def test_force_takes_ownership() -> None:
    live = apply(None, manifest())
    out = apply(live, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "nginx"},
                       "spec": {"replicas": 7}}, manager="hpa", force=True, now=T1)
    assert out["spec"]["replicas"] == 7
    assert owners(out, "f:spec", "f:replicas") == {"hpa"}
    # kubectl no longer owns replicas, so dropping it from kubectl's config keeps the value
    again = apply(out, manifest(replicas=None), now=T2)
    assert again["spec"]["replicas"] == 7


def test_update_after_apply_moves_only_changed_fields() -> None:
    live = apply(None, manifest())
    edited = copy.deepcopy(live)
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25"
    out = update(live, edited, "kubectl-edit")
    image = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"nginx"}', "f:image")
    assert owners(out, *image) == {"kubectl-edit"}
    assert owners(out, "f:spec", "f:replicas") == {"kubectl"}
    e = entries(out)[("kubectl-edit", "Update")]
    assert (e["apiVersion"], e["time"]) == ("apps/v1", T1)
    # entries sort Apply before Update
    assert [m["operation"] for m in out["metadata"]["managedFields"]] == ["Apply", "Update"]


def test_apply_prunes_a_container_but_keeps_what_others_own() -> None:
    cfg = manifest()
    cfg["spec"]["template"]["spec"]["containers"].append({"name": "side", "image": "busybox"})
    live = apply(None, cfg)
    edited = copy.deepcopy(live)
    edited["spec"]["template"]["spec"]["containers"][1]["image"] = "busybox:2"
    live = update(live, edited, "kubectl-set")
    out = apply(live, manifest())
    assert out["spec"]["template"]["spec"]["containers"][1] == {"name": "side", "image": "busybox:2"}
    # without another owner the container goes away
    out = apply(apply(None, cfg), manifest())
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["nginx"]


def test_create_update_and_noop_update() -> None:
    obj = manifest()
    created = update({}, obj, "kubectl-create", now=T0)
    assert list(entries(created)) == [("kubectl-create", "Update")]
    same = update(created, created, "someone", now=T1)
    assert list(entries(same)) == [("kubectl-create", "Update")]
    assert same["metadata"]["managedFields"][0]["time"] == T0


def test_status_is_not_owned_by_main_resource_writes() -> None:
    live = apply(None, {**manifest(), "status": {"replicas": 9}})
    assert "status" not in live
    with_status = {**copy.deepcopy(live), "status": {"readyReplicas": 1}}
    out = update(live, with_status, "controller")
    assert ("controller", "Update") not in entries(out)
    out = update(live, with_status, "controller", subresource="status")
    e = entries(out)[("controller", "Update")]
    assert (e["fieldsV1"], e["subresource"]) == ({"f:status": {"f:readyReplicas": {}}}, "status")


def test_client_can_reset_managed_fields() -> None:
    live = apply(None, manifest())
    reset = copy.deepcopy(live)
    reset["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in update(live, reset, "x")["metadata"]


def test_apply_requires_nil_managed_fields() -> None:
    cfg = manifest()
    cfg["metadata"]["managedFields"] = [{"manager": "x"}]
    with pytest.raises(StatusError) as info:
        apply(None, cfg)
    assert info.value.code == 400


def test_set_list_and_list_order() -> None:
    live = apply(None, {**manifest(), "metadata": {"name": "nginx", "finalizers": ["a", "b"]}})
    e = entries(live)[("kubectl", "Apply")]
    # an applier owns the values; an updater that adds the list also owns the list node (".")
    assert e["fieldsV1"]["f:metadata"] == {"f:finalizers": {'v:"a"': {}, 'v:"b"': {}}}
    created = update({}, {**manifest(), "metadata": {"name": "nginx", "finalizers": ["a"]}}, "c")
    assert entries(created)[("c", "Update")]["fieldsV1"]["f:metadata"] == {
        "f:finalizers": {".": {}, 'v:"a"': {}}}
    other = apply(live, {"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": "nginx", "finalizers": ["c", "a"]}}, manager="o")
    assert other["metadata"]["finalizers"] == ["c", "a", "b"]


@pytest.mark.parametrize("path, text", [
    (("f:spec", "f:replicas"), ".spec.replicas"),
    (("f:spec", 'k:{"containerPort":80,"protocol":"TCP"}', "f:x"), '.spec[containerPort=80,protocol="TCP"].x'),
    (("f:metadata", "f:finalizers", 'v:"a"'), '.metadata.finalizers[="a"]'),
])
def test_path_string(path: tuple[str, ...], text: str) -> None:
    assert path_string(path) == text


def test_fields_v1_round_trip_and_order() -> None:
    paths = {("f:b",), ("f:a", "f:z"), ("f:a",), ("f:a", 'k:{"n":"x"}'), ("f:a", 'v:2'), ("f:a", 'v:10')}
    tree = to_fields_v1(paths)
    assert list(tree) == ["f:a", "f:b"]
    assert list(tree["f:a"]) == [".", "f:z", 'k:{"n":"x"}', "v:2", "v:10"]
    assert from_fields_v1(tree) == paths


def test_create_by_update_fields_v1_marks_new_nodes() -> None:
    created = update({}, manifest(), "kubectl-client-side-apply", now=T0)
    (entry,) = created["metadata"]["managedFields"]
    assert entry["fieldsV1"] == {
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {"f:containers": {'k:{"name":"nginx"}': {
                    ".": {}, "f:image": {}, "f:name": {},
                    "f:ports": {".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': {
                        ".": {}, "f:containerPort": {}}},
                }}},
            },
        },
    }
