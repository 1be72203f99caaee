"""Strategic merge patch with the patches kubectl sends, on real Pod/Deployment shapes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pocketkube.api.errors import StatusError
from pocketkube.api.patch import apply_strategic_merge_patch

LAST = "kubectl.kubernetes.io/last-applied-configuration"


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                     "annotations": {LAST: "{}"}, "finalizers": ["a", "b"]},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}],
                         "args": ["-a", "-b"], "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                        {"name": "side", "image": "busybox"},
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "nodeSelector": {"disk": "ssd", "zone": "a"},
                },
            },
        },
    }


def smp(patch: dict[str, Any], obj: dict[str, Any] | None = None) -> dict[str, Any]:
    obj = obj or deployment()
    before = copy.deepcopy(obj)
    out = apply_strategic_merge_patch(obj, patch, "apps", "v1", "Deployment")
    assert obj == before, "the input object must not be mutated"
    return out


def pod_spec(out: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = out["spec"]["template"]["spec"]
    return spec


def test_set_image_patches_one_container_by_name() -> None:
    # kubectl set image deployment/web nginx=nginx:1.25
    out = smp({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}})
    assert [(c["name"], c["image"]) for c in pod_spec(out)["containers"]] == [
        ("nginx", "nginx:1.25"), ("side", "busybox")]
    assert pod_spec(out)["containers"][0]["ports"] == [{"containerPort": 80}]


def test_kubectl_apply_three_way_patch() -> None:
    # What kubectl apply sends after the manifest drops `replicas`, bumps the image and env A,
    # and removes env B (last-applied had it).
    patch = {
        "metadata": {"annotations": {LAST: '{"new":1}'}},
        "spec": {"replicas": None, "template": {"spec": {
            "$setElementOrder/containers": [{"name": "nginx"}, {"name": "side"}],
            "containers": [{"$setElementOrder/env": [{"name": "A"}], "name": "nginx", "image": "nginx:1.16.1",
                            "env": [{"name": "A", "value": "10"}, {"$patch": "delete", "name": "B"}]}],
        }}},
    }
    out = smp(patch)
    expected = deployment()
    del expected["spec"]["replicas"]
    expected["metadata"]["annotations"][LAST] = '{"new":1}'
    nginx = expected["spec"]["template"]["spec"]["containers"][0]
    nginx["image"] = "nginx:1.16.1"
    nginx["env"] = [{"name": "A", "value": "10"}]
    assert out == expected


@pytest.mark.parametrize("patch, path, expected", [
    # kubectl scale / label / annotate / rollout restart
    ({"spec": {"replicas": 5}}, ("spec", "replicas"), 5),
    ({"metadata": {"labels": {"env": "prod", "app": None}}}, ("metadata", "labels"), {"env": "prod"}),
    ({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "t"}}}}},
     ("spec", "template", "metadata"), {"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "t"}}),
    # atomic/replace lists replace; a map without strategy merges
    ({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "args": ["-c"]}]}}}},
     ("spec", "template", "spec", "containers", 0, "args"), ["-c"]),
    ({"spec": {"template": {"spec": {"nodeSelector": {"zone": "b"}}}}},
     ("spec", "template", "spec", "nodeSelector"), {"disk": "ssd", "zone": "b"}),
    # merge list of scalars is a union; $deleteFromPrimitiveList removes
    ({"metadata": {"finalizers": ["b", "c"]}}, ("metadata", "finalizers"), ["a", "b", "c"]),
    ({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, ("metadata", "finalizers"), ["b"]),
    # a new container is appended; $patch: delete removes one by merge key
    ({"spec": {"template": {"spec": {"containers": [{"name": "new", "image": "x", "tty": None}]}}}},
     ("spec", "template", "spec", "containers"),
     [*deployment()["spec"]["template"]["spec"]["containers"], {"name": "new", "image": "x"}]),
    ({"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}},
     ("spec", "template", "spec", "containers"), deployment()["spec"]["template"]["spec"]["containers"][:1]),
    # $patch: replace on a list item replaces the whole list; on a map, the map
    ({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "i"}]}}}},
     ("spec", "template", "spec", "containers"), [{"name": "only", "image": "i"}]),
    ({"spec": {"template": {"metadata": {"labels": {"$patch": "replace", "x": "y"}}}}},
     ("spec", "template", "metadata", "labels"), {"x": "y"}),
    ({"spec": {"template": {"spec": {"nodeSelector": {"$patch": "delete"}}}}},
     ("spec", "template", "spec", "nodeSelector"), {}),
    # retainKeys (strategy): switching RollingUpdate → Recreate drops rollingUpdate
    ({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}, ("spec", "strategy"), {"type": "Recreate"}),
    # retainKeys on volumes (merge,retainKeys): switch a volume's source
    ({"spec": {"template": {"spec": {"volumes": [
        {"$retainKeys": ["hostPath", "name"], "name": "data", "hostPath": {"path": "/d"}, "emptyDir": None}]}}}},
     ("spec", "template", "spec", "volumes"), [{"name": "data", "hostPath": {"path": "/d"}}]),
    # ports merge by containerPort
    ({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "ports": [{"containerPort": 443}]}]}}}},
     ("spec", "template", "spec", "containers", 0, "ports"), [{"containerPort": 80}, {"containerPort": 443}]),
])
def test_strategic_cases(patch: dict[str, Any], path: tuple[Any, ...], expected: Any) -> None:
    value: Any = smp(patch)
    for step in path:
        value = value.get(step) if isinstance(step, str) else value[step]
    assert value == expected


@pytest.mark.parametrize("server, order, expected", [
    (["a", "b", "c"], ["c", "a"], ["b", "c", "a"]),      # b (server only) precedes c as on the server
    (["a", "b", "c"], ["c", "b", "a"], ["c", "b", "a"]),
    (["a", "b"], ["b", "a", "n"], ["b", "a", "n"]),       # a patch item new to the server
])
def test_set_element_order(server: list[str], order: list[str], expected: list[str]) -> None:
    obj = deployment()
    pod_spec(obj)["containers"] = [{"name": n, "image": "i"} for n in server]
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": n} for n in order],
        "containers": [{"name": n, "image": "i"} for n in order if n not in server]}}}}
    assert [c["name"] for c in pod_spec(smp(patch, obj))["containers"]] == expected


def test_set_element_order_primitive_list() -> None:
    patch = {"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}}
    assert smp(patch)["metadata"]["finalizers"] == ["c", "b", "a"]


@pytest.mark.parametrize("patch", [
    {"spec": {"template": {"spec": {"containers": [{"image": "no-name"}]}}}},
    {"spec": {"template": {"spec": {"containers": [{"$patch": "delete"}]}}}},
    {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
    {"spec": {"strategy": {"$patch": "bogus"}}},
])
def test_malformed_patches_are_bad_requests(patch: dict[str, Any]) -> None:
    with pytest.raises(StatusError) as info:
        smp(patch)
    assert (info.value.code, info.value.reason) == (400, "BadRequest")


def test_unknown_kind_is_unsupported_media_type() -> None:
    with pytest.raises(StatusError) as info:
        apply_strategic_merge_patch({"spec": {}}, {"spec": {"a": 1}}, "example.com", "v1", "Widget")
    assert (info.value.code, info.value.reason) == (415, "UnsupportedMediaType")


def test_pod_patch_from_bytes() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "a"}, {"name": "d", "image": "b"}]}}
    out = apply_strategic_merge_patch(pod, b'{"spec":{"containers":[{"name":"d","image":"z"}]}}', "", "v1", "Pod")
    assert out["spec"]["containers"] == [{"name": "c", "image": "a"}, {"name": "d", "image": "z"}]
